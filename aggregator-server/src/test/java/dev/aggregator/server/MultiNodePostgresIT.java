package dev.aggregator.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aggregator.postgres.PostgresTestDatabase;
import dev.aggregator.testing.RequiresPostgres;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three server processes on one PostgreSQL schema (the multi-node acceptance test): 30,000 events,
 * 20% of them duplicates, each duplicate POSTed to a different node than its original, all at once;
 * 60 of the duplicated batches are POSTed at the same instant as their originals (both requests
 * released by one barrier). Exactly one node answers {@code accepted} for each key, the table holds
 * each key once, {@code /stats} on every node gives the exact global counts, and {@code /events}
 * pages a topic completely through the nodes in turn (a cursor from one node works on another).
 */
@RequiresPostgres
class MultiNodePostgresIT {
  private static final int NODES = 3;
  private static final int BATCH = 50;
  private static final int UNIQUE = 24_000; // + 6,000 duplicates = 30,000 events sent
  private static final int DUPLICATED_BATCHES = 6_000 / BATCH; // batches 0..119 are sent twice
  private static final int SAME_INSTANT_BATCHES = 60; // batches 0..59: pair released together
  private static final int TOPICS = 4;
  private static final Duration START = Duration.ofSeconds(60);

  @TempDir Path dir;

  private final String schema = PostgresTestDatabase.freshSchema();
  private final List<JarServer> nodes = new ArrayList<>();

  @AfterEach
  void tearDown() throws InterruptedException {
    try {
      for (JarServer n : nodes) {
        assertEquals(0, n.stop(), n.name + " exit status:\n" + n.output());
      }
    } finally {
      nodes.forEach(JarServer::close);
      PostgresTestDatabase.drop(schema);
    }
  }

  static String storeUrl(String schema) {
    String url = PostgresTestDatabase.URL;
    return url + (url.contains("?") ? "&" : "?") + "schema=" + schema;
  }

  private static int originalNode(int batch) {
    return batch % NODES;
  }

  /** Never the original's node: one of the other two, alternating. */
  private static int duplicateNode(int batch) {
    return (originalNode(batch) + 1 + (batch / NODES) % 2) % NODES;
  }

  private static String key(int k) {
    return "evt-" + k;
  }

  private static String topic(int k) {
    return "orders-" + (k % TOPICS);
  }

  private static String body(int batch, String sentBy) {
    StringBuilder b = new StringBuilder("{\"events\":[");
    for (int k = batch * BATCH; k < (batch + 1) * BATCH; k++) {
      b.append(k == batch * BATCH ? "" : ",")
          .append("{\"topic\":\"")
          .append(topic(k))
          .append("\",\"event_id\":\"")
          .append(key(k))
          .append("\",\"source\":\"")
          .append(sentBy)
          .append("\",\"payload\":{\"k\":")
          .append(k)
          .append("}}");
    }
    return b.append("]}").toString();
  }

