package dev.aggregator.store;

import dev.aggregator.ClaimStats;
import dev.aggregator.EventPage;
import dev.aggregator.EventQuery;
import dev.aggregator.Outcome;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where events are kept, exactly once per {@code (topic, eventId)}. The SPI behind {@link
 * dev.aggregator.EventAggregator}; every implementation passes the conformance suite {@code
 * DedupStoreConformanceTest} shipped in this module's test-jar.
 *
 * <p>Threads: {@link #append}, {@link #probe}, {@link #retain}, {@link #claim} and {@link
 * #endClaim} are called by one thread at a time (the aggregator's writer); {@link #events}, {@link
 * #stats}, {@link #claimStats} and {@link #nextExpiry} may be called from any thread at any time,
 * also during an append, and see only committed data.
 *
 * <p>Claims ({@link dev.aggregator.ConsumerGuard}) are kept apart from the events: a claim is a row
 * of its own, never an event, so that {@link #append}, reads and counters do not change for them
 * and a publish pays nothing for them. A claim ends in one of two ways: the guard publishes the
 * event (an ordinary append) and then ends the claim as confirmed, or ends it as released. A key
 * that is stored is a duplicate whatever claim rows exist, so a process that dies between the two
 * steps of a confirmation leaves a claim row that no longer matters.
 */
public interface DedupStore extends AutoCloseable {

  /**
   * Stores every event of {@code batch} whose key is not stored yet, and updates the counters, in
   * one transaction. A key that occurs twice in the batch is stored once: the first occurrence is
   * {@link Outcome#ACCEPTED}, the later ones {@link Outcome#DUPLICATE}. A store that compares the
   * payload of each duplicate with the stored event's ({@link PendingEvent#samePayload}) returns an
   * {@link AppendResult} naming the conflicting ones, and counts them in {@link
   * StoreStats#payloadConflicts()}; the stored event never changes.
   *
   * <p>Under a {@link #retain retention}, the same transaction first treats every event that has
   * expired by age as gone, and then removes a bounded step of expired events (by age, or the
   * oldest beyond {@code maxEvents}) with their keys; an empty batch does only that.
   *
   * @return one outcome per event, in batch order, once the transaction is committed
   * @throws dev.aggregator.StoreException if the transaction failed; it was rolled back and nothing
   *     of the batch is stored or counted
   */
  List<Outcome> append(List<PendingEvent> batch);

  /**
   * Keeps events from now on only as {@code retention} says; replaces an earlier retention. Stores
   * that support it keep this contract, which the conformance suite checks:
   *
   * <ul>
   *   <li>An event received at {@code r} expires by age at {@code r + maxAge} by the retention's
   *       clock. The receive time is {@link PendingEvent#receivedAt}, raised to that of an event
   *       committed before it where that is later, so that receive times never decrease in commit
   *       order and events expire oldest first; an event never expires before {@code maxAge} has
   *       passed since it was received.
   *   <li>Until then its key is a duplicate and {@link #events} returns it; from then on {@link
   *       #events} no longer returns it and an append accepts its key as new (counted in {@code
   *       uniqueProcessed}), whether or not its row was removed yet.
   *   <li>The append that stores the {@code maxEvents + 1}-th event removes the oldest; an event
   *       beyond the count is stored (returned, a duplicate) until it is removed.
   *   <li>Removal goes in bounded steps inside the transactions of appends, so that no transaction
   *       becomes large: after a long stop, or a lowered {@code maxEvents}, it takes several
   *       appends, which {@link #nextExpiry} asks for; a store may also remove the events committed
   *       together only once the last of them expired. A removed event is counted in {@code
   *       expired} and leaves {@code topicCounts}; {@code stored == uniqueProcessed - expired}
   *       always, and counts events expired by age but not yet removed.
   *   <li>Removal is durable: a store reopened never returns a removed event nor forgets the key of
   *       a stored one. The retention itself is not stored: pass it again after reopening.
   * </ul>
   *
   * @throws UnsupportedOperationException if this store cannot expire events (the default)
   */
  default void retain(Retention retention) {
    throw new UnsupportedOperationException(describe() + " does not support retention");
  }

  /**
   * When the next removal is due, as of the last commit: a time not after now while more events are
   * stored than {@code maxEvents} or expired events wait to be removed, else the time the oldest
   * stored event expires by age, or a little later (a store may remove the events committed
   * together, together). An append, an empty one will do, at or after that time removes the next
   * step. Empty without a retention, or when nothing will expire before more events come.
   */
  default Optional<Instant> nextExpiry() {
    return Optional.empty();
  }

  /**
   * Claims {@code (topic, eventId)} for {@code token} until {@code leaseExpiresAt}, durably, in a
   * transaction of its own: once this returns {@link dev.aggregator.Claim.Status#ACQUIRED} the
   * claim survives a crash of the process. Decides, in this order:
   *
   * <ol>
   *   <li>the key is stored (and, under a retention, not expired at the retention's clock): {@link
   *       ClaimState#DUPLICATE}, and no claim row is written; a claim of the key whose lease ended
   *       by {@code now} is a confirmation whose holder died before ending it, and is ended and
   *       counted as confirmed;
   *   <li>another claim holds the key and its lease ends after {@code now}: {@link
   *       dev.aggregator.Claim.Status#IN_PROGRESS} with that lease's end, nothing written;
   *   <li>otherwise the claim row is written for {@code token}: {@link
   *       dev.aggregator.Claim.Status#ACQUIRED}. Replacing a claim whose lease had ended counts a
   *       lease expiry.
   * </ol>
   *
   * A store shared by several processes decides atomically across them: of two claims of one key at
   * the same time, one is acquired.
   *
   * @throws UnsupportedOperationException if this store keeps no claims (the default)
   * @throws dev.aggregator.StoreException if the transaction failed; nothing was written
   */
  default ClaimState claim(
      String topic, String eventId, String token, Instant now, Instant leaseExpiresAt) {
    throw new UnsupportedOperationException(describe() + " does not support claims");
  }

  /**
   * Ends the claim of {@code (topic, eventId)} if {@code token} still holds it, counting it as
   * confirmed (the guard has published the event) or as released.
   *
   * @return whether {@code token} held the claim; false if it had ended already or was taken over
   *     after its lease ran out, and then nothing changes
   * @throws UnsupportedOperationException if this store keeps no claims (the default)
   * @throws dev.aggregator.StoreException if the transaction failed; the claim is unchanged
   */
  default boolean endClaim(String topic, String eventId, String token, boolean confirmed) {
    throw new UnsupportedOperationException(describe() + " does not support claims");
  }

  /** The claim counters as of the last commit; {@link ClaimStats#NONE} if no claims are kept. */
  default ClaimStats claimStats() {
    return ClaimStats.NONE;
  }

  /**
   * A page of one topic's stored events.
   *
   * @throws IllegalArgumentException if the cursor was not made by this store
   */
  EventPage events(EventQuery query);

  /** The counters and topics as of the last committed append. */
  StoreStats stats();

  /**
   * Checks that the store answers now, with a real round trip to where its data lives (a read on
   * its connection, a query to its database), bounded in time by the store. The aggregator's writer
   * calls it, like {@link #append}, when it has committed nothing for a while, and reports the
   * store unhealthy while it fails: an empty {@link #append} may not reach the database at all.
   *
   * @throws dev.aggregator.StoreException naming the store and the reason if it does not answer, or
   *     is closed
   */
  void probe();

  /** What this store is and where its data lives, for logs and error messages. */
  String describe();

  /**
   * Releases the store's resources. Idempotent. Afterwards {@link #append} and {@link #probe} throw
   * a {@link dev.aggregator.StoreException} saying the store is closed.
   */
  @Override
  void close();
}
