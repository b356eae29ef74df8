package dev.aggregator.internal;

import dev.aggregator.AggregatorClosedException;
import dev.aggregator.AggregatorStats;
import dev.aggregator.ClaimStats;
import dev.aggregator.Event;
import dev.aggregator.EventAggregator;
import dev.aggregator.EventPage;
import dev.aggregator.EventQuery;
import dev.aggregator.EventValidationException;
import dev.aggregator.Health;
import dev.aggregator.Outcome;
import dev.aggregator.PublishResult;
import dev.aggregator.QueueFullException;
import dev.aggregator.StoreException;
import dev.aggregator.store.AppendResult;
import dev.aggregator.store.ClaimState;
import dev.aggregator.store.DedupStore;
import dev.aggregator.store.PendingEvent;
import dev.aggregator.store.Retention;
import dev.aggregator.store.StoreStats;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Design of the aggregator: threads, ordering, durability, backpressure.
 *
 * Data path. publish() runs on the caller's thread: it validates every event and serializes its
 * payload (EventValidator), so the call is all-or-nothing and that work is spread over the
 * callers. It then reserves room for all its events in the queue (one CAS on queuedEvents, so the
 * capacity is counted in events, not calls) and enqueues one Request holding the events and the
 * caller's future. A full queue rejects the call at once with QueueFullException: callers are never
 * blocked and memory never grows past the capacity.
 *
 * One writer. A single thread owns every write to the store. It takes the first queued request,
 * drains whatever else is queued (up to maxBatchSize events, waiting at most maxBatchDelay for
 * more), and hands the whole batch to DedupStore.append, which stores it in ONE transaction
 * together with the counters. Under load the queue fills while a batch commits, so batches grow and
 * commits per event fall: group commit. Requests are never split, so a publish call is always one
 * transaction.
 *
 * Durable ack. A request's future completes only after append returned, i.e. after COMMIT. An
 * acknowledged event survives a process crash (SQLite WAL with synchronous=NORMAL; FULL for power
 * loss); an unacknowledged one may be retried and is then deduplicated. queuedEvents is released
 * after the commit, so queueSize counts every accepted event not yet durable.
 *
 * Failure. If append throws, the store has rolled back: every caller of that batch gets the
 * StoreException, the failure is counted and logged once, and the writer goes on with the next
 * batch. Nothing of a failed batch is stored or counted. The aggregator is then unhealthy (health()
 * names the error) until the store answers again. A fault such as a full disk may go away with
 * nobody publishing, so while unhealthy and idle the writer probes the store every probe interval
 * (DedupStore.probe, then an empty append: a real transaction that stores nothing) and turns the
 * aggregator healthy once both succeed.
 *
 * Health. A store can also fail with nobody publishing (a database connection cut), or hang
 * instead of failing. So the writer also probes a healthy store whenever nothing was committed for
 * a probe interval: an idle aggregator learns of an outage within about one interval. And health()
 * never asks the store: it answers from the writer's last result, and reports the store as not
 * answering once a call of the writer into the store (a batch, a probe) has run for two probe
 * intervals, so that a hanging store turns the aggregator unhealthy as soon as a failing one.
 * health() takes no lock the writer holds while calling the store, so it answers at once always.
 *
 * Lifecycle. The constructor starts the writer: a built aggregator is running. close() takes the
 * admission lock's write side, so no publish can be between its closed-check and its enqueue, marks
 * the aggregator closed and enqueues STOP behind everything accepted. The queue is FIFO, so the
 * writer commits all of that before it sees STOP; close() then joins it and closes the store.
 *
 * Stats. The durable counters come from the store (committed with the events); this class adds the
 * queue and the batch statistics, which exist only in memory and start at zero.
 *
 * Retention. The store does the expiring (DedupStore.retain: it is exact from the instant an event
 * expires, and each of its transactions removes a bounded step of expired events); this class
 * hands it the retention once and keeps the steps coming when nobody publishes: an idle writer
 * waits for the next request only until DedupStore.nextExpiry, at most a second, and then commits
 * an empty batch, step after step while more is due. Under load, the batches' own transactions do
 * the removing, beside the ingest.
 *
 * Conflicts. The store names the duplicates whose payload differs from the stored event's (an
 * AppendResult); this class hands each caller the indexes of its own, and logs one WARN line per
 * conflict, at most 10 a second (ConflictWarnings), so a publisher retrying with changed payloads
 * is heard without flooding the log.
 *
 * Claims (ConsumerGuard). A claim or the end of one is a Request without events that carries a
 * task: it is queued like a publish, so it is decided by the writer, in queue order, in a
 * transaction of its own (DedupStore.claim/endClaim), and its future completes after that commit:
 * a claim is durable before the guard runs the handler. A task never joins a batch: the writer
 * runs it between batches, so appends keep their one-transaction-per-batch shape. A failed claim
 * fails only its caller; health stays what the appends say.
 */
