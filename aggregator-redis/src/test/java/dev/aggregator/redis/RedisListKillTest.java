package dev.aggregator.redis;

import static dev.aggregator.redis.RedisTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.Set;
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
 * The acceptance test of the list source, with real processes: two publishers RPUSH 50,000 events
 * (20% duplicates; items of one event or arrays of up to four, as the course project's publisher
 * writes them) to a fresh list while two consumer JVMs read it into one PostgreSQL schema. One
 * consumer is killed with SIGKILL in the middle, holding a batch it moved to its processing list
 * and never committed, and is started again under the same name: it re-drives that batch first.
 * Every event must be stored exactly once, the counters must be exact (nothing was committed twice:
 * the killed batch was never committed), and the list and both processing lists empty.
 */
@RequiresRedis
@RequiresPostgres
class RedisListKillTest {
  private static final int UNIQUE = 40_000;
  private static final int DUPLICATES = 10_000;
  private static final int TOTAL = UNIQUE + DUPLICATES;
  // Longer than the test: the killed consumer's items come back by its restart, not by a claim.
  private static final long CLAIM_IDLE_MS = 300_000;
  private static final Duration WAIT = Duration.ofSeconds(90);

  private final String list = RedisTestSupport.freshStream();
  private final String schema = PostgresTestDatabase.freshSchema();
  private final JedisPooled redis = RedisTestSupport.client();
  private final List<ConsumerChild> children = new ArrayList<>();

  @AfterEach
  void cleanUp() {
    for (ConsumerChild c : children) {
      c.process().destroyForcibly();
    }
    Set<String> keys = redis.keys(list + "*");
    if (!keys.isEmpty()) {
      redis.del(keys.toArray(String[]::new));
    }
    redis.close();
    PostgresTestDatabase.drop(schema);
  }

  private ConsumerChild startConsumer(String name, long stallAfterAcked) throws IOException {
    ConsumerChild child =
        ConsumerChild.start(
            name,
            RedisTestSupport.url(list) + "?type=list",
            schema,
            CLAIM_IDLE_MS,
            stallAfterAcked);
    children.add(child);
    return child;
  }

  private static String event(int i) {
    return "{\"topic\":\"topic-"
        + i % 4
        + "\",\"event_id\":\"evt-"
        + i
        + "\",\"timestamp\":\"2025-10-23T10:00:00.123456\",\"source\":\"course\","
        + "\"payload\":{\"i\":"
        + i
        + "}}";
  }

  /** Publisher p's items: its half of the keys, and duplicates of the other half's first keys. */
  private static List<String> items(int p) {
    int half = UNIQUE / 2;
    List<Integer> keys = new ArrayList<>();
    for (int i = 0; i < half; i++) {
      keys.add(p * half + i);
      if (i < DUPLICATES / 2) {
        keys.add((1 - p) * half + i);
      }
    }
    List<String> items = new ArrayList<>();
    int next = 0;
    for (int n = 0; next < keys.size(); n++) {
      int size = Math.min(n % 4 + 1, keys.size() - next);
      if (size == 1) {
        items.add(event(keys.get(next)));
      } else {
        List<String> events = new ArrayList<>();
        for (int k = 0; k < size; k++) {
          events.add(event(keys.get(next + k)));
        }
        items.add("[" + String.join(",", events) + "]");
      }
      next += size;
    }
    return items;
  }

