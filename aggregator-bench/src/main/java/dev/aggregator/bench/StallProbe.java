package dev.aggregator.bench;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A machine check, not a benchmark: one thread parks for 1 ms in a loop and reports every wake-up
 * more than 5 ms late. Run it beside a benchmark, in its own JVM: when it is woken tens of
 * milliseconds late too, the stalls a latency figure shows are the machine's (no runnable core, or
 * the VM not running at all), not the code under test: a guest kernel's proactive memory reclaim,
 * for one, can stop both vCPUs of a VM at once.
 *
 * <pre>
 * java -cp aggregator-bench/target/benchmarks.jar dev.aggregator.bench.StallProbe [seconds]
 * </pre>
 *
 * <p>Prints one line per late wake-up ({@code t=} seconds since the start, {@code late=} ms), then
 * a summary: how many were over 5 ms and over 20 ms, and the latest wake-up (max_late_ms).
 */
public final class StallProbe {
  private static final long PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

  private StallProbe() {}

  public static void main(String[] args) {
    long seconds = args.length > 0 ? Long.parseLong(args[0]) : 20;
    long start = System.nanoTime();
    long end = start + TimeUnit.SECONDS.toNanos(seconds);
    int over5 = 0;
    int over20 = 0;
    long worst = 0;
    for (long before; (before = System.nanoTime()) < end; ) {
      LockSupport.parkNanos(PARK_NANOS);
      long late = System.nanoTime() - before - PARK_NANOS;
      if (late > TimeUnit.MILLISECONDS.toNanos(5)) {
        over5++;
        System.out.printf("t=%.3f late=%.1f%n", (before - start) / 1e9, late / 1e6);
      }
      if (late > TimeUnit.MILLISECONDS.toNanos(20)) {
        over20++;
      }
      worst = Math.max(worst, late);
    }
    System.out.printf(
        "{\"seconds\": %d, \"late_over_5ms\": %d, \"late_over_20ms\": %d, \"max_late_ms\": %.1f}%n",
        seconds, over5, over20, worst / 1e6);
  }
}
