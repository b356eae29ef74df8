package dev.aggregator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aggregator.http.TestServer.Reply;
import dev.aggregator.sqlite.SqliteDedupStore;
import dev.aggregator.testing.Await;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many clients at once against a real server on SQLite: exact counts, reads stay fast. */
class ConcurrencyTest {
  private static final int CLIENTS = 50;
  private static final int REQUESTS = 100;

  @TempDir Path dir;

  private static HttpRequest publish(String base, String topic, String id) {
    return HttpRequest.newBuilder(URI.create(base + "/publish"))
        .timeout(Duration.ofSeconds(30))
        .POST(
            HttpRequest.BodyPublishers.ofString(
                "{\"topic\":\"" + topic + "\",\"event_id\":\"" + id + "\",\"payload\":{\"n\":1}}"))
        .build();
  }

  /**
   * 50 clients, 100 single-event POSTs each; every fifth request of a client resends an event that
   * belongs to the next client, so 20% of all requests are duplicates across clients, racing with
   * the originals.
   */
  @Test
  void publish_50ClientsWith20PercentCrossDuplicates_exactCountsNoErrors() throws Exception {
    try (TestServer s = new TestServer(SqliteDedupStore.open(dir.resolve("agg.db")))) {
      ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
      CountDownLatch start = new CountDownLatch(1);
      List<Future<long[]>> results = new ArrayList<>();
      for (int c = 0; c < CLIENTS; c++) {
        int client = c;
        results.add(
            pool.submit(
                () -> {
                  HttpClient http =
                      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                  long accepted = 0;
                  long duplicates = 0;
                  long other = 0;
                  int own = 0;
                  start.await();
                  for (int k = 0; k < REQUESTS; k++) {
                    String id =
                        k % 5 == 4
                            ? "c" + (client + 1) % CLIENTS + "-" + k / 5
                            : "c" + client + "-" + own++;
                    HttpResponse<String> r =
                        http.send(
                            publish(s.base, "load", id), HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() != 200) {
                      other++;
                      continue;
                    }
                    JsonNode body = TestServer.MAPPER.readTree(r.body());
                    accepted += body.get("accepted").asLong();
                    duplicates += body.get("duplicates").asLong();
                  }
                  return new long[] {accepted, duplicates, other};
                }));
      }
      start.countDown();
      long accepted = 0;
      long duplicates = 0;
      long failed = 0;
      for (Future<long[]> f : results) {
        long[] r = f.get(120, TimeUnit.SECONDS);
        accepted += r[0];
        duplicates += r[1];
        failed += r[2];
      }
      pool.shutdown();
      assertEquals(0, failed, "non-2xx answers");
      assertEquals(4000, accepted);
      assertEquals(1000, duplicates);
      JsonNode stats = s.get("/stats").json();
      assertEquals(5000, stats.get("received").asLong());
      assertEquals(4000, stats.get("unique_processed").asLong());
      assertEquals(1000, stats.get("duplicate_dropped").asLong());
      assertEquals(4000, stats.get("topic_counts").get("load").asLong());
      assertEquals(0, stats.get("queue_size").asInt());
    }
  }

  /** Readers are served while writers keep the writer thread busy. */
  @Test
  void statsAndHealth_duringFullSpeedIngest_answerFast() throws Exception {
    try (TestServer s = new TestServer(SqliteDedupStore.open(dir.resolve("load.db")))) {
      int loaders = 4;
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong sent = new AtomicLong();
      ExecutorService pool = Executors.newFixedThreadPool(loaders);
      List<Future<Long>> load = new ArrayList<>();
      for (int l = 0; l < loaders; l++) {
        int loader = l;
        load.add(
            pool.submit(
                () -> {
                  HttpClient http =
                      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                  long bad = 0;
                  for (int batch = 0; !stop.get(); batch++) {
                    StringBuilder b = new StringBuilder("[");
                    for (int i = 0; i < 200; i++) {
                      b.append(i == 0 ? "" : ",")
                          .append("{\"topic\":\"bulk\",\"event_id\":\"")
                          .append(loader)
                          .append('-')
                          .append(batch)
                          .append('-')
                          .append(i)
                          .append("\"}");
                    }
                    HttpRequest req =
                        HttpRequest.newBuilder(URI.create(s.base + "/publish"))
                            .POST(HttpRequest.BodyPublishers.ofString(b.append(']').toString()))
                            .build();
                    if (http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode()
                        != 200) {
                      bad++;
                    }
                    sent.addAndGet(200);
                  }
                  return bad;
                }));
      }
      // Let the load ramp up before probing.
      Await.until("20,000 events sent", Duration.ofSeconds(30), () -> sent.get() >= 20_000);
      long receivedBefore = s.get("/stats").json().get("received").asLong();
      List<Long> latenciesMicros = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        for (String path : List.of("/stats", "/health")) {
          long t0 = System.nanoTime();
          Reply r = s.send(s.request(path).timeout(Duration.ofSeconds(2)).GET().build());
          latenciesMicros.add((System.nanoTime() - t0) / 1000);
          assertEquals(200, r.status(), path + ": " + r.text());
        }
      }
      long receivedAfter = s.get("/stats").json().get("received").asLong();
      stop.set(true);
      for (Future<Long> f : load) {
        assertEquals(0, f.get(60, TimeUnit.SECONDS), "publishes answered non-200");
      }
      pool.shutdown();
      Collections.sort(latenciesMicros);
      long p50 = latenciesMicros.get(latenciesMicros.size() / 2);
      long p99 = latenciesMicros.get(latenciesMicros.size() * 99 / 100);
      long max = latenciesMicros.get(latenciesMicros.size() - 1);
      System.out.printf(
          "reads under ingest load: p50 %.2f ms, p99 %.2f ms, max %.2f ms; %d events committed"
              + " while probing%n",
          p50 / 1000.0, p99 / 1000.0, max / 1000.0, receivedAfter - receivedBefore);
      assertTrue(receivedAfter > receivedBefore, "ingest was running while probing");
      assertTrue(p99 < 500_000, "p99 of reads under load: " + p99 + " us");
    }
  }
}
