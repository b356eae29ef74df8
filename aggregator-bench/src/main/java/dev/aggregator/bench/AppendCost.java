package dev.aggregator.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aggregator.Event;
import dev.aggregator.sqlite.SqliteDedupStore;
import dev.aggregator.store.PendingEvent;
import dev.aggregator.store.Retention;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A profiling aid, not a benchmark: the writer's CPU time per event and per batch in {@code
 * SqliteDedupStore.append}, batches of 1,000 (or the size given: 6 is what 16 single-event HTTP
 * clients make) with 20% duplicates, on one thread, into an empty store or a copy of the cached
 * store of 1M or 10M events (StoreCache) to see what the stored events cost. CPU time of the
 * calling thread is much less disturbed by other load on a shared 2-core machine than wall-clock
 * throughput, so it compares two versions of the store where JMH scores drown in noise:
 *
 * <pre>
 * java -cp aggregator-bench/target/benchmarks.jar dev.aggregator.bench.AppendCost \
 *     [events [batch [stored [keep|cap [compare|nocompare]]]]]
 * </pre>
 *
 * {@code cap} keeps the store at {@code stored} events ({@code maxStoredEvents}), so every batch
 * also removes as many events as it stores; {@code nocompare} turns off the comparison of
 * duplicates' payloads. Duplicates repeat their original's payload, as retries do.
 */
public final class AppendCost {
  private AppendCost() {}

  /** Bytes this process caused to be written to storage (Linux), or 0 where unknown. */
  private static long writeBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/io"))) {
        if (line.startsWith("write_bytes:")) {
          return Long.parseLong(line.substring("write_bytes:".length()).trim());
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: the figure is simply absent
    }
    return 0;
  }

  public static void main(String[] args) throws Exception {
    int events = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    int batchSize = args.length > 1 ? Integer.parseInt(args[1]) : 1_000;
    long stored = args.length > 2 ? Long.parseLong(args[2]) : 0;
    boolean cap = args.length > 3 && args[3].equals("cap");
    boolean compare = args.length <= 4 || !args[4].equals("nocompare");
    ObjectMapper mapper = new ObjectMapper();
    Workload workload = new Workload(42, 0.2);
    List<List<PendingEvent>> batches = new ArrayList<>();
    Instant now = Instant.now();
    for (List<Event> call : workload.calls(events, batchSize)) {
      List<PendingEvent> batch = new ArrayList<>(call.size());
      for (Event e : call) {
        batch.add(
            new PendingEvent(
                e.topic(),
                e.eventId(),
                e.timestamp(),
                e.source(),
                mapper.writeValueAsString(e.payload()),
                now));
      }
      batches.add(batch);
    }
    Path dir = StoreCache.workingCopy(Impl.aggregator, stored);
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    try (SqliteDedupStore store =
        SqliteDedupStore.builder(dir.resolve(Sink.DB_FILE)).comparePayloads(compare).open()) {
      if (cap) {
        store.retain(new Retention(null, Math.max(stored, 1), Clock.systemUTC()));
      }
      int warm = batches.size() / 5;
      for (int i = 0; i < warm; i++) {
        store.append(batches.get(i));
      }
      long written0 = writeBytes();
      long cpu0 = threads.getCurrentThreadCpuTime();
      long wall0 = System.nanoTime();
      long n = 0;
      for (int i = warm; i < batches.size(); i++) {
        n += store.append(batches.get(i)).size();
      }
      long cpu = threads.getCurrentThreadCpuTime() - cpu0;
      long wall = System.nanoTime() - wall0;
      long written = writeBytes() - written0;
      System.out.printf(
          "{\"stored\": %d, \"cap\": %b, \"compare\": %b, \"events\": %d, \"batch\": %d,"
              + " \"cpu_ns_per_event\": %.0f, \"cpu_ns_per_batch\":"
              + " %.0f, \"wall_ns_per_event\": %.0f, \"events_per_cpu_second\": %.0f,"
              + " \"disk_bytes_written_per_event\": %.0f}%n",
          stored,
          cap,
          compare,
          n,
          batchSize,
          (double) cpu / n,
          (double) cpu * batchSize / n,
          (double) wall / n,
          n * 1e9 / cpu,
          (double) written / n);
    } finally {
      BenchDirs.delete(dir);
    }
  }
}