/** The aggregator behind {@link EventAggregator#builder()}; see the design notes above. */
public final class DefaultEventAggregator implements EventAggregator, StoreTasks {
  private static final Logger log = LoggerFactory.getLogger(DefaultEventAggregator.class);

  /** One publish call on its way to the writer, or a store task (a claim) with no events. */
  private record Request(
      List<PendingEvent> events, CompletableFuture<PublishResult> future, Runnable task) {
    Request(List<PendingEvent> events, CompletableFuture<PublishResult> future) {
      this(events, future, null);
    }
  }

  /** No call of the writer into the store is running. */
  private static final long NO_STORE_CALL = Long.MIN_VALUE;

  /** The longest an idle writer under a retention waits before it asks the store again. */
  private static final Duration MAX_EXPIRY_WAIT = Duration.ofSeconds(1);

  /** Enqueued by close() behind every accepted request. */
  private static final Request STOP = new Request(List.of(), new CompletableFuture<>());

  private final DedupStore store;
  private final int queueCapacity;
  private final int maxBatchSize;
  private final long maxBatchDelayNanos;
  private final long probeIntervalNanos;
  private final Clock clock;
  private final boolean expiring;
  private final EventValidator validator;
  private final Instant startedAt;
  private final ConflictWarnings conflictWarnings = new ConflictWarnings(10, System::nanoTime);

  private final LinkedBlockingQueue<Request> queue = new LinkedBlockingQueue<>();
  private final AtomicInteger queuedEvents = new AtomicInteger();
  private final ReentrantReadWriteLock admission = new ReentrantReadWriteLock();
  private boolean closed; // guarded by admission
  private final Thread writer;

  // Written by the writer thread only; volatile so stats() sees recent values.
  private volatile long batchesCommitted;
  private volatile long batchedEvents;
  private volatile int largestBatch;
  private volatile long batchesFailed;
  private volatile Health health = Health.ok();
  private long expiryPausedUntil = System.nanoTime(); // writer only; see removeExpired
  private long lastAnswerNanos = System.nanoTime(); // writer only: the store's last success
  // When the writer's current call into the store began, or NO_STORE_CALL; read by health().
  private volatile long storeCallSince = NO_STORE_CALL;
  // The store's counters as it was closed; stats() answers from them after close().
  private volatile StoreStats finalStats;
  private volatile ClaimStats finalClaimStats;

  /**
   * Starts an aggregator on an open store; see {@link EventAggregator.Builder}.
   *
   * @param retention how long the store keeps events, or null to keep them for ever
   * @param probeInterval how long an idle writer waits before it probes the store
   * @throws IllegalStateException if a retention is given and the store does not support one
   */
  public DefaultEventAggregator(
      DedupStore store,
      int queueCapacity,
      int maxBatchSize,
      Duration maxBatchDelay,
      int maxPayloadBytes,
      Clock clock,
      Retention retention,
      Duration probeInterval) {
    if (retention != null) {
      try {
        store.retain(retention);
      } catch (UnsupportedOperationException e) {
        throw new IllegalStateException(
            "retention and maxStoredEvents need a store that can expire events: " + e.getMessage(),
            e);
      }
    }
    this.expiring = retention != null;
    this.store = store;
    this.queueCapacity = queueCapacity;
    this.maxBatchSize = maxBatchSize;
    this.maxBatchDelayNanos = maxBatchDelay.toNanos();
    this.probeIntervalNanos = probeInterval.toNanos();
    this.clock = clock;
    this.validator = new EventValidator(maxPayloadBytes);
    this.startedAt = clock.instant();
    this.writer = new Thread(this::runWriter, "aggregator-writer");
    writer.setDaemon(false);
    writer.start();
    log.info("{} - Started (queue capacity {}).", store.describe(), queueCapacity);
  }