  @Test
  void threeNodes_duplicatesOnOtherNodesConcurrently_eachKeyStoredAndAcceptedOnce()
      throws Exception {
    String store = storeUrl(schema);
    for (int i = 0; i < NODES; i++) {
      nodes.add(JarServer.start("node" + i, dir, "--store", store));
    }
    for (JarServer n : nodes) {
      n.awaitListening(START); // started together: the schema is created once, under a lock
    }

    Map<String, AtomicInteger> accepted = new ConcurrentHashMap<>();
    AtomicLong duplicates = new AtomicLong();
    AtomicLong sent = new AtomicLong();

    // The general traffic: originals of batches 60..479 and duplicates of 60..119, shuffled, on
    // 6 threads; a duplicate may well arrive before its original.
    List<Callable<Void>> tasks = new ArrayList<>();
    for (int b = SAME_INSTANT_BATCHES; b < UNIQUE / BATCH; b++) {
      int batch = b;
      tasks.add(() -> send(originalNode(batch), batch, "original", accepted, duplicates, sent));
      if (b < DUPLICATED_BATCHES) {
        tasks.add(() -> send(duplicateNode(batch), batch, "duplicate", accepted, duplicates, sent));
      }
    }
    Collections.shuffle(tasks, new Random(6));
    // The same-instant pairs: two threads, each round both requests released by one barrier.
    CyclicBarrier together = new CyclicBarrier(2);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> running = new ArrayList<>();
      for (String role : List.of("original", "duplicate")) {
        running.add(
            pool.submit(
                () -> {
                  for (int b = 0; b < SAME_INSTANT_BATCHES; b++) {
                    together.await(30, TimeUnit.SECONDS);
                    int node = role.equals("original") ? originalNode(b) : duplicateNode(b);
                    send(node, b, role, accepted, duplicates, sent);
                  }
                  return null;
                }));
      }
      ExecutorService general = Executors.newFixedThreadPool(6);
      try {
        for (Future<Void> f : general.invokeAll(tasks, 90, TimeUnit.SECONDS)) {
          f.get(); // a failed or cancelled (timed-out) request fails the test here
        }
      } finally {
        general.shutdownNow();
      }
      for (Future<?> f : running) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    assertEquals(30_000, sent.get());
    // The union of the outcomes of all nodes: exactly one "accepted" per key.
    assertEquals(UNIQUE, accepted.size(), "keys accepted somewhere");
    Map<String, Integer> notOnce = new TreeMap<>();
    accepted.forEach(
        (k, n) -> {
          if (n.get() != 1) {
            notOnce.put(k, n.get());
          }
        });
    assertEquals(Map.of(), notOnce, "keys accepted more than once");
    assertEquals(6_000, duplicates.get());
    assertEquals(
        UNIQUE, PostgresTestDatabase.queryLong("SELECT count(*) FROM \"" + schema + "\".events"));

    // /stats on every node: the exact global counts.
    for (JarServer n : nodes) {
      JsonNode s = n.get("/stats");
      assertEquals(30_000, s.get("received").longValue(), n.name + " " + s);
      assertEquals(UNIQUE, s.get("unique_processed").longValue(), n.name + " " + s);
      assertEquals(6_000, s.get("duplicate_dropped").longValue(), n.name + " " + s);
      for (int t = 0; t < TOPICS; t++) {
        assertEquals(
            UNIQUE / TOPICS,
            s.get("topic_counts").path("orders-" + t).longValue(),
            n.name + " orders-" + t + " " + s);
      }
      assertEquals(0, s.get("queue_size").longValue(), n.name + " " + s);
    }

    // /events: one topic paged completely, each page from the next node, with the cursor of the
    // page before (from another node).
    Set<String> ids = new HashSet<>();
    int events = 0;
    String after = null;
    int page = 0;
    do {
      JarServer n = nodes.get(page++ % NODES);
      JsonNode p =
          n.get(
              "/events?topic=orders-1&limit=1000"
                  + (after == null
                      ? ""
                      : "&after="
                          + java.net.URLEncoder.encode(
                              after, java.nio.charset.StandardCharsets.UTF_8)));
      for (JsonNode e : p.get("events")) {
        ids.add(e.get("event_id").textValue());
        events++;
        assertEquals("orders-1", e.get("topic").textValue());
      }
      after = p.get("next").isNull() ? null : p.get("next").textValue();
      assertTrue(page < 100, "paging does not end");
    } while (after != null);
    assertEquals(UNIQUE / TOPICS, events, "events paged, duplicates included");
    assertEquals(UNIQUE / TOPICS, ids.size(), "distinct events paged");
    for (int k = 1; k < UNIQUE; k += TOPICS) {
      assertTrue(ids.contains(key(k)), key(k) + " missing from /events");
    }
    assertNotEquals(0, page - 1, "more than one page");
  }

  private Void send(
      int node,
      int batch,
      String role,
      Map<String, AtomicInteger> accepted,
      AtomicLong duplicates,
      AtomicLong sent)
      throws Exception {
    JsonNode r = nodes.get(node).post("/publish", body(batch, role + "@node" + node), 200);
    assertEquals(BATCH, r.get("received").intValue(), r.toString());
    for (JsonNode result : r.get("results")) {
      String status = result.get("status").textValue();
      if (status.equals("accepted")) {
        accepted
            .computeIfAbsent(result.get("event_id").textValue(), k -> new AtomicInteger())
            .incrementAndGet();
      } else {
        assertEquals("duplicate", status, result.toString());
        duplicates.incrementAndGet();
      }
    }
    sent.addAndGet(BATCH);
    return null;
  }
}
