package dev.aggregator.internal;

import dev.aggregator.Event;
import dev.aggregator.store.ClaimState;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * What {@link dev.aggregator.ConsumerGuard} needs of an aggregator beyond its public API: claims
 * decided by the aggregator's single writer, in the order of the queue, like appends. Not public
 * API: the guard is the way to use it.
 */
public interface StoreTasks {

  /**
   * Claims the key for {@code token} for {@code lease} from the time the writer decides, on the
   * writer thread; see {@link dev.aggregator.store.DedupStore#claim}.
   *
   * @throws dev.aggregator.AggregatorClosedException if the aggregator is closed
   */
  CompletableFuture<ClaimState> claim(String topic, String eventId, String token, Duration lease);

  /**
   * Ends the claim on the writer thread; see {@link dev.aggregator.store.DedupStore#endClaim}.
   *
   * @throws dev.aggregator.AggregatorClosedException if the aggregator is closed
   */
  CompletableFuture<Boolean> endClaim(
      String topic, String eventId, String token, boolean confirmed);

  /**
   * Checks {@code event} against the rules a publish checks, so that a handler never runs for an
   * event that could not be confirmed.
   *
   * @throws dev.aggregator.EventValidationException if it breaks one
   */
  void validate(Event event);

  /** The aggregator's clock: leases are told by it. */
  Clock clock();
}
