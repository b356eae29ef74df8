package dev.aggregator.store;

import dev.aggregator.EventPage;
import dev.aggregator.EventQuery;
import dev.aggregator.Outcome;
import java.util.List;

/**
 * Where events are kept, exactly once per {@code (topic, eventId)}. The SPI behind {@link
 * dev.aggregator.EventAggregator}; every implementation passes the conformance suite {@code
 * DedupStoreConformanceTest} shipped in this module's test-jar.
 *
 * <p>Threads: {@link #append} is called by one thread at a time (the aggregator's writer); {@link
 * #events} and {@link #stats} may be called from any thread at any time, also during an append, and
 * see only committed data.
 */
public interface DedupStore extends AutoCloseable {

  /**
   * Stores every event of {@code batch} whose key is not stored yet, and updates the counters, in
   * one transaction. A key that occurs twice in the batch is stored once: the first occurrence is
   * {@link Outcome#ACCEPTED}, the later ones {@link Outcome#DUPLICATE}.
   *
   * @return one outcome per event, in batch order, once the transaction is committed
   * @throws dev.aggregator.StoreException if the transaction failed; it was rolled back and nothing
   *     of the batch is stored or counted
   */
  List<Outcome> append(List<PendingEvent> batch);

  /**
   * A page of one topic's stored events.
   *
   * @throws IllegalArgumentException if the cursor was not made by this store
   */
  EventPage events(EventQuery query);

  /** The counters and topics as of the last committed append. */
  StoreStats stats();

  /** What this store is and where its data lives, for logs and error messages. */
  String describe();

  /** Releases the store's resources. Idempotent. */
  @Override
  void close();
}
