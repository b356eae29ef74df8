package dev.aggregator.bench;

import dev.aggregator.Event;
import dev.aggregator.bench.RetentionBenchmark.Expiry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@link RetentionBenchmark}'s configurations side by side in one JVM, for a machine that others
 * load too: each configuration on its own store (prefilled with {@value RetentionBenchmark#STORED}
 * events, as there), and they take turns, one turn being {@value IngestBenchmark#CHUNK} events
 * through the aggregator, in a rotating order. Load from elsewhere then falls on all of them alike,
 * where JMH, one configuration after the other, attributes a busy minute to whichever ran in it.
 * The first {@code warmup} cycles are not counted. Prints each configuration's events/s over its
 * own turns and the two ratios of the retention work: expiry by count and by age over no expiry,
 * and comparing payloads over not comparing (no expiry).
 *
 * <pre>
 * java -Xms4g -Xmx8g -XX:+AlwaysPreTouch -cp aggregator-bench/target/benchmarks.jar \
 *     dev.aggregator.bench.RetentionInterleaved [cycles [warmup]]
 * </pre>
 */
public final class RetentionInterleaved {
  private RetentionInterleaved() {}

  private record Config(Expiry expiry, boolean comparePayloads) {
    @Override
    public String toString() {
      return expiry + (comparePayloads ? "" : "/nocompare");
    }
  }

  public static void main(String[] args) throws Exception {
    int cycles = args.length > 0 ? Integer.parseInt(args[0]) : 60;
    int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    List<Config> configs =
        List.of(
            new Config(Expiry.none, true),
            new Config(Expiry.count, true),
            new Config(Expiry.age, true),
            new Config(Expiry.none, false));
    int n = configs.size();
    List<Path> dirs = new ArrayList<>();
    List<Sink.AggregatorSink> sinks = new ArrayList<>();
    List<Workload> workloads = new ArrayList<>();
    long[] accepted = new long[n];
    long[] nanos = new long[n];
    long[] events = new long[n];
    try {
      for (Config c : configs) {
        Path dir = BenchDirs.freshWorkDir("retention-interleaved-" + c.expiry());
        dirs.add(dir);
        sinks.add(RetentionBenchmark.openPrefilled(dir, c.expiry(), c.comparePayloads()));
        workloads.add(new Workload(42, 0.2)); // the same events for every configuration
      }
      for (int cycle = 0; cycle < cycles; cycle++) {
        for (int turn = 0; turn < n; turn++) {
          int k = (cycle + turn) % n;
          List<List<Event>> chunk = workloads.get(k).calls(IngestBenchmark.CHUNK, 1_000);
          long start = System.nanoTime();
          accepted[k] += sinks.get(k).ingest(chunk);
          long elapsed = System.nanoTime() - start;
          if (cycle >= warmup) {
            nanos[k] += elapsed;
            events[k] += IngestBenchmark.CHUNK;
          }
        }
      }
      double[] rate = new double[n];
      for (int k = 0; k < n; k++) {
        RetentionBenchmark.check(
            sinks.get(k), configs.get(k).expiry(), accepted[k], workloads.get(k));
        rate[k] = events[k] * 1e9 / nanos[k];
        System.out.printf(
            Locale.ROOT,
            "%-16s %,10.0f events/s  (%s)%n",
            configs.get(k),
            rate[k],
            sinks.get(k).aggregator.stats());
      }
      System.out.printf(
          Locale.ROOT,
          "{\"cycles\": %d, \"warmup\": %d, \"count_over_none\": %.3f, \"age_over_none\": %.3f,"
              + " \"compare_over_nocompare\": %.3f}%n",
          cycles,
          warmup,
          rate[1] / rate[0],
          rate[2] / rate[0],
          rate[0] / rate[3]);
    } finally {
      sinks.forEach(Sink::close);
      dirs.forEach(BenchDirs::delete);
    }
  }
}
