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
 * Core ingest: events per second, this design against the baselines in the same run. One operation
 * is one event; each invocation publishes {@value #CHUNK} pre-generated events (UUID keys, 5
 * topics, ~100-byte payload, {@code dupRatio} duplicates) as calls of {@code batch} events, with up
 * to {@code inFlight} calls in flight for the aggregator (the baselines are synchronous: one event
 * after the other), and returns when all are durable. The store starts empty in each fork and grows
 * over the iterations (several million events: "sustained").
 *
 * <p>The acceptance run (batch 1,000, 20% duplicates, NORMAL, every system):
 *
 * <pre>
 * java -jar aggregator-bench/target/benchmarks.jar IngestBenchmark -p batch=1000 -p dupRatio=0.2 \
 *     -p sync=NORMAL -rf json -rff aggregator-bench/results/ingest-core.json
 * </pre>
 *
 * What the time blocks behind range queries cost ingest, with and without them in one run:
 *
 * <pre>
 * java -jar aggregator-bench/target/benchmarks.jar IngestBenchmark -p impl=aggregator \
 *     -p batch=1000 -p dupRatio=0.2 -p sync=NORMAL -p timeBlocks=true,false
 * </pre>
 *
 * The whole matrix (impl x batch 1/100/1000 x dupRatio 0/0.2 x NORMAL/FULL) takes about an hour:
 * {@code java -jar aggregator-bench/target/benchmarks.jar IngestBenchmark}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
// AlwaysPreTouch: without it the first ~15 s of a fork run at about half speed, every fresh heap
// page faulting on its first allocation (async-profiler: page faults under Jackson's allocations
// on the publishing thread); iterations in that window made the scores swing by 2x.
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms4g", "-Xmx8g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 1, time = 5)
@Measurement(iterations = 3, time = 5)
@State(Scope.Benchmark)
public class IngestBenchmark {
  /** Events per invocation. */
  static final int CHUNK = 20_000;

  /** The system under test. */
  @Param({"aggregator", "autocommit", "autocommit_wal", "camel", "memory"})
  public Impl impl;

  /** Events per publish call. */
  @Param({"1", "100", "1000"})
  public int batch;

  /** Share of events that repeat a recent key. */
  @Param({"0", "0.2"})
  public double dupRatio;

  /** SQLite synchronous mode, for this design and the SQLite baselines. */
  @Param({"NORMAL", "FULL"})
  public SqliteDedupStore.Synchronous sync;

  /**
   * Whether the SQLite store writes its time blocks (aggregator only): {@code -p
   * timeBlocks=true,false -p impl=aggregator} measures what range queries cost ingest, both in one
   * run.
   */
  @Param({"true"})
  public boolean timeBlocks;

  /** Publish calls in flight at once (aggregator only). */
  @Param({"8"})
  public int inFlight;

  private Path dir;
  private Sink sink;
  private Workload workload;
  private List<List<Event>> chunk;
  private long accepted;

  @Setup(Level.Trial)
  public void open() throws Exception {
    // Read by SqliteDedupStore's builder when the sink opens the store.
    System.setProperty("dev.aggregator.sqlite.timeBlocks", Boolean.toString(timeBlocks));
    dir = BenchDirs.freshWorkDir("ingest-" + impl);
    sink = Sink.open(impl, dir, sync, inFlight);
    workload = new Workload(42, dupRatio);
  }

  @Setup(Level.Invocation)
  public void generate() {
    chunk = workload.calls(CHUNK, batch);
  }

  @Benchmark
  @OperationsPerInvocation(CHUNK)
  public long ingest() throws Exception {
    long n = sink.ingest(chunk);
    accepted += n;
    return n;
  }

  /** Dedup must stay exact while it is fast: every distinct key accepted once, no other. */
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
  public void close() throws Exception {
    sink.close();
    BenchDirs.delete(dir);
  }
}
