package dev.aggregator.server.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The crash harness: the server jar as a child JVM under load from several HTTP clients is killed
 * (SIGKILL) at random moments, {@code crash.kills} times in a row (default 20; {@code
 * -Dcrash.kills=200} for the long mode), and restarted on the same database each time; then stopped
 * with SIGTERM under load a few times ({@code crash.terms}, default 3).
 *
 * <p>What a client learns decides what must hold. An event in a 200 answer is acknowledged: it must
 * be stored exactly once after any crash. An event in a 202 ({@code ack=queued}) answer is
 * acknowledged only for a graceful stop (SIGTERM must commit everything accepted). An event whose
 * request got no answer is in doubt: it may be stored or not, but at most once; the clients retry
 * in-doubt events in later rounds, as an at-least-once publisher would, so retries across crashes
 * are exercised. After every restart: every acknowledged event is listed once by {@code /events},
 * nothing is listed twice or that was never sent, {@code unique_processed} equals the rows, {@code
 * received == unique_processed + duplicate_dropped}, and {@code /health} is 200. At the end the
 * SQLite file itself is checked: rows, duplicates of (topic, event_id), counters.
 */
class CrashIT {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Duration START = Duration.ofSeconds(60);
  private static final int CLIENTS = 4;
  private static final int FRESH_PER_BATCH = 20;

  @TempDir Path dir;

  /**
   * A new client for every child: a restarted child may get the port of the killed one, and a
   * pooled connection to the dead process would fail the first request.
   */
  private volatile HttpClient http;

  private ChildServer startChild(String[] args) throws IOException, InterruptedException {
    http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    return ChildServer.startAndAwait(START, args);
  }

  /** topic/event_id of everything ever sent. */
  private final Set<String> sent = ConcurrentHashMap.newKeySet();

  /** Acknowledged by a 200 (durable): must survive any crash. */
  private final Set<String> acked = ConcurrentHashMap.newKeySet();

  /** Acknowledged by a 202 (queued) in a SIGTERM round: must survive a graceful stop. */
  private final Set<String> queuedAcked = ConcurrentHashMap.newKeySet();

  /** Sent without an answer: retried in later rounds. */
  private final ConcurrentLinkedQueue<String> inDoubt = new ConcurrentLinkedQueue<>();

  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong answered200 = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();

  @Test
  void killAndTerminateUnderLoad_acknowledgedEventsStoredExactlyOnce() throws Exception {
    int kills = Integer.getInteger("crash.kills", 20);
    int terms = Integer.getInteger("crash.terms", 3);
    long seed = Long.getLong("crash.seed", System.nanoTime());
    Random random = new Random(seed);
    Path db = dir.resolve("crash.db");
    String[] args = {
      "--db",
      db.toString(),
      "--log-file",
      dir.resolve("crash.log").toString(),
      "--log-level",
      "WARN"
    };
    long started = System.nanoTime();

    for (int round = 0; round < kills; round++) {
      try (ChildServer child = startChild(args)) {
        verify(child, "before kill round " + round + " (seed " + seed + ")");
        Load load = new Load(child.port, round, false);
        // The random moment: 50..800 ms of load (waitFor returns early only if the child died).
        boolean died = child.process.waitFor(50 + random.nextInt(750), TimeUnit.MILLISECONDS);
        assertTrue(!died, "the child died on its own:\n" + child.output());
        child.kill();
        load.stopAndJoin();
      }
    }

    for (int round = 0; round < terms; round++) {
      try (ChildServer child = startChild(args)) {
        verify(child, "before SIGTERM round " + round + " (seed " + seed + ")");
        Load load = new Load(child.port, kills + round, true);
        child.process.waitFor(200 + random.nextInt(600), TimeUnit.MILLISECONDS);
        child.terminate();
        int status = child.awaitExit(Duration.ofSeconds(60));
        load.stopAndJoin();
        String out = child.output();
        assertEquals(0, status, out);
        assertTrue(out.contains("all committed"), out);
        assertFalse(Files.exists(Path.of(db + ".lock")), "a clean stop left the lock file behind");
      }
    }

    long rows;
    try (ChildServer child = startChild(args)) {
      rows = verify(child, "after all rounds (seed " + seed + ")");
      child.terminate();
      assertEquals(0, child.awaitExit(Duration.ofSeconds(60)), child.output());
    }
    verifyFile(db, rows);

    String summary =
        String.format(
            "crash harness: %d SIGKILL + %d SIGTERM rounds, %d clients, %d requests (%d answered 200,"
                + " %d failed/refused), %d events sent, %d acknowledged durable (200), %d"
                + " acknowledged queued (202, SIGTERM rounds), %d stored, 0 acknowledged lost, 0"
                + " stored twice, %.1f s, seed %d",
            kills,
            terms,
            CLIENTS,
            requests.get(),
            answered200.get(),
            failed.get(),
            sent.size(),
            acked.size(),
            queuedAcked.size(),
            rows,
            (System.nanoTime() - started) / 1e9,
            seed);
    System.out.println(summary);
    Path report = Path.of("target", "reliability", "crash-summary.txt");
    Files.createDirectories(report.getParent());
    Files.writeString(report, summary + "\n");
    assertTrue(acked.size() > 0, "no publish was ever acknowledged: the harness tested nothing");
  }

