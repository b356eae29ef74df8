package dev.aggregator;

import dev.aggregator.internal.DefaultEventAggregator;
import dev.aggregator.sqlite.SqliteDedupStore;
import dev.aggregator.store.DedupStore;
import dev.aggregator.store.Retention;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Ingests events under at-least-once delivery and keeps each {@code (topic, eventId)} exactly once,
 * durably, with exact counters.
 *
 * <pre>{@code
 * try (EventAggregator aggregator = EventAggregator.builder()
 *     .store(SqliteDedupStore.open(Path.of("data/aggregator.db")))
 *     .build()) {
 *   PublishResult result = aggregator.publish(Event.of("orders", "order-1")).join();
 *   result.outcome(0); // ACCEPTED the first time, DUPLICATE on every retry
 * }
 * }</pre>
 *
 * <p>Every method is thread-safe. A publish call is validated on the calling thread, queued, and
 * committed by one writer thread together with whatever else is queued (group commit); its future
 * completes once the transaction holding its events has committed. Dependent stages attached with
 * the non-{@code Async} methods of {@link CompletableFuture} run on the writer thread: keep them
 * short or use the {@code Async} variants.
 */
public interface EventAggregator extends AutoCloseable {

  /** A builder with the defaults described on each of its methods. */
  static Builder builder() {
    return new Builder();
  }

  /**
   * Publishes one event.
   *
   * @return a future completed with the event's outcome once it is durably committed, or
   *     exceptionally with a {@link StoreException} if its transaction failed
   * @throws EventValidationException if the event breaks a rule of {@link Event}
   * @throws QueueFullException if the queue has no room (backpressure: retry later)
   * @throws AggregatorClosedException if the aggregator is closed
   */
  CompletableFuture<PublishResult> publish(Event event);

  /**
   * Publishes events all-or-nothing: if one is invalid, or the queue has no room for all, none is
   * queued. The events are committed in one transaction.
   *
   * @return a future completed with one outcome per event, in the order of {@code events}, once
   *     they are durably committed, or exceptionally with a {@link StoreException} if their
   *     transaction failed
   * @throws EventValidationException naming the index, field and rule of every violation, or if
   *     {@code events} is empty
   * @throws QueueFullException if the queue has no room for all the events
   * @throws AggregatorClosedException if the aggregator is closed
   */
  CompletableFuture<PublishResult> publish(List<Event> events);

  /**
   * A page of one topic's committed events.
   *
   * @throws IllegalArgumentException if the query's cursor was not made by this store
   */
  EventPage events(EventQuery query);

  /** A snapshot of the counters; cheap enough to call on every request. */
  AggregatorStats stats();

  /**
   * Whether events can be committed now; answers at once from the writer's state, never waiting for
   * the store. After a failed transaction or probe the aggregator is unhealthy, with the store's
   * error as the reason, until the store answers again; it is also unhealthy while a call into the
   * store has not returned for twice the {@link Builder#healthProbeInterval health probe interval}.
   * The writer probes the store ({@link DedupStore#probe}) whenever it has committed nothing for an
   * interval, so an idle aggregator notices an outage, and turns healthy on its own once the fault
   * is gone.
   */
  Health health();

  /**
   * Stops accepting events, commits every event accepted before, stops the writer and closes the
   * store. Idempotent; later publishes fail with {@link AggregatorClosedException}.
   */
  @Override
  void close();

  /**
   * Configures and builds an {@link EventAggregator}. Setters check their value at once; {@link
   * #build()} opens the store and starts the writer, so a built aggregator is fully running.
   */
  final class Builder {
    private DedupStore store;
    private int queueCapacity = 100_000;
    private int maxBatchSize = 2_000;
    private Duration maxBatchDelay = Duration.ZERO;
    private int maxPayloadBytes = 1 << 20;
    private Clock clock = Clock.systemUTC();
    private Duration retention; // null: for ever
    private long maxStoredEvents = Long.MAX_VALUE;
    private Duration healthProbeInterval = Duration.ofMillis(500);

    private Builder() {}

    /**
     * The store. Default: {@link SqliteDedupStore} on {@code data/aggregator.db}. The aggregator
     * owns the store from {@link #build()} on and closes it in {@link EventAggregator#close()}.
     */
    public Builder store(DedupStore store) {
      this.store = Objects.requireNonNull(store, "store");
      return this;
    }

    /**
     * The most events queued and not yet committed; a publish that does not fit fails at once with
     * {@link QueueFullException}. Default 100,000.
     */
    public Builder queueCapacity(int events) {
      this.queueCapacity = positive("queueCapacity", events);
      return this;
    }

