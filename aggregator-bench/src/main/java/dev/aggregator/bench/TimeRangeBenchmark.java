package dev.aggregator.bench;

import dev.aggregator.EventPage;
import dev.aggregator.EventQuery;
import dev.aggregator.sqlite.SqliteDedupStore;
import dev.aggregator.store.PendingEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A time-range query on a large SQLite store: the first page (1,000 events) of one topic's events
 * in a 1-minute window, with the time blocks ({@code timeBlocks=true}) and without them, the
 * unindexed scan of the topic ({@code false}), on the same file in the same run.
 *
 * <p>The store: {@code stored} events of 5 topics, one a millisecond of event time, each with up to
 * 2 s of jitter and 1% late by up to 10 minutes (publishers' clocks and retries), appended in
 * commits of 1,000 as the writer does; built once into {@code
 * <bench.dir>/stores/timerange-<stored>} and reused (delete it to rebuild). Each query picks a
 * window start at random inside the stored span.
 *
 * <pre>
 * java -jar aggregator-bench/target/benchmarks.jar TimeRangeBenchmark -p stored=10000000
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms2g", "-Xmx4g"})
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 5)
@State(Scope.Benchmark)
public class TimeRangeBenchmark {
  private static final Instant START = Instant.parse("2025-10-24T00:00:00Z");
  private static final int TOPICS = 5;
  private static final int COMMIT = 1000;

  /** Events in the store. */
  @Param({"1000000"})
  public long stored;

  /** true: the time blocks narrow the read; false: the baseline, every event of the topic. */
  @Param({"true", "false"})
  public boolean timeBlocks;

  /** Ingest order or timestamp order within the window. */
  @Param({"INGEST", "TIMESTAMP"})
  public EventQuery.OrderBy orderBy;

  private SqliteDedupStore store;
  private final SplittableRandom random = new SplittableRandom(3);

  @Setup(Level.Trial)
  public void open() throws Exception {
    Path dir = BenchDirs.root().resolve("stores").resolve("timerange-" + stored);
    if (!Files.exists(dir.resolve("complete"))) {
      build(dir, stored);
    }
    System.setProperty("dev.aggregator.sqlite.timeBlocks", Boolean.toString(timeBlocks));
    store = SqliteDedupStore.open(dir.resolve("events.db"));
  }

  private static void build(Path dir, long stored) throws Exception {
    BenchDirs.delete(dir);
    Files.createDirectories(dir);
    long began = System.nanoTime();
    SplittableRandom random = new SplittableRandom(11);
    try (SqliteDedupStore store = SqliteDedupStore.open(dir.resolve("events.db"))) {
      List<PendingEvent> batch = new ArrayList<>(COMMIT);
      for (long i = 0; i < stored; i++) {
        long millis = i + random.nextInt(-2000, 2001);
        if (random.nextInt(100) == 0) {
          millis -= random.nextInt(600_000);
        }
        Instant ts = START.plusMillis(millis);
        Instant received = START.plusMillis(i + 3000);
        batch.add(
            new PendingEvent(
                "topic-" + (i % TOPICS),
                "evt-" + i,
                ts,
                "bench",
                "{\"n\":" + i + ",\"note\":\"a payload of about a hundred bytes for the range\"}",
                received));
        if (batch.size() == COMMIT) {
          store.append(batch);
          batch.clear();
        }
      }
      if (!batch.isEmpty()) {
        store.append(batch);
      }
    }
    Files.writeString(
        dir.resolve("complete"), "built in " + (System.nanoTime() - began) / 1_000_000 + " ms\n");
  }

  @Benchmark
  public int oneMinuteWindow() {
    Instant from = START.plusMillis(random.nextLong(Math.max(1, stored - 60_000)));
    EventPage page =
        store.events(
            EventQuery.topic("topic-0")
                .limit(EventQuery.MAX_LIMIT)
                .orderBy(orderBy)
                .between(from, from.plusSeconds(60)));
    if (page.events().isEmpty()) {
      throw new IllegalStateException("no event in the minute from " + from);
    }
    return page.events().size();
  }

  @TearDown(Level.Trial)
  public void close() {
    store.close();
  }
}
