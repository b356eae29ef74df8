package dev.aggregator;

import dev.aggregator.internal.StoreTasks;
import dev.aggregator.store.ClaimState;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Runs a consumer's handler once per {@code (topic, eventId)} under at-least-once delivery (Kafka,
 * RabbitMQ, JMS, webhooks): claim the key durably, run the handler, then confirm the key (later
 * deliveries are duplicates) or, if the handler throws, release it (the next delivery runs it
 * again).
 *
 * <pre>{@code
 * ConsumerGuard guard = ConsumerGuard.builder(aggregator).lease(Duration.ofMinutes(5)).build();
 * Claim claim = guard.process(event, e -> chargeCard(e.payload()));
 * switch (claim.status()) {
 *   case ACQUIRED -> ack();          // the handler ran and its key is confirmed
 *   case DUPLICATE -> ack();         // handled before; the handler did not run
 *   case IN_PROGRESS -> retryLater(claim.leaseLeft()); // another delivery is handling it
 * }
 * }</pre>
 *
 * <p>What each guarantee means:
 *
 * <ul>
 *   <li>The claim is committed by the aggregator's writer, in a transaction of its own, before the
 *       handler runs: a crash after that finds the claim.
 *   <li>A handler that returns is confirmed: the event is published (an ordinary stored event,
 *       counted, readable and deduplicated like any other), then the claim ends. Every later
 *       delivery is {@link Claim.Status#DUPLICATE}, also after a restart.
 *   <li>A handler that throws has its claim released and the exception rethrown: the next delivery
 *       runs it again.
 *   <li>A process that dies inside the handler leaves its claim; once the lease has run out, the
 *       next delivery takes the key over and runs the handler again. So a handler runs at least
 *       once, never zero times, and more than once only if a process died or a handler outlived its
 *       lease: choose a lease longer than the slowest handler.
 *   <li>Two deliveries of one key at the same time, on threads of one process or on nodes sharing a
 *       PostgreSQL store: one acquires the key; the other is told {@link Claim.Status#IN_PROGRESS}
 *       with the lease left, not that the work is done.
 * </ul>
 *
 * <p>The handler's own side effects are not undone by a release or a crash: make them idempotent or
 * transactional. With PostgreSQL, {@code PostgresDedupStore} can record the key in the
 * application's own transaction instead, so that the key and the business write commit together.
 *
 * <p>Thread-safe. Leases are told by the aggregator's clock ({@link
 * EventAggregator.Builder#clock}); nodes sharing a store should have synchronized clocks. Claims
 * count in {@link AggregatorStats#claims()}.
 */
public final class ConsumerGuard {

  /** The work to run once per key. */
  @FunctionalInterface
  public interface Handler<X extends Exception> {
    /** Handles the event; throwing releases its key so that the next delivery runs it again. */
    void handle(Event event) throws X;
  }

  private final EventAggregator aggregator;
  private final StoreTasks tasks;
  private final Duration lease;

  private ConsumerGuard(EventAggregator aggregator, StoreTasks tasks, Duration lease) {
    this.aggregator = aggregator;
    this.tasks = tasks;
    this.lease = lease;
  }

  /** A guard with the default lease of 5 minutes. */
  public static ConsumerGuard of(EventAggregator aggregator) {
    return builder(aggregator).build();
  }

  /** A builder for a guard over {@code aggregator}, which it uses and does not close. */
  public static Builder builder(EventAggregator aggregator) {
    return new Builder(aggregator);
  }

  /**
   * Claims the event's key, runs {@code handler} if the claim was acquired, and confirms the key
   * (publishes the event) when the handler returns.
   *
   * @return the claim: {@link Claim.Status#ACQUIRED} if the handler ran and the key is confirmed,
   *     else why the handler did not run
   * @throws X what the handler threw, after its claim was released (a failure to release is added
   *     as suppressed: the lease then frees the key)
   * @throws EventValidationException if the event breaks a rule of {@link Event}; nothing is
   *     claimed
   * @throws StoreException if the claim or the confirmation could not be committed; after the
   *     handler ran, the claim then stays until its lease runs out
   * @throws QueueFullException if the queue had no room for the confirmation; the claim then stays
   *     until its lease runs out
   * @throws AggregatorClosedException if the aggregator is closed
   */
  public <X extends Exception> Claim process(Event event, Handler<X> handler) throws X {
    Objects.requireNonNull(handler, "handler");
    Claim claim = claim(event);
    if (!claim.acquired()) {
      return claim;
    }
    try {
      handler.handle(event);
    } catch (Exception | Error e) {
      try {
        release(claim);
      } catch (RuntimeException releaseFailed) {
        e.addSuppressed(releaseFailed);
      }
      throw e;
    }
    confirm(claim);
    return claim;
  }

  /**
   * Claims the event's key for this guard's lease, durably: the lower-level step of {@link
   * #process}. After {@link Claim.Status#ACQUIRED} the caller runs its work, then calls {@link
   * #confirm} or {@link #release}; a caller that does neither loses the key when the lease runs
   * out.
   *
   * @throws EventValidationException if the event breaks a rule of {@link Event}
   * @throws StoreException if the claim could not be committed
   * @throws AggregatorClosedException if the aggregator is closed
   */
  public Claim claim(Event event) {
    Objects.requireNonNull(event, "event");
    tasks.validate(event);
    String token = UUID.randomUUID().toString();
    ClaimState state = join(tasks.claim(event.topic(), event.eventId(), token, lease));
    Clock clock = tasks.clock();
    return switch (state.status()) {
      case DUPLICATE -> new Claim(Claim.Status.DUPLICATE, event, null, null, Duration.ZERO);
      case IN_PROGRESS ->
          new Claim(
              Claim.Status.IN_PROGRESS,
              event,
              null,
              state.leaseExpiresAt(),
              left(clock.instant(), state.leaseExpiresAt()));
      case ACQUIRED ->
          new Claim(
              Claim.Status.ACQUIRED,
              event,
              token,
              state.leaseExpiresAt(),
              left(clock.instant(), state.leaseExpiresAt()));
    };
  }

  /**
   * Confirms an acquired claim: publishes its event, durably, then ends the claim. Later deliveries
   * of the key are duplicates. Confirming after the lease ran out still stores the event; the
   * delivery that took the key over then finds it a duplicate when it confirms.
   *
   * @return the publish's result: {@link Outcome#ACCEPTED}, or {@link Outcome#DUPLICATE} if another
   *     holder (after a lease ran out) confirmed first
   * @throws IllegalArgumentException if the claim was not acquired
   * @throws StoreException if the event or the end of the claim could not be committed
   * @throws QueueFullException if the queue has no room for the event
   */
  public PublishResult confirm(Claim claim) {
    requireAcquired(claim);
    PublishResult result = join(aggregator.publish(claim.event()));
    Event e = claim.event();
    join(tasks.endClaim(e.topic(), e.eventId(), claim.token(), true));
    return result;
  }

  /**
   * Releases an acquired claim, so that the next delivery of its key acquires it at once.
   *
   * @return whether the claim was still held: false if its lease had run out and another delivery
   *     took it over, or it had ended already
   * @throws IllegalArgumentException if the claim was not acquired
   * @throws StoreException if the release could not be committed
   */
  public boolean release(Claim claim) {
    requireAcquired(claim);
    Event e = claim.event();
    return join(tasks.endClaim(e.topic(), e.eventId(), claim.token(), false));
  }

  /** The lease of every claim of this guard. */
  public Duration lease() {
    return lease;
  }

  private static void requireAcquired(Claim claim) {
    Objects.requireNonNull(claim, "claim");
    if (!claim.acquired()) {
      throw new IllegalArgumentException(
          "only an acquired claim can be confirmed or released, was " + claim.status());
    }
  }

  private static Duration left(Instant now, Instant end) {
    Duration left = Duration.between(now, end);
    return left.isNegative() ? Duration.ZERO : left;
  }

  /** Waits for the writer, rethrowing its failure as it was thrown. */
  private static <T> T join(CompletableFuture<T> future) {
    try {
      return future.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw e;
    }
  }

  /** Configures a {@link ConsumerGuard}. */
  public static final class Builder {
    private final EventAggregator aggregator;
    private Duration lease = Duration.ofMinutes(5);

    private Builder(EventAggregator aggregator) {
      this.aggregator = Objects.requireNonNull(aggregator, "aggregator");
    }

    /**
     * How long a claim holds its key for a handler that neither confirms nor releases it (the
     * process died, or the handler hangs); then the next delivery takes the key over. Longer than
     * the slowest handler, or a slow handler runs twice. Default 5 minutes.
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
     * The guard.
     *
     * @throws IllegalArgumentException if the aggregator was not built by {@link
     *     EventAggregator#builder()}
     */
    public ConsumerGuard build() {
      if (!(aggregator instanceof StoreTasks tasks)) {
        throw new IllegalArgumentException(
            "a ConsumerGuard needs an aggregator built by EventAggregator.builder(), was "
                + aggregator.getClass().getName());
      }
      return new ConsumerGuard(aggregator, tasks, lease);
    }
  }
}
