package dev.aggregator.bench;

import dev.aggregator.Event;
import dev.aggregator.sqlite.SqliteDedupStore;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
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
 * Reopen a store of {@code stored} events and serve: open it, publish one new event and get its
 * durable answer. Single shot per invocation (the OS page cache is warm: the file was just copied
 * and read before). After each open, before closing, it also measures the heap the open store
 * retains (used heap after a full GC, minus the same before opening) divided by the stored keys,
 * and prints it as {@code heap-bytes-per-key <impl> <value>} and into {@code
 * aggregator-bench/results/heap-<impl>.txt}. For the memory baseline "open" means re-inserting the
 * stored keys into a new set, the only way it could get them back.
 *
 * <pre>
 * java -jar aggregator-bench/target/benchmarks.jar ReopenBenchmark \
 *     -rf json -rff aggregator-bench/results/reopen.json
 * </pre>
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms4g", "-Xmx8g"})
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@State(Scope.Benchmark)
public class ReopenBenchmark {
  @Param({"aggregator", "autocommit_wal", "camel", "memory"})
  public Impl impl;

  @Param({"10000000"})
  public long stored;

  private Path dir;
  private Workload workload;
  private List<Event> oneEvent;
  private Sink sink;
  private long heapBefore;
  private Sink.MemorySink.Key[] memoryKeys;

  @Setup(Level.Trial)
  public void copy() throws Exception {
    workload = new Workload(44, 0);
    if (impl == Impl.memory) {
      dir = BenchDirs.freshWorkDir("reopen-memory");
      Workload fill = new Workload(StoreCache.FILL_SEED, 0);
      memoryKeys = new Sink.MemorySink.Key[Math.toIntExact(stored)];
      for (int i = 0; i < memoryKeys.length; i++) {
        Event e = fill.next();
        memoryKeys[i] = new Sink.MemorySink.Key(e.topic(), e.eventId());
      }
    } else {
      dir = StoreCache.workingCopy(impl, stored);
    }
  }

  @Setup(Level.Invocation)
  public void before() {
    oneEvent = List.of(workload.next());
    heapBefore = usedHeapAfterGc();
  }

  @Benchmark
  public long reopenAndServe() throws Exception {
    if (impl == Impl.memory) {
      Sink.MemorySink memory = new Sink.MemorySink();
      for (Sink.MemorySink.Key key : memoryKeys) {
        memory.keys.add(key);
      }
      sink = memory;
    } else {
      sink = Sink.open(impl, dir, SqliteDedupStore.Synchronous.NORMAL, 8);
    }
    long accepted = sink.ingest(List.of(oneEvent));
    if (accepted != 1) {
      throw new IllegalStateException(impl + " did not accept a new event after reopening");
    }
    return accepted;
  }

  @TearDown(Level.Invocation)
  public void measureHeapAndClose() throws IOException {
    long retained = usedHeapAfterGc() - heapBefore;
    String line =
        String.format(
            Locale.ROOT, "heap-bytes-per-key %s %.1f", impl, (double) retained / (stored + 1));
    System.out.println(line);
    Path results = BenchDirs.root().resolveSibling("results");
    Files.createDirectories(results);
    Files.writeString(results.resolve("heap-" + impl + ".txt"), line + "\n");
    sink.close();
    sink = null;
  }

  @TearDown(Level.Trial)
  public void delete() {
    BenchDirs.delete(dir);
  }

  private static long usedHeapAfterGc() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
