package dev.aggregator.bench;

import dev.aggregator.AggregatorStats;
import dev.aggregator.Event;
import dev.aggregator.EventAggregator;
import dev.aggregator.sqlite.SqliteDedupStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Ingest with expiry running, against the same ingest without retention; and the cost of comparing
 * payloads of duplicates. Core ingest as in {@link IngestBenchmark} (batches of 1,000, 20%
 * duplicates that repeat the payload of their original, synchronous=NORMAL, 8 calls in flight),
 * into a store that already holds {@value #STORED} events when the measurement starts:
 *
 * <ul>
 *   <li>{@code expiry=none}: no retention, the store keeps growing (the baseline);
 *   <li>{@code expiry=count}: {@code maxStoredEvents} = {@value #STORED}: every transaction removes
 *       as many of the oldest events as it stores new ones;
 *   <li>{@code expiry=age}: a retention of {@value #WINDOW_SECONDS} s on a clock that the publisher
 *       moves forward by 1 ms per event, so the window holds the last {@value #STORED} events
 *       published (the new ones among them stored) and expiry by age keeps pace with the inserts.
 * </ul>
 *
 * {@code comparePayloads=false} turns off the comparison of a duplicate's payload with the stored
 * one ({@link SqliteDedupStore.Builder#comparePayloads}), the baseline of conflict detection.
 *
 * <pre>
 * java -jar aggregator-bench/target/benchmarks.jar RetentionBenchmark \
 *     -rf json -rff aggregator-bench/results/retention.json
 * </pre>
 *
 * Ratios: {@code count} and {@code age} over {@code none} (comparePayloads=true), and
 * comparePayloads=true over false (expiry=none).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
// AlwaysPreTouch: see IngestBenchmark.
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms4g", "-Xmx8g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 5, time = 5)
@State(Scope.Benchmark)
public class RetentionBenchmark {
  /** Events in the store when the measurement starts, and what expiry keeps it at. */
  static final int STORED = 1_000_000;

  /** The age limit of {@code expiry=age}: 1 ms of the benchmark clock per event. */
  static final long WINDOW_SECONDS = STORED / 1_000;

  /** How events leave the store. */
  public enum Expiry {
    /** They never do. */
    none,
    /** The oldest beyond {@link #STORED} go. */
    count,
    /** Those older than {@link #WINDOW_SECONDS} go. */
    age
  }

  /** How events leave the store. */
  @Param({"none", "count", "age"})
  public Expiry expiry;

  /** Whether duplicates' payloads are compared with the stored ones. */
  @Param({"true", "false"})
  public boolean comparePayloads;

  private Path dir;
  private Sink.AggregatorSink sink;
  private Workload workload;
  private List<List<Event>> chunk;
  private long accepted;

  @Setup(Level.Trial)
  public void open() throws Exception {
    dir = BenchDirs.freshWorkDir("retention-" + expiry + "-" + comparePayloads);
    sink = openPrefilled(dir, expiry, comparePayloads);
    workload = new Workload(42, 0.2);
  }

  /**
   * An aggregator on a new store in {@code dir} with {@value #STORED} events already in it, on a
   * clock that each publish call of 1,000 events moves forward by a second.
   */
  static Sink.AggregatorSink openPrefilled(Path dir, Expiry expiry, boolean comparePayloads) {
    SteppedClock clock = new SteppedClock(Instant.parse("2026-11-22T00:00:00Z"));
    EventAggregator.Builder builder =
        EventAggregator.builder()
            .store(
                SqliteDedupStore.builder(dir.resolve(Sink.DB_FILE))
                    .comparePayloads(comparePayloads)
                    .open())
            .clock(clock);
    if (expiry == Expiry.count) {
      builder.maxStoredEvents(STORED);
    } else if (expiry == Expiry.age) {
      builder.retention(Duration.ofSeconds(WINDOW_SECONDS));
    }
    // 1 ms of the benchmark clock per event: a call of 1,000 events moves it by a second.
    Sink.AggregatorSink sink =
        new Sink.AggregatorSink(builder.build(), 8, () -> clock.advance(1_000_000_000L));
    Workload fill = new Workload(StoreCache.FILL_SEED, 0);
    for (int done = 0; done < STORED; done += 100_000) {
      sink.ingest(fill.calls(100_000, 1_000));
    }
    return sink;
  }

  @Setup(Level.Invocation)
  public void generate() {
    chunk = workload.calls(IngestBenchmark.CHUNK, 1_000);
  }

  @Benchmark
  @OperationsPerInvocation(IngestBenchmark.CHUNK)
  public long ingest() {
    long n = sink.ingest(chunk);
    accepted += n;
    return n;
  }

  @TearDown(Level.Iteration)
  public void check() {
    AggregatorStats s = check(sink, expiry, accepted, workload);
    System.out.printf(
        "%n%s comparePayloads=%s: stored %,d, expired %,d, unique %,d%n",
        expiry, comparePayloads, s.stored(), s.expired(), s.uniqueProcessed());
  }

  /**
   * Dedup stays exact under expiry: a duplicate repeats one of the last 65,536 keys, which are all
   * still stored, so every distinct key is accepted once. Expiry keeps pace: with a limit, the
   * store holds its size. And retries of the same payload are no conflicts.
   */
  static AggregatorStats check(
      Sink.AggregatorSink sink, Expiry expiry, long accepted, Workload workload) {
    if (accepted != workload.distinctKeys()) {
      throw new IllegalStateException(
          expiry + " accepted " + accepted + " events of " + workload.distinctKeys() + " keys");
    }
    AggregatorStats s = sink.aggregator.stats();
    if (expiry != Expiry.none && (s.stored() > STORED + 5_000 || s.expired() == 0)) {
      throw new IllegalStateException("expiry did not keep pace: " + s);
    }
    if (s.payloadConflicts() != 0) {
      throw new IllegalStateException("retries of the same payload counted as conflicts: " + s);
    }
    return s;
  }

  @TearDown(Level.Trial)
  public void close() {
    sink.close();
    BenchDirs.delete(dir);
  }

  /** A clock that only the publishing thread moves, so receive times step evenly. */
  static final class SteppedClock extends Clock {
    private final Instant start;
    private final AtomicLong nanos = new AtomicLong();

    SteppedClock(Instant start) {
      this.start = start;
    }

    void advance(long byNanos) {
      nanos.addAndGet(byNanos);
    }

    @Override
    public Instant instant() {
      return start.plusNanos(nanos.get());
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException();
    }
  }
}