    /**
     * The most events the writer commits in one transaction. A single publish call larger than this
     * is still committed whole, in a transaction of its own. Default 2,000.
     */
    public Builder maxBatchSize(int events) {
      this.maxBatchSize = positive("maxBatchSize", events);
      return this;
    }

    /**
     * How long the writer waits for more events to fill a batch before committing. Default zero:
     * commit what is queued at once; batches grow by themselves under load, while the previous
     * batch commits.
     */
    public Builder maxBatchDelay(Duration delay) {
      Objects.requireNonNull(delay, "maxBatchDelay");
      if (delay.isNegative()) {
        throw new IllegalArgumentException("maxBatchDelay must not be negative, was " + delay);
      }
      this.maxBatchDelay = delay;
      return this;
    }

    /** The largest payload of one event, in bytes of JSON. Default 1 MiB. */
    public Builder maxPayloadBytes(int bytes) {
      this.maxPayloadBytes = positive("maxPayloadBytes", bytes);
      return this;
    }

    /**
     * The clock for receive times, default timestamps, uptime and retention. Default: the system
     * clock.
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * How long an event is kept after it was received. Default: for ever.
     *
     * <p>The dedup window is the retention, exactly: while an event is kept, its key is a {@link
     * Outcome#DUPLICATE} and {@link EventAggregator#events} returns it; from the instant its
     * retention has passed, it is no longer returned and its key is {@link Outcome#ACCEPTED} again
     * (and counted as new). Receive times are taken when {@code publish} is called; an event
     * committed after one received later counts from that later time, so events expire in the order
     * they were stored and never before their retention has passed. Expired events are removed in
     * small steps beside ingest, counted in {@link AggregatorStats#expired()}; the removal is
     * durable across restarts. Needs a store that can expire events (both stores of this library
     * can).
     *
     * @throws IllegalArgumentException if {@code retention} is zero or negative
     */
    public Builder retention(Duration retention) {
      Objects.requireNonNull(retention, "retention");
      if (retention.isZero() || retention.isNegative()) {
        throw new IllegalArgumentException("retention must be positive, was " + retention);
      }
      this.retention = retention;
      return this;
    }

    /**
     * The most events kept: the transaction that stores more removes the oldest, with their keys,
     * which are then accepted again. Default: no limit. Combines with {@link #retention}: an event
     * goes when either says so. Lowered across a restart, the excess is removed in steps, and is
     * kept (returned, its keys duplicates) until then.
     *
     * @throws IllegalArgumentException if {@code events} is below 1
     */
    public Builder maxStoredEvents(long events) {
      if (events < 1) {
        throw new IllegalArgumentException("maxStoredEvents must be at least 1, was " + events);
      }
      this.maxStoredEvents = events;
      return this;
    }

    /**
     * How long the writer may go without hearing from the store before it probes it ({@link
     * DedupStore#probe}); also, doubled, how long a call into the store may run before {@link
     * EventAggregator#health()} reports the store as not answering. Default 500 ms: an outage shows
     * in {@code health()} within about a second, at the cost of a trivial query twice a second
     * while idle.
     *
     * @throws IllegalArgumentException if {@code interval} is shorter than a millisecond
     */
    public Builder healthProbeInterval(Duration interval) {
      Objects.requireNonNull(interval, "healthProbeInterval");
      if (interval.compareTo(Duration.ofMillis(1)) < 0) {
        throw new IllegalArgumentException(
            "healthProbeInterval must be at least 1 ms, was " + interval);
      }
      this.healthProbeInterval = interval;
      return this;
    }

    /**
     * Opens the store (if none was given), gives it the retention, and starts the writer.
     *
     * @throws StoreException if the default store cannot be opened
     * @throws IllegalStateException if a retention or maxStoredEvents is set and the store cannot
     *     expire events; the store is closed then
     */
    public EventAggregator build() {
      DedupStore s = store != null ? store : SqliteDedupStore.open(Path.of("data/aggregator.db"));
      Retention r =
          retention != null || maxStoredEvents != Long.MAX_VALUE
              ? new Retention(retention, maxStoredEvents, clock)
              : null;
      try {
        return new DefaultEventAggregator(
            s,
            queueCapacity,
            maxBatchSize,
            maxBatchDelay,
            maxPayloadBytes,
            clock,
            r,
            healthProbeInterval);
      } catch (RuntimeException e) {
        s.close();
        throw e;
      }
    }

    private static int positive(String name, int value) {
      if (value < 1) {
        throw new IllegalArgumentException(name + " must be at least 1, was " + value);
      }
      return value;
    }
  }
}
