package dev.aggregator.testing;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Waiting in a test for something another thread or process does: a condition polled until it holds
 * or a deadline passes, then a failure that says what was awaited and what was last seen. The one
 * place for such waits, instead of hand-written deadline loops; polling starts at 1 ms and backs
 * off to 50 ms, so a fast condition is seen at once and a slow one costs little CPU.
 */
public final class Await {
  private Await() {}

  /** A condition to poll; one that throws is not met yet. */
  @FunctionalInterface
  public interface Condition {
    /** Whether it holds now. */
    boolean holds() throws Exception;
  }

  /** Waits until {@code condition} holds; fails after {@code timeout} naming {@code what}. */
  public static void until(String what, Duration timeout, Condition condition) {
    value(what, timeout, condition::holds, done -> done);
  }

  /**
   * Waits until {@code condition} holds; fails after {@code timeout} naming {@code what} and the
   * {@code state} it had then (the counters of a consumer, say).
   */
  public static void until(String what, Duration timeout, Condition condition, Supplier<?> state) {
    try {
      until(what, timeout, condition);
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; state: " + state.get(), e);
    }
  }

  /**
   * Polls {@code value} until {@code done} accepts what it returns, and returns that; fails after
   * {@code timeout} with {@code what} and the last value seen. A poll that throws counts as not
   * done yet (a server still starting, a connection refused), and its exception is reported if no
   * poll succeeds.
   */
  public static <T> T value(String what, Duration timeout, Callable<T> value, Predicate<T> done) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long pause = 1_000_000;
    T last = null;
    Exception failure = null;
    while (true) {
      try {
        last = value.call();
        failure = null;
        if (done.test(last)) {
          return last;
        }
      } catch (Exception e) {
        failure = e;
      }
      if (System.nanoTime() - deadline >= 0) {
        AssertionError timedOut =
            new AssertionError(
                "timed out after "
                    + timeout
                    + " waiting for "
                    + what
                    + (failure != null
                        ? "; last poll failed: " + failure
                        : "; last seen: " + last));
        if (failure != null) {
          timedOut.initCause(failure);
        }
        throw timedOut;
      }
      LockSupport.parkNanos(pause); // poll pacing, not synchronization
      pause = Math.min(pause * 2, 50_000_000);
    }
  }
}