  @Override
  public CompletableFuture<PublishResult> publish(Event event) {
    return publish(List.of(event));
  }

  @Override
  public CompletableFuture<PublishResult> publish(List<Event> events) {
    if (events.isEmpty()) {
      throw new EventValidationException(
          List.of(new EventValidationException.Violation(0, "events", "must not be empty")));
    }
    List<PendingEvent> pending = validator.prepare(events, clock.instant());
    Request request = new Request(pending, new CompletableFuture<>());
    admission.readLock().lock();
    try {
      if (closed) {
        throw new AggregatorClosedException("aggregator is closed: " + store.describe());
      }
      reserve(pending.size());
      queue.add(request);
    } finally {
      admission.readLock().unlock();
    }
    return request.future;
  }

  private void reserve(int n) {
    while (true) {
      int depth = queuedEvents.get();
      if (depth + n > queueCapacity) {
        throw new QueueFullException(depth, queueCapacity, n);
      }
      if (queuedEvents.compareAndSet(depth, depth + n)) {
        return;
      }
    }
  }

  @Override
  public CompletableFuture<ClaimState> claim(
      String topic, String eventId, String token, Duration lease) {
    return onWriter(
        () -> {
          Instant now = clock.instant();
          return store.claim(topic, eventId, token, now, now.plus(lease));
        });
  }

  @Override
  public CompletableFuture<Boolean> endClaim(
      String topic, String eventId, String token, boolean confirmed) {
    return onWriter(() -> store.endClaim(topic, eventId, token, confirmed));
  }

  @Override
  public void validate(Event event) {
    validator.prepare(List.of(event), clock.instant());
  }

  @Override
  public Clock clock() {
    return clock;
  }

  /** Queues {@code work} for the writer thread, which runs it between batches. */
  private <T> CompletableFuture<T> onWriter(Supplier<T> work) {
    CompletableFuture<T> future = new CompletableFuture<>();
    Runnable task =
        () -> {
          try {
            future.complete(work.get());
          } catch (RuntimeException | Error e) {
            future.completeExceptionally(
                e instanceof StoreException || e instanceof UnsupportedOperationException
                    ? e
                    : new StoreException(store.describe() + ": a claim failed: " + e, e));
          }
        };
    admission.readLock().lock();
    try {
      if (closed) {
        throw new AggregatorClosedException("aggregator is closed: " + store.describe());
      }
      queue.add(new Request(List.of(), null, task));
    } finally {
      admission.readLock().unlock();
    }
    return future;
  }

  @Override
  public EventPage events(EventQuery query) {
    return store.events(query);
  }

  @Override
  public AggregatorStats stats() {
    StoreStats last = finalStats;
    StoreStats s = last != null ? last : store.stats();
    ClaimStats lastClaims = finalClaimStats;
    ClaimStats claims = lastClaims != null ? lastClaims : store.claimStats();
    Instant now = clock.instant();
    return new AggregatorStats(
        s.received(),
        s.uniqueProcessed(),
        s.duplicateDropped(),
        s.expired(),
        s.payloadConflicts(),
        s.topicCounts(),
        queuedEvents.get(),
        queueCapacity,
        batchesCommitted,
        batchedEvents,
        largestBatch,
        batchesFailed,
        startedAt,
        Duration.between(startedAt, now),
        writer.isAlive(),
        claims);
  }

  @Override
  public Health health() {
    boolean running = writer.isAlive();
    int queued = queuedEvents.get();
    if (!running && !isClosed()) {
      return new Health(false, "the writer thread has stopped", null, false, queued);
    }
    Health h = health;
    long since = storeCallSince;
    if (h.healthy() && since != NO_STORE_CALL) {
      long hanging = System.nanoTime() - since;
      if (hanging > 2 * probeIntervalNanos) {
        return new Health(
            false,
            store.describe()
                + " has not answered for "
                + TimeUnit.NANOSECONDS.toMillis(hanging)
                + " ms",
            clock.instant().minusNanos(hanging),
            running,
            queued);
      }
    }
    return new Health(h.healthy(), h.reason(), h.since(), running, queued);
  }

  private boolean isClosed() {
    admission.readLock().lock();
    try {
      return closed;
    } finally {
      admission.readLock().unlock();
    }
  }