  /** Several client threads publishing until stopped; the server dying ends them too. */
  private final class Load {
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();

    Load(int port, int round, boolean graceful) {
      for (int c = 0; c < CLIENTS; c++) {
        int client = c;
        Thread t = new Thread(() -> run(port, round, client, graceful), "crash-client-" + client);
        t.setDaemon(true);
        threads.add(t);
        t.start();
      }
    }

    private void run(int port, int round, int client, boolean graceful) {
      String topic = "crash-t" + client;
      int seq = 0;
      int batchNo = 0;
      while (!stop.get()) {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
          String retry = inDoubt.poll();
          if (retry == null) {
            break;
          }
          keys.add(retry);
        }
        for (int i = 0; i < FRESH_PER_BATCH; i++) {
          String key = topic + "/r" + round + "-" + seq++;
          sent.add(key);
          keys.add(key);
        }
        if (batchNo > 0) {
          keys.add(keys.get(keys.size() - 1)); // a duplicate inside the batch
        }
        boolean queued = graceful && batchNo % 2 == 1;
        batchNo++;
        requests.incrementAndGet();
        try {
          HttpResponse<String> r =
              http.send(
                  HttpRequest.newBuilder(
                          URI.create(
                              "http://127.0.0.1:"
                                  + port
                                  + "/publish"
                                  + (queued ? "?ack=queued" : "")))
                      .timeout(Duration.ofSeconds(30))
                      .POST(HttpRequest.BodyPublishers.ofString(body(keys)))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() == 200) {
            answered200.incrementAndGet();
            JsonNode results = MAPPER.readTree(r.body()).get("results");
            if (results.size() != keys.size()) {
              throw new AssertionError("results do not match the batch: " + r.body());
            }
            acked.addAll(keys);
          } else if (r.statusCode() == 202) {
            queuedAcked.addAll(keys);
          } else {
            failed.incrementAndGet();
            inDoubtAll(keys); // 503 unavailable while stopping: nothing stored, retry later
          }
        } catch (IOException e) {
          failed.incrementAndGet();
          inDoubtAll(keys);
          return; // the server is gone
        } catch (InterruptedException e) {
          inDoubtAll(keys);
          Thread.currentThread().interrupt();
          return;
        }
      }
    }

    private void inDoubtAll(List<String> keys) {
      for (String k : new HashSet<>(keys)) {
        if (!acked.contains(k)) {
          inDoubt.add(k);
        }
      }
    }

