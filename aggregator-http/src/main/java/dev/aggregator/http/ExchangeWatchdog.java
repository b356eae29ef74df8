package dev.aggregator.http;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/*
 * The request timeout of the JDK transport, built around com.sun.net.httpserver, which has none
 * per server (its sun.net.httpserver.maxReqTime is one value for the whole JVM).
 *
 * The JDK server reads a request's head, and the handler its body, with blocking reads on a
 * worker; it writes an answer with blocking writes. Every such stretch runs under a Watch: the
 * exchange task from its start until the handler has read the body, and every answer while it is
 * written. A watch still exposed after the request timeout gets its thread interrupted, which
 * closes the connection's channel (an interrupted blocking channel operation closes the channel):
 * the slow or stalled client is cut off and the worker is free again. What happens between reading
 * and writing (parsing, enqueueing) is shielded and never interrupted.
 *
 * An interrupt is delivered under the watch's lock and the watch is finished under the same lock,
 * so once finish() returns no interrupt for it can still come; the interrupt flag it may have left
 * is cleared then, before the thread runs anything else.
 */
/** Cuts off clients of the JDK transport that take longer than the request timeout. */
final class ExchangeWatchdog implements AutoCloseable {

  /** A watchdog that never interrupts: for the API mounted on an application's own server. */
  static final ExchangeWatchdog NONE = new ExchangeWatchdog();

  private final long timeoutNanos;
  private final Set<Watch> watches = ConcurrentHashMap.newKeySet();
  private final ThreadLocal<Watch> current = new ThreadLocal<>();
  private final ScheduledExecutorService ticker;

  private ExchangeWatchdog() {
    this.timeoutNanos = Long.MAX_VALUE;
    this.ticker = null;
  }

  ExchangeWatchdog(Duration timeout) {
    this.timeoutNanos = timeout.toNanos();
    this.ticker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "aggregator-http-watchdog");
              t.setDaemon(true);
              return t;
            });
    // A quarter of the timeout: a late client is cut off within 1.25 timeouts.
    long period =
        Math.max(TimeUnit.MILLISECONDS.toNanos(10), Math.min(timeoutNanos / 4, 1_000_000_000L));
    ticker.scheduleWithFixedDelay(this::check, period, period, TimeUnit.NANOSECONDS);
  }

  /** {@code workers}, with every task the JDK server hands it run under a watch. */
  Executor watching(Executor workers) {
    if (ticker == null) {
      return workers;
    }
    return task ->
        workers.execute(
            () -> {
              Watch w = begin();
              try {
                task.run();
              } finally {
                end(w);
              }
            });
  }

  /**
   * The request of the current exchange has been read: from now until its answer is written it is
   * not interrupted. False if it was too slow and its connection is being closed.
   */
  boolean shield() {
    Watch w = current.get();
    return w == null || w.shield();
  }

  /** Runs {@code write} (an answer going out) under a watch of the request timeout. */
  void exposed(Runnable write) {
    if (ticker == null) {
      write.run();
      return;
    }
    Watch w = current.get();
    if (w != null) { // written by the exchange's own task, whose end finishes the watch
      w.expose(timeoutNanos);
      write.run();
      return;
    }
    Watch fresh = begin();
    try {
      write.run();
    } finally {
      end(fresh);
    }
  }

  /**
   * Runs {@code read} (reading what a refused client still sends) for at most {@code budget}, on a
   * thread already under a watch. Without a watchdog (the API mounted on an application's server)
   * it does not run: nothing would stop it.
   */
  void lingering(Duration budget, Runnable read) {
    Watch w = current.get();
    if (ticker == null || w == null) {
      return;
    }
    w.expose(budget.toNanos());
    read.run();
  }

  private Watch begin() {
    Watch w = new Watch(Thread.currentThread(), System.nanoTime() + timeoutNanos);
    watches.add(w);
    current.set(w);
    return w;
  }

  private void end(Watch w) {
    w.finish();
    watches.remove(w);
    current.remove();
    Thread.interrupted(); // an interrupt for this watch, delivered before finish() took the lock
  }

  private void check() {
    long now = System.nanoTime();
    for (Watch w : watches) {
      w.interruptIfLate(now);
    }
  }

  /** Stops watching; no interrupt comes after this returns. */
  @Override
  public void close() {
    if (ticker != null) {
      ticker.shutdownNow();
      try {
        ticker.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** One thread's stretch of blocking I/O on behalf of one exchange. */
  private static final class Watch {
    private static final int EXPOSED = 0;
    private static final int SHIELDED = 1;
    private static final int EXPIRED = 2;
    private static final int DONE = 3;

    private final Thread thread;
    private long deadline;
    private int state = EXPOSED;

    Watch(Thread thread, long deadline) {
      this.thread = thread;
      this.deadline = deadline;
    }

    synchronized boolean shield() {
      if (state == EXPIRED) {
        return false;
      }
      state = SHIELDED;
      return true;
    }

    synchronized void expose(long budgetNanos) {
      if (state != EXPIRED) {
        state = EXPOSED;
        deadline = System.nanoTime() + budgetNanos;
      }
    }

    synchronized void finish() {
      state = DONE;
    }

    synchronized void interruptIfLate(long now) {
      if (state == EXPOSED && now - deadline >= 0) {
        state = EXPIRED;
        thread.interrupt();
      }
    }
  }
}
