package dev.aggregator.examples;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aggregator.AggregatorStats;
import dev.aggregator.Event;
import dev.aggregator.EventAggregator;
import dev.aggregator.sqlite.SqliteDedupStore;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;

/**
 * The in-process baseline of the HTTP figures: the same events as {@code loadgen} (UUID keys,
 * ~100-byte payloads, the same share of duplicates), the same batches and concurrency, published
 * straight to an {@link EventAggregator} on SQLite, without HTTP or JSON. Prints one JSON line.
 *
 * <p>{@code java -cp loadgen.jar dev.aggregator.examples.EmbeddedThroughput DB EVENTS BATCH
 * CONCURRENCY [DUP_RATIO] [RUNS]}: one warm-up run and RUNS measured runs on the same store.
 */
public final class EmbeddedThroughput {
  private EmbeddedThroughput() {}

  /** Runs the measurement; exits 1 if the counters do not add up. */
  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      System.err.println(
          "usage: EmbeddedThroughput DB EVENTS BATCH CONCURRENCY [DUP_RATIO] [RUNS]");
      System.exit(2);
    }
    Path db = Path.of(args[0]);
    int n = Integer.parseInt(args[1]);
    int batch = Integer.parseInt(args[2]);
    int concurrency = Integer.parseInt(args[3]);
    double dupRatio = args.length > 4 ? Double.parseDouble(args[4]) : 0.2;
    int runs = args.length > 5 ? Integer.parseInt(args[5]) : 3;
    try (EventAggregator aggregator =
        EventAggregator.builder().store(SqliteDedupStore.open(db)).build()) {
      for (int r = 0; r <= runs; r++) {
        List<List<List<Event>>> work = build(n, batch, concurrency, dupRatio, r);
        AggregatorStats before = aggregator.stats();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (List<List<Event>> mine : work) {
          Thread t =
              new Thread(
                  () -> {
                    try {
                      go.await();
                      for (List<Event> b : mine) {
                        aggregator.publish(b).join();
                      }
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  });
          t.start();
          threads.add(t);
        }
        long t0 = System.nanoTime();
        go.countDown();
        for (Thread t : threads) {
          t.join();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        AggregatorStats after = aggregator.stats();
        long received = after.received() - before.received();
        long dups = after.duplicateDropped() - before.duplicateDropped();
        if (received != n || dups != Math.round(n * dupRatio)) {
          System.err.println("counters do not add up: received " + received + ", dups " + dups);
          System.exit(1);
        }
        System.out.printf(
            "{\"run\":\"%s\",\"events\":%d,\"seconds\":%.3f,\"events_per_s\":%.1f}%n",
            r == 0 ? "warm-up" : String.valueOf(r), n, seconds, n / seconds);
      }
    }
  }

  private static List<List<List<Event>>> build(
      int n, int batch, int concurrency, double dupRatio, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed * 31 + System.nanoTime());
    var mapper = JsonMapper.builder().build();
    long dupLeft = Math.round(n * dupRatio);
    Event[] events = new Event[n];
    Instant ts = Instant.now();
    String pad = "x".repeat(75);
    for (int i = 0; i < n; i++) {
      if (i > 0 && rnd.nextLong(n - i) < dupLeft) {
        events[i] = events[rnd.nextInt(i)];
        dupLeft--;
      } else {
        ObjectNode payload = mapper.createObjectNode().put("seq", i).put("data", pad);
        events[i] =
            new Event(
                "loadgen." + rnd.nextInt(5),
                new UUID(rnd.nextLong(), rnd.nextLong()).toString(),
                ts,
                "loadgen",
                payload);
      }
    }
    List<List<List<Event>>> work = new ArrayList<>();
    for (int c = 0; c < concurrency; c++) {
      work.add(new ArrayList<>());
    }
    List<Event> all = List.of(events);
    for (int from = 0, r = 0; from < n; from += batch, r++) {
      work.get(r % concurrency).add(all.subList(from, Math.min(n, from + batch)));
    }
    return work;
  }
}
