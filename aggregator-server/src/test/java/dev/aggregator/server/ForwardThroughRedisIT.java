package dev.aggregator.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aggregator.postgres.PostgresTestDatabase;
import dev.aggregator.testing.Await;
import dev.aggregator.testing.RequiresPostgres;
import dev.aggregator.testing.RequiresRedis;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisPooled;

/**
 * Publisher -> server A ({@code --forward redis://}) -> Redis stream -> server B ({@code --source
 * redis://} {@code --store postgres://}) -> PostgreSQL, end to end through the HTTP API: A answers
 * 202 with one stream id per event, B stores every event once (a resent batch counts as
 * duplicates), the group's pending list ends empty, and an invalid event is refused by A with 422
 * without reaching the stream.
 */
@RequiresRedis
@RequiresPostgres
class ForwardThroughRedisIT {
  private static final String REDIS =
      System.getenv().getOrDefault("AGGREGATOR_TEST_REDIS", "127.0.0.1:6379");
  private static final Duration START = Duration.ofSeconds(60);
  private static final int EVENTS = 2_000;
  private static final int BATCH = 100;
  private static final int RESENT_BATCHES = 2; // the publisher retries 2 batches: 200 duplicates

  @TempDir Path dir;

  private final String schema = PostgresTestDatabase.freshSchema();
  private final String stream = "agg-it-" + UUID.randomUUID();
  private final JedisPooled redis = new JedisPooled(HostAndPort.from(REDIS));
  private final List<JarServer> servers = new ArrayList<>();

  @AfterEach
  void tearDown() throws InterruptedException {
    try {
      for (JarServer s : servers) {
        assertEquals(0, s.stop(), s.name + " exit status:\n" + s.output());
      }
    } finally {
      servers.forEach(JarServer::close);
      redis.del(stream, stream + ":dead-letter");
      redis.close();
      PostgresTestDatabase.drop(schema);
    }
  }

  private static String batch(int from, int n) {
    StringBuilder b = new StringBuilder("[");
    for (int i = from; i < from + n; i++) {
      b.append(i == from ? "" : ",")
          .append("{\"topic\":\"payments\",\"event_id\":\"pay-")
          .append(i)
          .append("\",\"timestamp\":\"2025-10-23T10:00:00Z\",\"source\":\"it\",\"payload\":{\"i\":")
          .append(i)
          .append("}}");
    }
    return b.append("]").toString();
  }

  @Test
  void publishToForwarder_consumerStoresInPostgres_everyEventOnceAndNothingPending()
      throws Exception {
    String redisUrl = "redis://" + REDIS + "/" + stream;
    String store = MultiNodePostgresIT.storeUrl(schema);
    // The consumer is configured through the environment, as compose.yaml configures it.
    JarServer consumer =
        JarServer.start(
            "consumer",
            dir,
            Map.of(
                "AGGREGATOR_STORE", store,
                "AGGREGATOR_SOURCE", redisUrl,
                "AGGREGATOR_CONSUMER", "aggregator-b"));
    servers.add(consumer);
    // The forwarder reads from the same store, so its /stats shows what the consumers stored.
    JarServer front = JarServer.start("front", dir, "--forward", redisUrl, "--store", store);
    servers.add(front);
    consumer.awaitListening(START);
    front.awaitListening(START);
    String source = consumer.awaitLine("source: stream ", START);
    assertTrue(
        source.contains("/" + stream + " (group aggregator, consumer aggregator-b)"), source);

    Set<String> streamIds = new HashSet<>();
    for (int from = 0; from < EVENTS; from += BATCH) {
      JsonNode r = front.post("/publish", batch(from, BATCH), 202);
      assertEquals(BATCH, r.get("received").intValue(), r.toString());
      assertEquals(BATCH, r.get("queued").intValue(), r.toString());
      assertEquals(BATCH, r.get("stream_ids").size(), r.toString());
      r.get("stream_ids").forEach(id -> streamIds.add(id.textValue()));
    }
    for (int b = 0; b < RESENT_BATCHES; b++) { // a publisher's retries
      JsonNode r = front.post("/publish", batch(b * BATCH, BATCH), 202);
      r.get("stream_ids").forEach(id -> streamIds.add(id.textValue()));
    }
    int sent = EVENTS + RESENT_BATCHES * BATCH;
    assertEquals(sent, streamIds.size(), "one new stream entry per event sent");
    // Refused at the front: nothing of the request reaches the stream.
    JsonNode refused = front.post("/publish", "[{\"topic\":\"payments\",\"event_id\":\" \"}]", 422);
    assertEquals("validation_failed", refused.get("error").textValue(), refused.toString());
    assertEquals(sent, redis.xlen(stream));

    // The consumer commits them to PostgreSQL; wait (bounded) for the counters.
    long expected = sent;
    JsonNode stats =
        Await.value(
            "all consumed",
            Duration.ofSeconds(60),
            () -> consumer.get("/stats"),
            st -> st.get("received").longValue() >= expected);
    for (JarServer s : servers) {
      JsonNode st = s.get("/stats");
      assertEquals(sent, st.get("received").longValue(), s.name + " " + st);
      assertEquals(EVENTS, st.get("unique_processed").longValue(), s.name + " " + st);
      assertEquals(
          RESENT_BATCHES * BATCH, st.get("duplicate_dropped").longValue(), s.name + " " + st);
      assertEquals(EVENTS, st.get("topic_counts").path("payments").longValue(), s.name + " " + st);
    }
    assertEquals(
        EVENTS, PostgresTestDatabase.queryLong("SELECT count(*) FROM \"" + schema + "\".events"));

    // Every event through B's /events, once, with its fields.
    Set<String> ids = new HashSet<>();
    String after = null;
    int pages = 0;
    do {
      JsonNode p =
          consumer.get(
              "/events?topic=payments&limit=500"
                  + (after == null
                      ? ""
                      : "&after=" + URLEncoder.encode(after, StandardCharsets.UTF_8)));
      for (JsonNode e : p.get("events")) {
        String id = e.get("event_id").textValue();
        assertTrue(ids.add(id), id + " paged twice");
        assertEquals("it", e.get("source").textValue());
        assertEquals(id, "pay-" + e.get("payload").get("i").intValue());
      }
      after = p.get("next").isNull() ? null : p.get("next").textValue();
      assertTrue(++pages < 50, "paging does not end");
    } while (after != null);
    assertEquals(EVENTS, ids.size());

    // Acknowledged only after the commit; by now nothing is pending and nothing dead-lettered.
    Await.value(
        "no stream entry pending",
        Duration.ofSeconds(30),
        () -> redis.xpending(stream, "aggregator").getTotal(),
        pending -> pending == 0);
    assertEquals(
        0, redis.exists(stream + ":dead-letter") ? redis.xlen(stream + ":dead-letter") : 0);
  }
}
