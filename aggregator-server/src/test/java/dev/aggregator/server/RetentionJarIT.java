package dev.aggregator.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aggregator.testing.Await;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Random;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention on the jar, with real time: the dedup window holds across restarts (a retained key is
 * not forgotten, an expired event does not come back), and a minute of steady ingest with
 * duplicates keeps the stored events and the database's size bounded. The long soak behind the
 * figures of RELIABILITY.md is aggregator-server/retention-soak.sh.
 */
class RetentionJarIT {
  private static final Duration START = Duration.ofSeconds(60);

  @TempDir Path dir;

  private JarServer start(String retention) throws Exception {
    JarServer s = JarServer.start("window", dir, "--retention", retention);
    s.awaitListening(START);
    return s;
  }

  private static String status(JsonNode answer) {
    return answer.get("results").get(0).get("status").asText();
  }

  private static void assertCounters(
      JsonNode st, long received, long unique, long duplicates, long expired, long stored) {
    String all = st.toString();
    assertEquals(received, st.get("received").asLong(), all);
    assertEquals(unique, st.get("unique_processed").asLong(), all);
    assertEquals(duplicates, st.get("duplicate_dropped").asLong(), all);
    assertEquals(expired, st.get("expired").asLong(), all);
    assertEquals(stored, st.get("stored").asLong(), all);
  }

  @Test
  void window_acrossRestarts_retainedKeyStaysDuplicate_expiredEventNeverComesBack()
      throws Exception {
    String k = "{\"topic\":\"t\",\"event_id\":\"k\"}";
    try (JarServer s = start("4s")) {
      assertEquals("accepted", status(s.post("/publish", k, 200)));
      assertEquals(0, s.stop());
    }
    try (JarServer s = start("4s")) {
      // Restarted inside the window: the key is still a duplicate.
      assertEquals("duplicate", status(s.post("/publish", k, 200)));
      Await.until(
          "the event to expire",
          Duration.ofSeconds(20),
          () -> s.get("/events?topic=t").get("count").asInt() == 0);
      assertEquals("accepted", status(s.post("/publish", k, 200)));
      assertCounters(s.get("/stats"), 3, 2, 1, 1, 1);
      assertEquals(0, s.stop());
    }
    try (JarServer s = start("1h")) {
      // Expiry is durable: the expired event stays gone, the counters as they were.
      assertCounters(s.get("/stats"), 3, 2, 1, 1, 1);
      assertEquals(1, s.get("/events?topic=t").get("count").asInt());
      assertEquals("duplicate", status(s.post("/publish", k, 200)));
      assertEquals(0, s.stop());
    }
  }

  @Test
  void aMinuteOfSteadyIngest_storedAndDatabaseSizeBounded_countersExact() throws Exception {
    try (JarServer s = start("5s")) {
      Random random = new Random(42);
      Deque<String> recent = new ArrayDeque<>();
      long sent = 0;
      long duplicates = 0;
      long next = System.nanoTime();
      List<long[]> samples = new ArrayList<>(); // seconds, stored, bytes
      long t0 = System.nanoTime();
      long lastSample = 0;
      int batch = 0;
      while (System.nanoTime() - t0 < Duration.ofSeconds(62).toNanos()) {
        StringBuilder body = new StringBuilder("[");
        for (int i = 0; i < 100; i++) {
          String id;
          if (!recent.isEmpty() && random.nextDouble() < 0.2) {
            id = recent.peekLast(); // a retry of a key sent a moment ago: still retained
            duplicates++;
          } else {
            id = "e-" + batch + "-" + i;
            recent.addLast(id);
            if (recent.size() > 50) {
              recent.removeFirst();
            }
          }
          body.append(i == 0 ? "" : ",")
              .append("{\"topic\":\"soak\",\"event_id\":\"")
              .append(id)
              .append("\",\"payload\":{\"n\":")
              .append(i)
              .append("}}");
        }
        s.post("/publish", body.append("]").toString(), 200);
        sent += 100;
        batch++;
        long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
        if (seconds >= lastSample + 5) {
          lastSample = seconds;
          samples.add(new long[] {seconds, s.get("/stats").get("stored").asLong(), size()});
        }
        next += 50_000_000; // 20 requests a second: 2,000 events/s
        LockSupport.parkNanos(Math.max(0, next - System.nanoTime())); // pacing
      }
      JsonNode st = s.get("/stats");
      assertEquals(sent, st.get("received").asLong(), st.toString());
      assertEquals(duplicates, st.get("duplicate_dropped").asLong(), st.toString());
      assertEquals(
          st.get("unique_processed").asLong() - st.get("expired").asLong(),
          st.get("stored").asLong(),
          st.toString());
      assertTrue(st.get("expired").asLong() > 50_000, st.toString());
      // About 5 s of new keys (1,600 a second) are kept; never much more.
      for (long[] sample : samples) {
        assertTrue(sample[1] <= 16_000, "stored " + sample[1] + " at " + sample[0] + " s");
      }
      // The file stops growing once the first events expire: space is reused.
      long early = 0;
      long late = 0;
      for (long[] sample : samples) {
        if (sample[0] >= 15 && sample[0] < 30) {
          early = Math.max(early, sample[2]);
        } else if (sample[0] >= 45) {
          late = Math.max(late, sample[2]);
        }
      }
      assertTrue(early > 0 && late > 0, "samples: " + samples.size());
      assertTrue(late <= early * 5 / 4, "database grew from " + early + " to " + late + " bytes");
      assertEquals(0, s.stop());
    }
  }

  /** The database file and its WAL, in bytes. */
  private long size() throws IOException {
    long bytes = 0;
    for (String name : List.of("window.db", "window.db-wal")) {
      Path p = dir.resolve(name);
      if (Files.exists(p)) {
        bytes += Files.size(p);
      }
    }
    return bytes;
  }
}
