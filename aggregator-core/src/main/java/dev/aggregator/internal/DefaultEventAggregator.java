package dev.aggregator.internal;

import dev.aggregator.AggregatorClosedException;
import dev.aggregator.AggregatorStats;
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
import dev.aggregator.store.DedupStore;
import dev.aggregator.store.PendingEvent;
import dev.aggregator.store.StoreStats;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantReadWriteLock;
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
 * names the error) until a transaction commits again. A fault such as a full disk may go away with
 * nobody publishing, so while unhealthy and idle the writer appends an empty batch about once a
 * second: a real transaction that stores nothing, and turns the aggregator healthy once it commits.
 *
 * Lifecycle. The constructor starts the writer: a built aggregator is running. close() takes the
 * admission lock's write side, so no publish can be between its closed-check and its enqueue, marks
 * the aggregator closed and enqueues STOP behind everything accepted. The queue is FIFO, so the
 * writer commits all of that before it sees STOP; close() then joins it and closes the store.
 *
 * Stats. The durable counters come from the store (committed with the events); this class adds the
 * queue and the batch statistics, which exist only in memory and start at zero.
 */
/** The aggregator behind {@link EventAggregator#builder()}; see the design notes above. */
public final class DefaultEventAggregator implements EventAggregator {
  private static final Logger log = LoggerFactory.getLogger(DefaultEventAggregator.class);

  /** One publish call on its way to the writer. */
  private record Request(List<PendingEvent> events, CompletableFuture<PublishResult> future) {}

  /** How often an unhealthy, idle writer probes the store. */
  private static final long PROBE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** Enqueued by close() behind every accepted request. */
  private static final Request STOP = new Request(List.of(), new CompletableFuture<>());

  private final DedupStore store;
  private final int queueCapacity;
  private final int maxBatchSize;
  private final long maxBatchDelayNanos;
  private final Clock clock;
  private final EventValidator validator;
  private final Instant startedAt;

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
  // The store's counters as it was closed; stats() answers from them after close().
  private volatile StoreStats finalStats;

  /** Starts an aggregator on an open store; see {@link EventAggregator.Builder}. */
  public DefaultEventAggregator(
      DedupStore store,
      int queueCapacity,
      int maxBatchSize,
      Duration maxBatchDelay,
      int maxPayloadBytes,
      Clock clock) {
    this.store = store;
    this.queueCapacity = queueCapacity;
    this.maxBatchSize = maxBatchSize;
    this.maxBatchDelayNanos = maxBatchDelay.toNanos();
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
  public EventPage events(EventQuery query) {
    return store.events(query);
  }

  @Override
  public AggregatorStats stats() {
    StoreStats last = finalStats;
    StoreStats s = last != null ? last : store.stats();
    Instant now = clock.instant();
    return new AggregatorStats(
        s.received(),
        s.uniqueProcessed(),
        s.duplicateDropped(),
        s.topicCounts(),
        queuedEvents.get(),
        queueCapacity,
        batchesCommitted,
        batchedEvents,
        largestBatch,
        batchesFailed,
        startedAt,
        Duration.between(startedAt, now),
        writer.isAlive());
  }

  @Override
  public Health health() {
    if (!writer.isAlive() && !isClosed()) {
      return new Health(false, "the writer thread has stopped", null);
    }
    return health;
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
      finalStats = store.stats();
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
        Request first = carry != null ? carry : nextOrProbe();
        carry = null;
        if (first == null) {
          continue; // probed the store
        }
        if (first == STOP) {
          break;
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
          if (size + next.events.size() > maxBatchSize) {
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

  /** The next request; while unhealthy, probes the store whenever none comes for a while. */
  private Request nextOrProbe() throws InterruptedException {
    if (health.healthy()) {
      return queue.take();
    }
    Request next = queue.poll(PROBE_INTERVAL_NANOS, TimeUnit.NANOSECONDS);
    if (next == null) {
      try {
        store.append(List.of());
        recovered();
      } catch (RuntimeException e) {
        // still failing: health keeps the first error of this episode
        log.debug("{} - probe failed: {}", store.describe(), e.toString());
      }
    }
    return next;
  }

  private void recovered() {
    if (!health.healthy()) {
      health = new Health(true, null, clock.instant());
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
      outcomes = store.append(events);
    } catch (RuntimeException | Error e) {
      batchesFailed++;
      StoreException failure =
          e instanceof StoreException se
              ? se
              : new StoreException(store.describe() + ": batch failed: " + e, e);
      if (health.healthy()) {
        log.error("{} - batch of {} events rolled back", store.describe(), size, failure);
        health = new Health(false, failure.getMessage(), clock.instant());
      } else {
        log.warn("{} - batch of {} events rolled back: {}", store.describe(), size, e.toString());
      }
      queuedEvents.addAndGet(-size);
      for (Request r : batch) {
        r.future.completeExceptionally(failure);
      }
      return;
    }
    recovered();
    batchesCommitted++;
    batchedEvents += size;
    largestBatch = Math.max(largestBatch, size);
    queuedEvents.addAndGet(-size);
    int from = 0;
    for (Request r : batch) {
      int to = from + r.events.size();
      r.future.complete(new PublishResult(outcomes.subList(from, to)));
      from = to;
    }
  }
}
