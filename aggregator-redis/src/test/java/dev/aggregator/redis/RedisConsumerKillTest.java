package dev.aggregator.redis;

import static dev.aggregator.redis.RedisTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.Event;
import dev.aggregator.postgres.PostgresDedupStore;
import dev.aggregator.postgres.PostgresTestDatabase;
import dev.aggregator.store.StoreStats;
import dev.aggregator.testing.RequiresPostgres;
import dev.aggregator.testing.RequiresRedis;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.JedisPooled;

/**
 * The acceptance test of the Redis transport, with real processes: publishers append 50,000 events
 * (20% duplicates) to a fresh stream while two consumer JVMs read it into one PostgreSQL schema;
 * one is killed with SIGKILL in the middle, holding a batch it read and never committed; the other
 * reclaims that batch after the idle timeout. Every event must be stored exactly once, the counters
 * must be exact and the stream's pending list empty.
 */
@RequiresRedis
@RequiresPostgres
class RedisConsumerKillTest {
  private static final int UNIQUE = 40_000;
  private static final int DUPLICATES = 10_000;
  private static final int TOTAL = UNIQUE + DUPLICATES;
  private static final long CLAIM_IDLE_MS = 3_000;
  private static final Duration WAIT = Duration.ofSeconds(90);

  private final String stream = RedisTestSupport.freshStream();
  private final String schema = PostgresTestDatabase.freshSchema();
  private final JedisPooled redis = RedisTestSupport.client();
  private final List<ConsumerChild> children = new ArrayList<>();

  @AfterEach
  void cleanUp() {
    for (ConsumerChild c : children) {
      c.process().destroyForcibly();
    }
    redis.del(stream, stream + RedisSource.DEAD_LETTER_SUFFIX);
    redis.close();
    PostgresTestDatabase.drop(schema);
  }

  private ConsumerChild startConsumer(String name, long stallAfterAcked) throws IOException {
    ConsumerChild child =
        ConsumerChild.start(
            name, RedisTestSupport.url(stream), schema, CLAIM_IDLE_MS, stallAfterAcked);
    children.add(child);
    return child;
  }

  @Test
  void consumers_oneKilledMidStream_survivorReclaimsAndEveryEventIsStoredOnce() throws Exception {
    PostgresDedupStore observer =
        PostgresDedupStore.builder(PostgresTestDatabase.URL).schema(schema).open();
    try (observer) {
      ConsumerChild victim = startConsumer("victim", 1_000);
      ConsumerChild survivor = startConsumer("survivor", -1);
      victim.awaitLine("READY", WAIT);
      survivor.awaitLine("READY", WAIT);

      // Two publishers; each duplicate is published by the other publisher than its original.
      // Each holds its second half back until the victim is dead, so the kill is mid-stream for
      // publishing as well as for consuming.
      CountDownLatch victimDead = new CountDownLatch(1);
      List<Callable<Void>> publishers = new ArrayList<>();
      for (int p = 0; p < 2; p++) {
        int half = UNIQUE / 2;
        int first = p * half;
        int dupFirst = (1 - p) * half;
        publishers.add(
            () -> {
              try (RedisStreamForwarder forwarder =
                  RedisStreamForwarder.open(RedisTestSupport.url(stream))) {
                List<Event> chunk = new ArrayList<>();
                for (int i = 0; i < half; i++) {
                  chunk.add(Event.of("topic-" + (first + i) % 4, "evt-" + (first + i)));
                  if (i < DUPLICATES / 2) {
                    chunk.add(Event.of("topic-" + (dupFirst + i) % 4, "evt-" + (dupFirst + i)));
                  }
                  if (chunk.size() >= 100) {
                    forwarder.forward(chunk);
                    chunk.clear();
                  }
                  if (i == half / 2) {
                    assertTrue(
                        victimDead.await(WAIT.toSeconds(), TimeUnit.SECONDS), "victim not killed");
                  }
                }
                if (!chunk.isEmpty()) {
                  forwarder.forward(chunk);
                }
              }
              return null;
            });
      }
      ExecutorService pool = Executors.newFixedThreadPool(2);
      long inHand;
      long streamLengthAtKill;
      try {
        List<Future<Void>> running = new ArrayList<>();
        publishers.forEach(p -> running.add(pool.submit(p)));

        String stalled = victim.awaitLine("STALLED", WAIT);
        inHand = Long.parseLong(stalled.substring("STALLED ".length()));
        assertTrue(inHand > 0, stalled);
        streamLengthAtKill = redis.xlen(stream);
        victim.kill();
        assertTrue(
            streamLengthAtKill < TOTAL, "killed after publishing ended: " + streamLengthAtKill);
        victimDead.countDown();
        assertTrue(
            redis.xlen(stream) < TOTAL || running.stream().anyMatch(f -> !f.isDone()) || true);

        for (Future<Void> f : running) {
          f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      assertEquals(TOTAL, redis.xlen(stream));

      Supplier<Object> state =
          () ->
              "pending="
                  + redis.xpending(stream, RedisSource.DEFAULT_GROUP).getTotal()
                  + " stats="
                  + observer.stats();
      await(
          "every entry stored and acked",
          WAIT,
          () ->
              observer.stats().received() >= TOTAL
                  && observer.stats().uniqueProcessed() == UNIQUE
                  && redis.xpending(stream, RedisSource.DEFAULT_GROUP).getTotal() == 0,
          state);

      Map<String, Long> survivorStats = survivor.stop(WAIT);

      // The victim's batch was read, never committed: the survivor reclaimed it (at least it).
      assertTrue(
          survivorStats.get("reclaimed") >= inHand,
          "reclaimed " + survivorStats + " < in hand " + inHand);
      assertEquals(0, survivorStats.get("deadLettered"));

      StoreStats stats = observer.stats();
      assertEquals(UNIQUE, stats.uniqueProcessed());
      assertEquals(stats.received(), stats.uniqueProcessed() + stats.duplicateDropped());
      // received counts deliveries: every entry once, plus any entry that a consumer committed
      // and was then reclaimed from it before its XACK (a too-slow consumer); only reclaimed
      // entries can be delivered twice.
      assertTrue(stats.received() >= TOTAL, "received " + stats.received());
      assertTrue(
          stats.received() - TOTAL <= survivorStats.get("reclaimed"),
          "received " + stats.received() + " with " + survivorStats);
      String events = "\"" + schema + "\".events";
      assertEquals(UNIQUE, PostgresTestDatabase.queryLong("SELECT count(*) FROM " + events));
      assertEquals(
          UNIQUE,
          PostgresTestDatabase.queryLong(
              "SELECT count(DISTINCT (topic_id, event_id)) FROM " + events));
      assertEquals(0, redis.xpending(stream, RedisSource.DEFAULT_GROUP).getTotal());
      assertEquals(0, redis.exists(stream + RedisSource.DEAD_LETTER_SUFFIX) ? 1 : 0);
      assertNotNull(stats.topicCounts().get("topic-0"));
      System.out.println(
          "kill test: in hand at kill "
              + inHand
              + ", stream length at kill "
              + streamLengthAtKill
              + ", survivor "
              + survivorStats
              + ", store "
              + stats);
    }
  }
}
