package dev.aggregator.bench;

import dev.aggregator.Event;
import dev.aggregator.sqlite.SqliteDedupStore;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
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
 * Publish to durable ack latency at a fixed, paced load: {@code callsPerSecond} publish calls of
 * 1,000 events (20% duplicates, synchronous=NORMAL), each sent at its slot (the wait is outside the
 * measured time) and measured until its future completes, i.e. until its COMMIT. Run it at half of
 * the peak measured by {@link IngestBenchmark} for the same system; JMH's sample mode reports
 * p50/p99/p99.9.
 *
 * <pre>
 * java -jar aggregator-bench/target/benchmarks.jar LatencyBenchmark -p impl=aggregator \
 *     -p callsPerSecond=60 -rf json -rff aggregator-bench/results/latency-aggregator.json
 * java -jar aggregator-bench/target/benchmarks.jar LatencyBenchmark -p impl=autocommit_wal \
 *     -p callsPerSecond=10 -rf json -rff aggregator-bench/results/latency-autocommit_wal.json
 * </pre>
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms4g", "-Xmx8g"})
@Warmup(iterations = 1, time = 5)
@Measurement(iterations = 2, time = 10)
@State(Scope.Benchmark)
public class LatencyBenchmark {
  @Param({"aggregator"})
  public Impl impl;

  /** Publish calls of 1,000 events per second. */
  @Param({"60"})
  public int callsPerSecond;

  private Path dir;
  private Sink sink;
  private Workload workload;
  private List<List<Event>> call;
  private long nextSlot;

  @Setup(Level.Trial)
  public void open() throws Exception {
    dir = BenchDirs.freshWorkDir("latency-" + impl);
    sink = Sink.open(impl, dir, SqliteDedupStore.Synchronous.NORMAL, 8);
    workload = new Workload(45, 0.2);
    nextSlot = System.nanoTime();
  }

  @Setup(Level.Invocation)
  public void pace() {
    call = workload.calls(1_000, 1_000);
    nextSlot += 1_000_000_000L / callsPerSecond;
    long wait;
    while ((wait = nextSlot - System.nanoTime()) > 0) {
      LockSupport.parkNanos(wait);
    }
  }

  @Benchmark
  public long publishUntilDurable() throws Exception {
    return sink.ingest(call);
  }

  @TearDown(Level.Trial)
  public void close() {
    sink.close();
    BenchDirs.delete(dir);
  }
}
