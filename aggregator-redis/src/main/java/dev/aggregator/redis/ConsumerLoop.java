package dev.aggregator.redis;

import dev.aggregator.Event;
import dev.aggregator.EventAggregator;
import dev.aggregator.EventValidationException;
import dev.aggregator.PublishResult;
import dev.aggregator.QueueFullException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.JedisPooled;

/*
 * The loop every Redis source runs, whatever it reads: at-least-once from Redis, exactly once in
 * the store.
 *
 * One thread per source: take a batch of units (stream entries, list items) with next(), turn each
 * into events, publish them to the aggregator, wait for the futures, which complete only after the
 * store committed, then settle() the batch: acknowledge every unit (XACK, or LREM from the
 * processing list) and, in the same MULTI/EXEC, copy the rejected ones to the dead letters. A unit
 * is therefore released only once its events are durable; a crash anywhere before leaves it with
 * this consumer in Redis and it is delivered again, which the store turns into DUPLICATEs.
 * Releasing before the commit would lose events on a crash; that is the one order that matters.
 *
 * A unit is all or nothing, like one POST /publish: if one of its events is not valid (wrong JSON
 * type when read, or a rule of Event at publish), none of its events is published and the whole
 * unit goes to the dead letters with the reasons. Poison units would otherwise come back forever.
 * Store failures are not poison: the batch is not settled, the loop waits the retry delay and the
 * subclass delivers the same units again (afterFailure).
 *
 * Backpressure: a full aggregator queue makes the loop wait the retry delay and publish the same
 * events again; the units stay unreleased meanwhile, so nothing is taken that cannot be stored. A
 * batch is published in chunks of whole units of at most maxEventsPerPublish events, no more than
 * the queue holds, so that a batch of large list items is not refused as a whole forever; a unit
 * that alone holds more is rejected when read.
 */
/** Reads units from Redis and stores their events; see the comment above for the protocol. */
abstract class ConsumerLoop<T> {
  private static final Logger log = LoggerFactory.getLogger(ConsumerLoop.class);

  /** The most events in one unit and in one publish call, unless the queue holds fewer. */
  static final int MAX_EVENTS_PER_PUBLISH = 10_000;

  /** The address, without password, for logs. */
  final String where;

  final EventAggregator aggregator;
  final String consumer;
  final int batchSize;
  final int blockMillis;
  final JedisPooled redis;
  private final Duration commitTimeout;
  private final Duration retryDelay;
  private final int maxEventsPerPublish;
  private final Thread thread;
  private final CountDownLatch stop = new CountDownLatch(1);
  private final AtomicBoolean closed = new AtomicBoolean();

  final AtomicLong delivered = new AtomicLong();
  final AtomicLong accepted = new AtomicLong();
  final AtomicLong duplicates = new AtomicLong();
  final AtomicLong acked = new AtomicLong();
  final AtomicLong reclaimed = new AtomicLong();
  final AtomicLong deadLettered = new AtomicLong();
  final AtomicLong failures = new AtomicLong();

  /** Tests only: runs after a batch was read, before its events are published. */
  volatile Runnable beforePublishForTest = () -> {};

  /** Tests only: runs after a batch was committed, before it is settled. */
  volatile Runnable beforeAckForTest = () -> {};

  /** A unit set aside, and why. */
  record DeadLetter<T>(T unit, String reason) {}

  /** A unit whose events are to be published. */
  private record Pending<T>(T unit, List<Event> events, boolean array) {}

  /**
   * Takes over {@code redis} (closed by {@link #close()}); the thread starts with {@link #start()}.
   */
  ConsumerLoop(
      String where,
      String threadName,
      EventAggregator aggregator,
      SourceSettings settings,
      JedisPooled redis) {
    this.where = where;
    this.aggregator = aggregator;
    this.consumer = settings.consumerName();
    this.batchSize = settings.batchSize;
    this.blockMillis = settings.blockMillis();
    this.commitTimeout = settings.commitTimeout;
    this.retryDelay = settings.retryDelay;
    this.redis = redis;
    this.maxEventsPerPublish =
        Math.max(1, Math.min(MAX_EVENTS_PER_PUBLISH, aggregator.stats().queueCapacity()));
    this.thread = new Thread(this::run, threadName);
    this.thread.setDaemon(true);
  }

  /**
   * The next batch, at most {@link #batchSize} units, or an empty list when none came within the
   * block time (or when the call did other work, such as a claim pass that found nothing).
   */
  abstract List<T> next();

  /** What a unit holds. */
  abstract RedisEvents.Parsed parse(T unit);

  /**
   * After the events of {@code batch} are committed: releases every unit of it and copies the
   * {@code dead} ones to the dead letters, atomically.
   */
  abstract void settle(List<T> batch, List<DeadLetter<T>> dead);

  /** How a unit is named in logs (its id, or its start). */
  abstract String describe(T unit);

  /** Where the dead letters go, for logs. */
  abstract String deadLetterKey();

  /** After a failed round, before the retry delay: deliver the units in hand again next. */
  abstract void afterFailure(RuntimeException e);

  /** After the thread stopped, before the connection closes. */
  void afterStop() {}

  final void start() {
    thread.start();
  }

  private void run() {
    while (stop.getCount() > 0) {
      try {
        List<T> batch = next();
        if (!batch.isEmpty()) {
          handle(batch);
        }
      } catch (StopRequested e) {
        break;
      } catch (RuntimeException e) {
        failures.incrementAndGet();
        log.warn("{} - {} round failed, retrying what it holds: {}", where, consumer, e.toString());
        try {
          afterFailure(e);
        } catch (RuntimeException again) {
          log.warn("{} - {} recovery failed: {}", where, consumer, again.toString());
        }
        if (awaitStop(retryDelay)) {
          break;
        }
      }
    }
    log.info("{} - {} stopped", where, consumer);
  }

