package dev.aggregator.bench;

import dev.aggregator.Event;
import dev.aggregator.sqlite.SqliteDedupStore;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
 * Growth: core ingest (batches of 1,000, 20% duplicates, synchronous=NORMAL) into a store that
 * already holds {@code stored} events, for this design and the baselines. The stores are built once
 * by {@link StoreCache} into {@code aggregator-bench/target/stores/} (a few minutes the first time)
 * and copied into a fresh directory per trial. Short iterations, so the measured run adds little to
 * the stored count (about a million events for this design).
 *
 * <pre>
 * java -jar aggregator-bench/target/benchmarks.jar GrowthBenchmark \
 *     -rf json -rff aggregator-bench/results/growth.json
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
// AlwaysPreTouch: see IngestBenchmark (first-touch page faults halve the first ~15 s).
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms4g", "-Xmx8g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@State(Scope.Benchmark)
public class GrowthBenchmark {
  /** The system under test. */
  @Param({"aggregator", "autocommit", "autocommit_wal", "camel", "memory"})
  public Impl impl;

  /** Events already stored when the trial starts. */
  @Param({"0", "1000000", "10000000"})
  public long stored;

  private Path dir;
  private Sink sink;
  private Workload workload;
  private List<List<Event>> chunk;
  private long accepted;

  @Setup(Level.Trial)
  public void open() throws Exception {
    if (impl == Impl.memory) {
      dir = BenchDirs.freshWorkDir("growth-memory");
      Sink.MemorySink memory = new Sink.MemorySink();
      Workload fill = new Workload(StoreCache.FILL_SEED, 0);
      for (long i = 0; i < stored; i++) {
        Event e = fill.next();
        memory.keys.add(new Sink.MemorySink.Key(e.topic(), e.eventId()));
      }
      sink = memory;
    } else {
      dir = StoreCache.workingCopy(impl, stored);
      sink = Sink.open(impl, dir, SqliteDedupStore.Synchronous.NORMAL, 8);
    }
    workload = new Workload(43, 0.2);
  }

  @Setup(Level.Invocation)
  public void generate() {
    chunk = workload.calls(IngestBenchmark.CHUNK, 1_000);
  }

  @Benchmark
  @OperationsPerInvocation(IngestBenchmark.CHUNK)
  public long ingest() throws Exception {
    long n = sink.ingest(chunk);
    accepted += n;
    return n;
  }

  @TearDown(Level.Iteration)
  public void check() {
    if (accepted != workload.distinctKeys()) {
      throw new IllegalStateException(
          impl
              + " accepted "
              + accepted
              + " events, the workload had "
              + workload.distinctKeys()
              + " distinct keys");
    }
  }

  @TearDown(Level.Trial)
  public void close() {
    sink.close();
    BenchDirs.delete(dir);
  }
}
