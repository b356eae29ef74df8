package dev.aggregator.bench;

import dev.aggregator.Event;
import dev.aggregator.sqlite.SqliteDedupStore;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * Publish to durable-ack latency at a fixed offered load, open loop, for this design and its
 * baselines in one run: publish calls of 1,000 events (20% duplicates, synchronous=NORMAL) are due
 * at fixed intervals, and each call's latency runs from when it was <em>due</em> to when its events
 * are durable.
 *
 * <p>Why not a JMH benchmark: JMH times the benchmark method, so a call that starts late, behind a
 * slow one, is timed from its late start and the wait is lost ("coordinated omission"): a stall of
 * 50 ms then shows as one slow call instead of the several calls it delayed. Here a call's clock
 * starts at its slot whatever happens. This design is driven as its users drive it, without waiting
 * for earlier answers (its writer groups whatever is queued); a synchronous baseline cannot overlap
 * calls, so its calls queue behind each other, and that wait counts too.
 *
 * <pre>
 * java -Xms4g -Xmx8g -XX:+AlwaysPreTouch -cp aggregator-bench/target/benchmarks.jar \
 *     dev.aggregator.bench.AckLatency aggregator:125000 autocommit_wal:8000 [seconds [warmup]]
 * </pre>
 *
 * <p>Each {@code impl:eventsPerSecond} runs on a fresh store, warms up ({@code warmup} seconds, 10
 * by default) and then measures {@code seconds} (30 by default); it prints one JSON line per
 * system. Run each system at half of the peak that IngestBenchmark measured for it.
 */
public final class AckLatency {
  private static final int EVENTS_PER_CALL = 1_000;

  private AckLatency() {}

  public static void main(String[] args) throws Exception {
    int systems = 0;
    while (systems < args.length && args[systems].contains(":")) {
      systems++;
    }
    if (systems == 0) {
      System.err.println("usage: AckLatency impl:eventsPerSecond... [seconds [warmupSeconds]]");
      System.exit(2);
    }
    int seconds = args.length > systems ? Integer.parseInt(args[systems]) : 30;
    int warmup = args.length > systems + 1 ? Integer.parseInt(args[systems + 1]) : 10;
    for (int i = 0; i < systems; i++) {
      String[] system = args[i].split(":");
      System.out.println(
          measure(Impl.valueOf(system[0]), Integer.parseInt(system[1]), seconds, warmup));
    }
  }

  private static String measure(Impl impl, int eventsPerSecond, int seconds, int warmup)
      throws Exception {
    long interval = TimeUnit.SECONDS.toNanos(1) * EVENTS_PER_CALL / eventsPerSecond;
    int warmupCalls = (int) (TimeUnit.SECONDS.toNanos(warmup) / interval);
    int calls = warmupCalls + (int) (TimeUnit.SECONDS.toNanos(seconds) / interval);
    Workload workload = new Workload(45, 0.2);
    long[] latency = new long[calls];
    LongAdder accepted = new LongAdder();
    Path dir = BenchDirs.freshWorkDir("ack-latency-" + impl);
    try (Sink sink = Sink.open(impl, dir, SqliteDedupStore.Synchronous.NORMAL, 1)) {
      CompletableFuture<?>[] acks = new CompletableFuture<?>[calls];
      long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
      for (int k = 0; k < calls; k++) {
        List<Event> call = workload.calls(EVENTS_PER_CALL, EVENTS_PER_CALL).get(0);
        long due = start + k * interval;
        for (long wait; (wait = due - System.nanoTime()) > 0; ) {
          LockSupport.parkNanos(wait);
        }
        int slot = k;
        acks[k] =
            sink.submit(call)
                .thenAccept(
                    newEvents -> {
                      latency[slot] = System.nanoTime() - due;
                      accepted.add(newEvents);
                    });
      }
      CompletableFuture.allOf(acks).join(); // the writes to latency[] happen-before this returns
    } finally {
      BenchDirs.delete(dir);
    }
    if (accepted.sum() != workload.distinctKeys()) { // fast must not mean inexact
      throw new IllegalStateException(
          impl + " accepted " + accepted.sum() + " events of " + workload.distinctKeys() + " keys");
    }
    long[] measured = Arrays.copyOfRange(latency, warmupCalls, calls);
    Arrays.sort(measured);
    return String.format(
        "{\"impl\": \"%s\", \"events_per_s\": %d, \"calls\": %d, \"p50_ms\": %.1f, \"p90_ms\": %.1f,"
            + " \"p99_ms\": %.1f, \"p99_9_ms\": %.1f, \"max_ms\": %.1f}",
        impl,
        eventsPerSecond,
        measured.length,
        millis(measured, 0.50),
        millis(measured, 0.90),
        millis(measured, 0.99),
        millis(measured, 0.999),
        measured[measured.length - 1] / 1e6);
  }

  /** The {@code q} quantile of sorted nanoseconds, in milliseconds (nearest rank). */
  private static double millis(long[] sorted, double q) {
    int rank = (int) Math.ceil(q * sorted.length);
    return sorted[Math.max(rank - 1, 0)] / 1e6;
  }
}