  @Override
  public void close() {
    admission.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      queue.add(STOP);
    } finally {
      admission.writeLock().unlock();
    }
    boolean interrupted = false;
    while (writer.isAlive()) {
      try {
        writer.join();
      } catch (InterruptedException e) {
        interrupted = true; // finish closing: the accepted events must be committed first
      }
    }
    try {
      // A remote store (PostgreSQL) cannot answer once closed: keep its last counters for stats().
      StoreStats lastStats = store.stats();
      finalClaimStats = store.claimStats();
      finalStats = lastStats;
    } catch (RuntimeException e) {
      log.warn("{} - cannot read the counters before closing: {}", store.describe(), e.toString());
    }
    store.close();
    log.info("{} - Shutdown completed.", store.describe());
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void runWriter() {
    List<Request> batch = new ArrayList<>();
    List<PendingEvent> events = new ArrayList<>();
    Request carry = null; // drained but did not fit the previous batch
    boolean stopping = false;
    while (!stopping || carry != null) {
      try {
        Request first = carry != null ? carry : nextOrIdleWork();
        carry = null;
        if (first == null) {
          continue; // probed the store, or removed expired events
        }
        if (first == STOP) {
          break;
        }
        if (first.task != null) {
          first.task.run();
          continue;
        }
        batch.add(first);
        int size = first.events.size();
        long deadline = System.nanoTime() + maxBatchDelayNanos;
        while (size < maxBatchSize) {
          Request next = nextWithin(deadline);
          if (next == null) {
            break;
          }
          if (next == STOP) {
            stopping = true;
            break;
          }
          if (next.task != null || size + next.events.size() > maxBatchSize) {
            carry = next;
            break;
          }
          batch.add(next);
          size += next.events.size();
        }
        commit(batch, events, size);
      } catch (InterruptedException e) {
        // Nobody but close() stops the writer: an interrupt from outside must not lose events.
        log.warn("{} - writer interrupted; ignoring, close() stops it", store.describe());
      } finally {
        batch.clear();
        events.clear();
      }
    }
  }

  /**
   * The next request, or null after work done while none came: removing expired events that are
   * due, or probing a store that has not answered for a probe interval.
   */
  private Request nextOrIdleWork() throws InterruptedException {
    if (health.healthy()) {
      long untilProbe = lastAnswerNanos + probeIntervalNanos - System.nanoTime();
      long wait = Math.max(0, untilProbe);
      if (expiring) {
        wait = Math.min(wait, untilNextExpiry().toNanos());
      }
      Request next = wait == 0 ? queue.poll() : queue.poll(wait, TimeUnit.NANOSECONDS);
      if (next != null) {
        return next;
      }
      if (expiring && untilNextExpiry().isZero()) {
        removeExpired();
      } else if (System.nanoTime() - lastAnswerNanos >= probeIntervalNanos) {
        probe();
      }
      return null;
    }
    Request next = queue.poll(probeIntervalNanos, TimeUnit.NANOSECONDS);
    if (next == null) {
      probe();
    }
    return next;
  }

  /**
   * Checks the store answers: its probe, and, once unhealthy, an empty transaction too, since the
   * probe of a store with a full disk may read but not write.
   */
  private void probe() {
    try {
      callStore(
          () -> {
            store.probe();
            if (!health.healthy()) {
              store.append(List.of());
            }
            return null;
          });
      answered();
    } catch (RuntimeException e) {
      if (health.healthy()) {
        unhealthy(e, "probe", "failed");
      } else {
        // still failing: health keeps the first error of this episode
        log.debug("{} - probe failed: {}", store.describe(), e.toString());
      }
    }
  }

  /** Runs a call into the store, marked so that health() sees it if it hangs. */
  private <T> T callStore(Supplier<T> call) {
    storeCallSince = System.nanoTime();
    try {
      return call.get();
    } finally {
      storeCallSince = NO_STORE_CALL;
    }
  }

