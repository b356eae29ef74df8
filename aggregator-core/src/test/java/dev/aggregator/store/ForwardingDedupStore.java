package dev.aggregator.store;

import dev.aggregator.ClaimStats;
import dev.aggregator.EventPage;
import dev.aggregator.EventQuery;
import dev.aggregator.Outcome;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A store that passes every call to another, so a test can override the one call it needs to block,
 * fail or observe. Shipped in core's test-jar for every module's tests.
 */
public class ForwardingDedupStore implements DedupStore {
  private final DedupStore delegate;

  /** Forwards to {@code delegate}. */
  public ForwardingDedupStore(DedupStore delegate) {
    this.delegate = delegate;
  }

  @Override
  public List<Outcome> append(List<PendingEvent> batch) {
    return delegate.append(batch);
  }

  @Override
  public void retain(Retention retention) {
    delegate.retain(retention);
  }

  @Override
  public Optional<Instant> nextExpiry() {
    return delegate.nextExpiry();
  }

  @Override
  public ClaimState claim(
      String topic, String eventId, String token, Instant now, Instant leaseExpiresAt) {
    return delegate.claim(topic, eventId, token, now, leaseExpiresAt);
  }

  @Override
  public boolean endClaim(String topic, String eventId, String token, boolean confirmed) {
    return delegate.endClaim(topic, eventId, token, confirmed);
  }

  @Override
  public ClaimStats claimStats() {
    return delegate.claimStats();
  }

  @Override
  public EventPage events(EventQuery query) {
    return delegate.events(query);
  }

  @Override
  public StoreStats stats() {
    return delegate.stats();
  }

  @Override
  public void probe() {
    delegate.probe();
  }

  @Override
  public String describe() {
    return "forwarding:" + delegate.describe();
  }

  @Override
  public void close() {
    delegate.close();
  }
}