  @Test
  void listConsumer_killedMidStreamAndRestarted_everyEventStoredOnceWithExactCounts()
      throws Exception {
    PostgresDedupStore observer =
        PostgresDedupStore.builder(PostgresTestDatabase.URL).schema(schema).open();
    try (observer) {
      ConsumerChild victim = startConsumer("victim", 500);
      ConsumerChild other = startConsumer("other", -1);
      victim.awaitLine("READY", WAIT);
      other.awaitLine("READY", WAIT);

      // Each publisher holds its second half back until the victim is dead, so the kill is
      // mid-stream for publishing as well as for consuming.
      CountDownLatch victimDead = new CountDownLatch(1);
      ExecutorService pool = Executors.newFixedThreadPool(2);
      long inHand;
      long processingAtKill;
      long itemsAtKill;
      long totalItems = items(0).size() + items(1).size();
      ConsumerChild restarted;
      try {
        List<Future<Void>> running = new ArrayList<>();
        for (int p = 0; p < 2; p++) {
          List<String> items = items(p);
          running.add(
              pool.submit(
                  () -> {
                    try (JedisPooled publisher = RedisTestSupport.client()) {
                      for (int i = 0; i < items.size(); i += 50) {
                        List<String> chunk = items.subList(i, Math.min(i + 50, items.size()));
                        publisher.rpush(list, chunk.toArray(String[]::new));
                        if (i <= items.size() / 2 && i + 50 > items.size() / 2) {
                          assertTrue(
                              victimDead.await(WAIT.toSeconds(), TimeUnit.SECONDS),
                              "victim not killed");
                        }
                      }
                    }
                    return null;
                  }));
        }

        String stalled = victim.awaitLine("STALLED", WAIT);
        inHand = Long.parseLong(stalled.substring("STALLED ".length()));
        assertTrue(inHand > 0, stalled);
        String victimList = RedisSource.processingList(list, "victim");
        processingAtKill = redis.llen(victimList);
        victim.kill();
        // The batch in hand is what its processing list holds: moved, not committed, not lost.
        assertEquals(inHand, processingAtKill);
        itemsAtKill = redis.llen(list);
        victimDead.countDown();

        restarted = startConsumer("victim", -1);
        restarted.awaitLine("READY", WAIT);
        for (Future<Void> f : running) {
          f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }

      String victimList = RedisSource.processingList(list, "victim");
      String otherList = RedisSource.processingList(list, "other");
      Supplier<Object> state =
          () ->
              "list="
                  + redis.llen(list)
                  + " victim="
                  + redis.llen(victimList)
                  + " other="
                  + redis.llen(otherList)
                  + " stats="
                  + observer.stats();
      await(
          "every item stored and released",
          WAIT,
          () ->
              observer.stats().uniqueProcessed() == UNIQUE
                  && redis.llen(list) == 0
                  && redis.llen(victimList) == 0
                  && redis.llen(otherList) == 0,
          state);

      Map<String, Long> restartedStats = restarted.stop(WAIT);
      Map<String, Long> otherStats = other.stop(WAIT);

      // The restarted consumer found the killed batch in its processing list and re-drove it.
      assertEquals(inHand, restartedStats.get("reclaimed"), restartedStats.toString());
      assertEquals(0, otherStats.get("reclaimed"), otherStats.toString());
      assertEquals(0, restartedStats.get("deadLettered") + otherStats.get("deadLettered"));

      StoreStats stats = observer.stats();
      assertEquals(UNIQUE, stats.uniqueProcessed());
      // Exactly what was published: the killed batch was never committed, so nothing came twice.
      assertEquals(TOTAL, stats.received(), stats.toString());
      assertEquals(DUPLICATES, stats.duplicateDropped());
      String events = "\"" + schema + "\".events";
      assertEquals(UNIQUE, PostgresTestDatabase.queryLong("SELECT count(*) FROM " + events));
      assertEquals(
          UNIQUE,
          PostgresTestDatabase.queryLong(
              "SELECT count(DISTINCT (topic_id, event_id)) FROM " + events));
      assertEquals(
          Map.of("topic-0", 10_000L, "topic-1", 10_000L, "topic-2", 10_000L, "topic-3", 10_000L),
          stats.topicCounts());
      assertTrue(!redis.exists(list + RedisSource.DEAD_LETTER_SUFFIX));
      // A clean stop leaves nothing behind: no lease, no consumer entry.
      assertEquals(Set.of(), redis.smembers(list + ":consumers"));
      System.out.println(
          "list kill test: in hand at kill "
              + inHand
              + " of "
              + totalItems
              + " items ("
              + itemsAtKill
              + " waiting in the list), restarted "
              + restartedStats
              + ", other "
              + otherStats
              + ", store "
              + stats);
    }
  }
}