  /** Stores the batch's events, then settles the whole batch (and dead-letters what is invalid). */
  private void handle(List<T> batch) {
    delivered.addAndGet(batch.size());
    List<Pending<T>> pending = new ArrayList<>(batch.size());
    List<DeadLetter<T>> dead = new ArrayList<>(0);
    for (T unit : batch) {
      RedisEvents.Parsed parsed = parse(unit);
      if (parsed.reason() != null) {
        // Not events in the wire form: no retry can fix it, so it goes to the dead letters.
        dead.add(new DeadLetter<>(unit, parsed.reason()));
      } else if (parsed.events().size() > maxEventsPerPublish) {
        dead.add(
            new DeadLetter<>(
                unit,
                "holds "
                    + parsed.events().size()
                    + " events, more than the "
                    + maxEventsPerPublish
                    + " one publish may hold"));
      } else {
        pending.add(new Pending<>(unit, parsed.events(), parsed.array()));
      }
    }
    beforePublishForTest.run();
    int from = 0;
    while (from < pending.size()) {
      int to = from;
      int events = 0;
      while (to < pending.size()
          && (to == from || events + pending.get(to).events().size() <= maxEventsPerPublish)) {
        events += pending.get(to).events().size();
        to++;
      }
      publishDurably(new ArrayList<>(pending.subList(from, to)), dead);
      from = to;
    }
    beforeAckForTest.run();
    settle(batch, dead);
    acked.addAndGet(batch.size());
    for (DeadLetter<T> d : dead) {
      deadLettered.incrementAndGet();
      log.warn(
          "{} - {} is not valid events ({}); moved to {}",
          where,
          describe(d.unit()),
          d.reason(),
          deadLetterKey());
    }
  }

  /** Returns once the units' events are committed; units with invalid events move to dead. */
  private void publishDurably(List<Pending<T>> units, List<DeadLetter<T>> dead) {
    while (!units.isEmpty()) {
      List<Event> events = new ArrayList<>();
      List<Integer> owner = new ArrayList<>(); // the index in units of each event
      List<Integer> within = new ArrayList<>(); // its index inside its unit
      for (int u = 0; u < units.size(); u++) {
        List<Event> own = units.get(u).events();
        for (int i = 0; i < own.size(); i++) {
          events.add(own.get(i));
          owner.add(u);
          within.add(i);
        }
      }
      PublishResult result;
      try {
        result = aggregator.publish(events).get(commitTimeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (EventValidationException e) {
        // All-or-nothing validation: set the units with invalid events aside, publish the rest.
        Map<Integer, List<EventValidationException.Violation>> byUnit = new LinkedHashMap<>();
        for (EventValidationException.Violation v : e.violations()) {
          if (v.index() >= 0 && v.index() < events.size()) {
            byUnit
                .computeIfAbsent(owner.get(v.index()), u -> new ArrayList<>())
                .add(
                    new EventValidationException.Violation(
                        within.get(v.index()), v.field(), v.rule()));
          }
        }
        if (byUnit.isEmpty()) {
          throw e; // not about one of the events: a retry would fail alike
        }
        List<Pending<T>> kept = new ArrayList<>(units.size());
        for (int u = 0; u < units.size(); u++) {
          Pending<T> p = units.get(u);
          List<EventValidationException.Violation> violations = byUnit.get(u);
          if (violations == null) {
            kept.add(p);
          } else {
            dead.add(new DeadLetter<>(p.unit(), RedisEvents.reason(violations, p.array())));
          }
        }
        units = kept;
        continue;
      } catch (QueueFullException e) {
        if (awaitStop(retryDelay)) {
          throw new StopRequested();
        }
        continue;
      } catch (ExecutionException e) {
        throw new IllegalStateException("commit failed: " + e.getCause(), e.getCause());
      } catch (TimeoutException e) {
        throw new IllegalStateException("commit did not complete within " + commitTimeout, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new StopRequested();
      }
      accepted.addAndGet(result.accepted());
      duplicates.addAndGet(result.duplicates());
      return;
    }
  }

  /** Ends the loop without settling the batch in hand: it stays with this consumer in Redis. */
  private static final class StopRequested extends RuntimeException {
    private static final long serialVersionUID = 1L;

    StopRequested() {
      super(null, null, false, false);
    }
  }

  /** Waits {@code delay} or until close(); true if closing. */
  final boolean awaitStop(Duration delay) {
    try {
      return stop.await(delay.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return true;
    }
  }

  /** What the loop has done so far. */
  final RedisSourceStats stats() {
    return new RedisSourceStats(
        delivered.get(),
        accepted.get(),
        duplicates.get(),
        acked.get(),
        reclaimed.get(),
        deadLettered.get(),
        failures.get(),
        thread.isAlive());
  }

  /**
   * Stops reading, lets the batch in hand finish (commit and settle, bounded by the commit
   * timeout), and closes the connections. Idempotent. Units read and not settled stay with this
   * consumer in Redis.
   */
  final void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    stop.countDown();
    try {
      thread.join(commitTimeout.toMillis() + blockMillis + 5_000L);
      if (thread.isAlive()) {
        thread.interrupt();
        thread.join(5_000);
      }
      if (!thread.isAlive()) {
        afterStop();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      log.warn("{} - {} could not clean up on close: {}", where, consumer, e.toString());
    } finally {
      redis.close();
    }
  }
}
