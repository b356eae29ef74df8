package dev.aggregator.camel;

import dev.aggregator.Claim;
import dev.aggregator.ConsumerGuard;
import dev.aggregator.Event;
import dev.aggregator.EventAggregator;
import dev.aggregator.EventRules;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.camel.Exchange;
import org.apache.camel.spi.IdempotentRepository;
import org.apache.camel.support.service.ServiceSupport;

/**
 * Camel's idempotent consumer backed by an {@link EventAggregator}: each message id of the
 * repository's topic is processed once, durably, also across restarts, through a {@link
 * ConsumerGuard}.
 *
 * <pre>{@code
 * AggregatorIdempotentRepository repo =
 *     AggregatorIdempotentRepository.builder(aggregator).topic("orders").build();
 * from("jms:orders")
 *     .idempotentConsumer(header("orderId"), repo)
 *     .eager(true).removeOnFailure(true).completionEager(false)
 *     .to("bean:orderService");
 * }</pre>
 *
 * <p>How Camel's calls map onto the guard, for the eager idempotent consumer ({@code eager(true)},
 * Camel's default):
 *
 * <ul>
 *   <li>{@link #add} claims {@code (topic, key)} before the exchange is processed: true if the
 *       claim was acquired, so the exchange runs; false if the key is confirmed (a duplicate)
 *       <em>or</em> another exchange holds its claim (in progress, here or on another node sharing
 *       the store). Camel has no "retry later" answer, so an in-progress key is skipped like a
 *       duplicate: the holder's outcome decides, and if it fails and releases the key, a later
 *       redelivery from the broker runs it. A claim of a holder that died is taken over once its
 *       lease runs out.
 *   <li>{@link #confirm} (after the exchange completed, with {@code completionEager(false)})
 *       confirms the claim: the key becomes a stored event of the topic, counted like any other,
 *       and every later {@code add} of it is false.
 *   <li>{@link #remove} (after a failed exchange, with {@code removeOnFailure(true)}) releases the
 *       claim: the next delivery of the key runs again.
 * </ul>
 *
 * <p>Not supported: {@link #contains}, so the non-eager idempotent consumer ({@code eager(false)})
 * and other users of {@code contains} fail at their first message rather than process duplicates;
 * and {@link #clear}, because confirmed keys are stored events (retention removes them). With
 * {@code removeOnFailure(false)} a failed exchange keeps its claim until its lease runs out, then
 * the next delivery runs it again: the guard never turns a failure into a confirmed key.
 *
 * <p>The repository uses the aggregator and does not close it: the application owns it and closes
 * it after the Camel context stopped. Thread-safe. Claims held by this repository are kept in
 * memory by key until Camel confirms or removes them: one entry per exchange in flight, plus, with
 * {@code removeOnFailure(false)}, one per failed key until that key is delivered again.
 */