    void stopAndJoin() throws InterruptedException {
      stop.set(true);
      for (Thread t : threads) {
        t.join(TimeUnit.SECONDS.toMillis(60));
        assertTrue(!t.isAlive(), t.getName() + " did not stop within 60 s");
      }
    }
  }

  private static String body(List<String> keys) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < keys.size(); i++) {
      String k = keys.get(i);
      int slash = k.indexOf('/');
      b.append(i == 0 ? "" : ",")
          .append("{\"topic\":\"")
          .append(k, 0, slash)
          .append("\",\"event_id\":\"")
          .append(k, slash + 1, k.length())
          .append("\",\"source\":\"crash-it\",\"payload\":{\"n\":")
          .append(i)
          .append("}}");
    }
    return b.append(']').toString();
  }

  /**
   * Checks the restarted server through its API; returns the number of rows. Every acknowledged
   * event is listed exactly once, nothing unknown is listed, the counters agree with the rows.
   */
  private long verify(ChildServer child, String when) throws Exception {
    String base = "http://127.0.0.1:" + child.port;
    HttpResponse<String> health = get(base + "/health");
    assertEquals(200, health.statusCode(), when + ": " + health.body());
    JsonNode stats = MAPPER.readTree(get(base + "/stats").body());
    long received = stats.get("received").asLong();
    long unique = stats.get("unique_processed").asLong();
    long dups = stats.get("duplicate_dropped").asLong();
    assertEquals(0, stats.get("queue_size").asLong(), when);
    assertEquals(received, unique + dups, when + ": received == unique + duplicates " + stats);

    Set<String> stored = new HashSet<>();
    long listed = 0;
    Map<String, Long> perTopic = new HashMap<>();
    long sumTopics = 0;
    for (Map.Entry<String, JsonNode> e : stats.get("topic_counts").properties()) {
      perTopic.put(e.getKey(), e.getValue().asLong());
      sumTopics += e.getValue().asLong();
    }
    assertEquals(unique, sumTopics, when + ": unique_processed == sum of topic_counts");
    for (Map.Entry<String, Long> t : perTopic.entrySet()) {
      String after = null;
      long n = 0;
      do {
        String url =
            base
                + "/events?limit=1000&topic="
                + URLEncoder.encode(t.getKey(), StandardCharsets.UTF_8)
                + (after == null
                    ? ""
                    : "&after=" + URLEncoder.encode(after, StandardCharsets.UTF_8));
        HttpResponse<String> r = get(url);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode page = MAPPER.readTree(r.body());
        for (JsonNode e : page.get("events")) {
          String key = e.get("topic").asText() + "/" + e.get("event_id").asText();
          if (!stored.add(key)) {
            throw new AssertionError(when + ": stored twice: " + key);
          }
          if (!sent.contains(key)) {
            throw new AssertionError(when + ": stored but never sent: " + key);
          }
          n++;
        }
        after = page.get("next").isNull() ? null : page.get("next").asText();
      } while (after != null);
      assertEquals(t.getValue().longValue(), n, when + ": topic_counts of " + t.getKey());
      listed += n;
    }
    assertEquals(unique, listed, when + ": unique_processed == rows listed");
    List<String> lost = new ArrayList<>();
    for (String k : acked) {
      if (!stored.contains(k)) {
        lost.add(k);
      }
    }
    for (String k : queuedAcked) {
      if (!stored.contains(k)) {
        lost.add(k + " (queued, SIGTERM)");
      }
    }
    assertTrue(lost.isEmpty(), when + ": acknowledged but lost: " + lost);
    return listed;
  }

  /** The database file itself, after the last stop: rows unique, counters equal to rows. */
  private static void verifyFile(Path db, long expectedRows) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement s = c.createStatement()) {
      try (ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM events")) {
        rs.next();
        assertEquals(expectedRows, rs.getLong(1), "rows in the file");
      }
      try (ResultSet rs =
          s.executeQuery(
              "SELECT COUNT(*) FROM (SELECT 1 FROM events GROUP BY topic_id, event_id"
                  + " HAVING COUNT(*) > 1)")) {
        rs.next();
        assertEquals(0, rs.getLong(1), "(topic, event_id) stored more than once in the file");
      }
      try (ResultSet rs =
          s.executeQuery("SELECT received, unique_processed, duplicate_dropped FROM counters")) {
        rs.next();
        assertEquals(expectedRows, rs.getLong(2), "unique_processed in the file");
        assertEquals(rs.getLong(1), rs.getLong(2) + rs.getLong(3), "received in the file");
      }
      try (ResultSet rs = s.executeQuery("SELECT SUM(event_count) FROM topics")) {
        rs.next();
        assertEquals(expectedRows, rs.getLong(1), "sum of the topics' event counts in the file");
      }
    }
  }

  private HttpResponse<String> get(String url) throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