  /** How long until the store's next expiry is due, at most {@link #MAX_EXPIRY_WAIT}. */
  private Duration untilNextExpiry() {
    long paused = expiryPausedUntil - System.nanoTime();
    if (paused > 0) {
      return Duration.ofNanos(Math.min(paused, MAX_EXPIRY_WAIT.toNanos()));
    }
    Optional<Instant> due;
    try {
      due = callStore(store::nextExpiry);
    } catch (RuntimeException e) {
      unhealthy(e, "reading when the next expiry is due", "failed"); // probed from now on
      return MAX_EXPIRY_WAIT;
    }
    if (due.isEmpty()) {
      return MAX_EXPIRY_WAIT;
    }
    Instant now = clock.instant();
    if (!due.get().isAfter(now)) {
      return Duration.ZERO;
    }
    Duration until = Duration.between(now, due.get());
    return until.compareTo(MAX_EXPIRY_WAIT) < 0 ? until : MAX_EXPIRY_WAIT;
  }

  /**
   * An empty transaction, which removes a step of expired events. If it removed nothing (another
   * node of a shared store was quicker, or a store misjudges what is due), the next step waits
   * {@link #MAX_EXPIRY_WAIT}, so the writer cannot spin.
   */
  private void removeExpired() {
    try {
      long before = callStore(store::stats).expired();
      try {
        callStore(() -> store.append(List.of()));
      } catch (RuntimeException e) {
        failed(e, "expiry step");
        return;
      }
      answered();
      if (callStore(store::stats).expired() == before) {
        expiryPausedUntil = System.nanoTime() + MAX_EXPIRY_WAIT.toNanos();
      }
    } catch (RuntimeException e) {
      unhealthy(e, "reading the counters", "failed");
    }
  }

  /** The store answered a real round trip (a commit, a probe): it is healthy, and probed later. */
  private void answered() {
    lastAnswerNanos = System.nanoTime();
    if (!health.healthy()) {
      health = new Health(true, null, clock.instant(), true, 0);
      log.info("{} - Recovered: transactions commit again.", store.describe());
    }
  }

  private Request nextWithin(long deadline) throws InterruptedException {
    Request next = queue.poll();
    if (next != null || maxBatchDelayNanos == 0) {
      return next;
    }
    long wait = deadline - System.nanoTime();
    return wait > 0 ? queue.poll(wait, TimeUnit.NANOSECONDS) : null;
  }

  private void commit(List<Request> batch, List<PendingEvent> events, int size) {
    for (Request r : batch) {
      events.addAll(r.events);
    }
    List<Outcome> outcomes;
    try {
      outcomes = callStore(() -> store.append(events));
    } catch (RuntimeException | Error e) {
      StoreException failure = failed(e, "batch of " + size + " events");
      queuedEvents.addAndGet(-size);
      for (Request r : batch) {
        r.future.completeExceptionally(failure);
      }
      return;
    }
    answered();
    batchesCommitted++;
    batchedEvents += size;
    largestBatch = Math.max(largestBatch, size);
    queuedEvents.addAndGet(-size);
    List<Integer> conflicts = AppendResult.conflictsOf(outcomes);
    for (int i : conflicts) { // before the acks: a caller that saw a conflict finds it logged
      PendingEvent e = events.get(i);
      String line = conflictWarnings.line(store.describe(), e.topic(), e.eventId());
      if (line != null) {
        log.warn(line);
      }
    }
    int from = 0;
    int next = 0; // the first conflict not handed out yet
    for (Request r : batch) {
      int to = from + r.events.size();
      List<Integer> own = List.of();
      if (next < conflicts.size() && conflicts.get(next) < to) {
        own = new ArrayList<>();
        for (; next < conflicts.size() && conflicts.get(next) < to; next++) {
          own.add(conflicts.get(next) - from);
        }
      }
      r.future.complete(new PublishResult(outcomes.subList(from, to), own));
      from = to;
    }
  }

  /** Counts a rolled-back transaction, and marks the aggregator unhealthy. */
  private StoreException failed(Throwable e, String what) {
    batchesFailed++;
    return unhealthy(e, what, "rolled back");
  }

  /** Marks the aggregator unhealthy, logging the first failure of a run as an error. */
  private StoreException unhealthy(Throwable e, String what, String outcome) {
    StoreException failure =
        e instanceof StoreException se
            ? se
            : new StoreException(store.describe() + ": " + what + " failed: " + e, e);
    if (health.healthy()) {
      log.error("{} - {} {}", store.describe(), what, outcome, failure);
      health = new Health(false, failure.getMessage(), clock.instant(), true, 0);
    } else {
      log.warn("{} - {} {}: {}", store.describe(), what, outcome, e.toString());
    }
    return failure;
  }
}
