package dev.aggregator.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aggregator.testing.Await;
import dev.aggregator.testing.RequiresRedis;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisPooled;

/**
 * The course project's pipeline, unchanged: its publisher pushes event JSON onto a Redis list
 * ({@code RPUSH events <json>}, one event or an array per item), and the jar started with {@code
 * --source redis://host:port/<list>} stores every event once, with exact counters, and leaves the
 * list and its processing list empty; an item that is not an event goes to the dead letters with
 * the item as it was. Needs Redis at 127.0.0.1:6379 (AGGREGATOR_TEST_REDIS).
 */
@RequiresRedis
class RedisListSourceIT {
  private static final String REDIS =
      System.getenv().getOrDefault("AGGREGATOR_TEST_REDIS", "127.0.0.1:6379");
  private static final Duration START = Duration.ofSeconds(60);

  @TempDir Path dir;

  private final String list = "course-events-" + UUID.randomUUID();
  private final JedisPooled redis = new JedisPooled(HostAndPort.from(REDIS));
  private JarServer server;

  @AfterEach
  void tearDown() throws InterruptedException {
    try {
      if (server != null) {
        assertEquals(0, server.stop(), "exit status:\n" + server.output());
      }
    } finally {
      if (server != null) {
        server.close();
      }
      redis.del(list, list + ":dead-letter", list + ":consumers");
      redis.del(list + ":processing:course-1", list + ":lease:course-1");
      redis.close();
    }
  }

  private static String event(int i) {
    return "{\"topic\":\"orders\",\"event_id\":\"ord-"
        + i
        + "\",\"timestamp\":\"2025-10-24T15:00:00+07:00\",\"source\":\"course\",\"payload\":{\"n\":"
        + i
        + "}}";
  }

  @Test
  void coursePublisherRpushesToAList_everyEventStoredOnce_listsDrained() throws Exception {
    // Before the server starts, as a publisher that runs first would: the key already is a list.
    int events = 1_000;
    for (int i = 0; i < events; i += 2) { // one event per item
      redis.rpush(list, event(i));
    }
    server =
        JarServer.start(
            "list", dir, "--source", "redis://" + REDIS + "/" + list, "--consumer", "course-1");
    server.awaitListening(START);
    String source = server.awaitLine("source: list ", START);
    assertTrue(source.contains("processing list " + list + ":processing:course-1"), source);
    for (int i = 1; i < events; i += 10) { // arrays of events
      StringBuilder array = new StringBuilder("[");
      for (int j = i; j < Math.min(i + 10, events); j += 2) {
        array.append(array.length() > 1 ? "," : "").append(event(j));
      }
      redis.rpush(list, array.append("]").toString());
    }
    for (int i = 0; i < 200; i++) { // the publisher's retries: duplicates
      redis.rpush(list, event(i));
    }
    redis.rpush(list, "{\"topic\":\"orders\"}"); // no event_id: dead-lettered

    long expected = events + 200;
    JsonNode stats =
        Await.value(
            "all consumed",
            Duration.ofSeconds(60),
            () -> server.get("/stats"),
            st -> st.get("received").longValue() >= expected);
    assertEquals(events + 200, stats.get("received").longValue(), stats.toString());
    assertEquals(events, stats.get("unique_processed").longValue(), stats.toString());
    assertEquals(200, stats.get("duplicate_dropped").longValue(), stats.toString());

    // Removed from the processing list after the commit; the bad item kept as it was.
    Await.until(
        "the list and the processing list empty",
        Duration.ofSeconds(30),
        () -> redis.llen(list + ":processing:course-1") + redis.llen(list) == 0);
    assertEquals(1, redis.llen(list + ":dead-letter"));
    JsonNode dead = JarServer.MAPPER.readTree(redis.lindex(list + ":dead-letter", 0));
    assertEquals("{\"topic\":\"orders\"}", dead.get("item").textValue());
    assertTrue(dead.get("reason").textValue().contains("event_id"), dead.toString());
  }
}