public final class AggregatorIdempotentRepository extends ServiceSupport
    implements IdempotentRepository {

  private final ConsumerGuard guard;
  private final String topic;
  // The claim's token is needed to confirm or release it, and the key-only methods get just the
  // key back. The exchange methods, which Camel's idempotent consumer calls, also keep the claim
  // on the exchange, so that a late exchange whose lease ran out ends its own claim, never the
  // entry of the exchange that took the key over.
  private final ConcurrentMap<String, Claim> held = new ConcurrentHashMap<>();
  private final String claimProperty;

  private AggregatorIdempotentRepository(ConsumerGuard guard, String topic) {
    this.guard = guard;
    this.topic = topic;
    this.claimProperty = AggregatorIdempotentRepository.class.getName() + ".claim." + topic + ".";
  }

  /** A builder for a repository over {@code aggregator}, which it uses and does not close. */
  public static Builder builder(EventAggregator aggregator) {
    return new Builder(aggregator);
  }

  /**
   * Claims the key: true if this caller may process the exchange now, false if the key was
   * processed already or is being processed by another exchange.
   *
   * @throws dev.aggregator.EventValidationException if the key is not a valid event id
   * @throws dev.aggregator.StoreException if the claim could not be committed
   * @throws dev.aggregator.AggregatorClosedException if the aggregator is closed
   */
  @Override
  public boolean add(String key) {
    return claim(key) != null;
  }

  /** As {@link #add(String)}, keeping the claim on the exchange for its confirm or remove. */
  @Override
  public boolean add(Exchange exchange, String key) {
    Claim claim = claim(key);
    if (claim == null) {
      return false;
    }
    exchange.setProperty(claimProperty + key, claim);
    return true;
  }

  /** The acquired claim, also kept by key; null if the key is confirmed or in progress. */
  private Claim claim(String key) {
    Claim claim = guard.claim(Event.of(topic, key));
    if (!claim.acquired()) {
      return null;
    }
    // A previous entry of the key can only be a claim whose lease ran out (the store gave the key
    // to this caller): its confirm or release is decided by its own token.
    held.put(key, claim);
    return claim;
  }

  /**
   * Confirms the claim of {@code key} taken by {@link #add}: the key is stored and every later
   * {@code add} of it is false.
   *
   * @return false if this repository held no claim of the key
   * @throws dev.aggregator.StoreException if the confirmation could not be committed; the claim
   *     then stays until its lease runs out
   */
  @Override
  public boolean confirm(String key) {
    Claim claim = held.remove(key);
    if (claim == null) {
      return false;
    }
    guard.confirm(claim);
    return true;
  }

  /**
   * As {@link #confirm(String)}, for the claim this exchange took. If its lease ran out and another
   * exchange took the key over, the key is still stored (the work was done), and the other
   * exchange's confirm then finds it stored.
   */
  @Override
  public boolean confirm(Exchange exchange, String key) {
    Claim claim = exchange.getProperty(claimProperty + key, Claim.class);
    if (claim == null) {
      return confirm(key);
    }
    exchange.removeProperty(claimProperty + key);
    held.remove(key, claim);
    guard.confirm(claim);
    return true;
  }

  /**
   * Releases the claim of {@code key} taken by {@link #add}, so that the next delivery of the key
   * is processed. A confirmed key is never removed.
   *
   * @return false if this repository held no claim of the key, or its lease had run out and another
   *     delivery took it over
   */
  @Override
  public boolean remove(String key) {
    Claim claim = held.remove(key);
    if (claim == null) {
      return false;
    }
    return guard.release(claim);
  }

  /**
   * As {@link #remove(String)}, for the claim this exchange took: false, and the key left to its
   * new holder, if its lease ran out and another exchange took the key over.
   */
  @Override
  public boolean remove(Exchange exchange, String key) {
    Claim claim = exchange.getProperty(claimProperty + key, Claim.class);
    if (claim == null) {
      return remove(key);
    }
    exchange.removeProperty(claimProperty + key);
    held.remove(key, claim);
    return guard.release(claim);
  }

  /**
   * Not supported: the guard answers whether a key is free only by claiming it, which {@code
   * contains} must not do. Use the eager idempotent consumer, which calls {@link #add} instead.
   *
   * @throws UnsupportedOperationException always
   */
  @Override
  public boolean contains(String key) {
    throw new UnsupportedOperationException(
        "AggregatorIdempotentRepository supports the eager idempotent consumer only"
            + " (idempotentConsumer(...).eager(true)); contains(\""
            + key
            + "\") was called");
  }

  /**
   * Not supported: confirmed keys are stored events of the topic, removed by the aggregator's
   * retention only.
   *
   * @throws UnsupportedOperationException always
   */
  @Override
  public void clear() {
    throw new UnsupportedOperationException(
        "confirmed keys of topic " + topic + " are stored events; retention removes them");
  }

  /** The topic whose event ids are this repository's keys. */
  public String topic() {
    return topic;
  }

  /** How many claims this repository holds now: exchanges between add and confirm or remove. */
  public int claimsHeld() {
    return held.size();
  }

  @Override
  public String toString() {
    return "AggregatorIdempotentRepository[topic=" + topic + ", lease=" + guard.lease() + "]";
  }

  /** Configures an {@link AggregatorIdempotentRepository}. */
  public static final class Builder {
    private final EventAggregator aggregator;
    private String topic = "camel";
    private Duration lease;

    private Builder(EventAggregator aggregator) {
      this.aggregator = Objects.requireNonNull(aggregator, "aggregator");
    }

    /**
     * The topic whose event ids are the repository's keys. Default {@code camel}; give each route
     * (Camel's processor name) a topic of its own so that their keys do not collide.
     *
     * @throws dev.aggregator.EventValidationException if it is not a valid topic
     */
    public Builder topic(String topic) {
      Objects.requireNonNull(topic, "topic");
      // Fails fast, with the aggregator's own rule and message, rather than at the first message.
      EventRules.check(List.of(Event.of(topic, "probe")), EventRules.DEFAULT_MAX_PAYLOAD_BYTES);
      this.topic = topic;
      return this;
    }

    /**
     * How long a claim holds its key if its exchange neither completes nor fails (the process
     * died): then the next delivery takes it over. Longer than the slowest exchange. Default: the
     * guard's, 5 minutes.
     *
     * @throws IllegalArgumentException if {@code lease} is zero or negative
     */
    public Builder lease(Duration lease) {
      Objects.requireNonNull(lease, "lease");
      if (lease.isZero() || lease.isNegative()) {
        throw new IllegalArgumentException("lease must be positive, was " + lease);
      }
      this.lease = lease;
      return this;
    }

    /**
     * The repository.
     *
     * @throws IllegalArgumentException if the aggregator was not built by {@link
     *     EventAggregator#builder()}
     */
    public AggregatorIdempotentRepository build() {
      ConsumerGuard.Builder guard = ConsumerGuard.builder(aggregator);
      if (lease != null) {
        guard.lease(lease);
      }
      return new AggregatorIdempotentRepository(guard.build(), topic);
    }
  }
}
