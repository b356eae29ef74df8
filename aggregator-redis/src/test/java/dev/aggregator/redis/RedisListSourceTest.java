package dev.aggregator.redis;

import static dev.aggregator.redis.RedisTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aggregator.AggregatorStats;
import dev.aggregator.EventAggregator;
import dev.aggregator.EventQuery;
import dev.aggregator.Outcome;
import dev.aggregator.store.DedupStore;
import dev.aggregator.store.ForwardingDedupStore;
import dev.aggregator.store.InMemoryDedupStore;
import dev.aggregator.store.PendingEvent;
import dev.aggregator.testing.RequiresRedis;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.params.SetParams;

/** {@link RedisSource} on a Redis list, against the real Redis, with an in-memory store. */
@RequiresRedis
class RedisListSourceTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final String list = RedisTestSupport.freshStream();
  private final JedisPooled redis = RedisTestSupport.client();
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void cleanUp() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
    Set<String> keys = redis.keys(list + "*"); // the list, its processing lists, dead letters...
    if (!keys.isEmpty()) {
      redis.del(keys.toArray(String[]::new));
    }
    redis.close();
  }

  private <T extends AutoCloseable> T closeLater(T c) {
    toClose.add(c);
    return c;
  }

  private EventAggregator aggregator(DedupStore store) {
    return closeLater(EventAggregator.builder().store(store).build());
  }

  private RedisSource.Builder source(EventAggregator aggregator, String query) {
    return RedisSource.builder(RedisTestSupport.url(list) + query, aggregator)
        .block(Duration.ofMillis(100))
        .retryDelay(Duration.ofMillis(50));
  }

  private RedisSource start(RedisSource.Builder builder) {
    return closeLater(builder.start());
  }

  /** An event as the course project's publisher writes it (Python's isoformat, naive). */
  private static String event(int i) {
    return "{\"topic\":\"t"
        + i % 3
        + "\",\"event_id\":\"e"
        + i
        + "\",\"timestamp\":\"2025-10-23T10:00:0"
        + i % 10
        + ".123456\",\"source\":\"course\",\"payload\":{\"n\":"
        + i
        + "}}";
  }

  /** Items holding events 0..unique-1 and again 0..duplicates-1: objects and arrays of 2 to 4. */
  private static List<String> items(int unique, int duplicates) {
    List<Integer> keys = new ArrayList<>();
    for (int i = 0; i < unique; i++) {
      keys.add(i);
      if (i < duplicates) {
        keys.add(i);
      }
    }
    List<String> items = new ArrayList<>();
    int next = 0;
    for (int n = 0; next < keys.size(); n++) {
      int size = Math.min(n % 4 + 1, keys.size() - next); // 1 is a bare object
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

  private void rpush(List<String> items) {
    for (int i = 0; i < items.size(); i += 100) {
      redis.rpush(list, items.subList(i, Math.min(i + 100, items.size())).toArray(String[]::new));
    }
  }

  private Supplier<Object> state(RedisSource source) {
    return () ->
        "list="
            + redis.llen(list)
            + " processing="
            + redis.llen(source.processingList())
            + " stats="
            + source.stats();
  }

  private void awaitDrained(RedisSource source, long items) {
    await(
        items + " items released",
        WAIT,
        () ->
            source.stats().acked() == items
                && redis.llen(list) == 0
                && redis.llen(source.processingList()) == 0,
        state(source));
  }

  @Test
  void coursePublisher_rpushObjectsAndArrays_everyEventStoredOnceWithExactCounts() {
    EventAggregator aggregator = aggregator(new InMemoryDedupStore());
    List<String> items = items(600, 150);
    rpush(items.subList(0, items.size() / 2)); // the list exists at start: read as a list
    RedisSource source = start(source(aggregator, "").consumer("c1").batchSize(64));
    assertEquals(RedisSource.Type.LIST, source.type());
    assertEquals(list + ":processing:c1", source.processingList());
    assertEquals(RedisSource.processingList(list, "c1"), source.processingList());
    assertNull(source.group());
    rpush(items.subList(items.size() / 2, items.size()));
    awaitDrained(source, items.size());
    AggregatorStats stats = aggregator.stats();
    assertEquals(750, stats.received());
    assertEquals(600, stats.uniqueProcessed());
    assertEquals(150, stats.duplicateDropped());
    assertEquals(Map.of("t0", 200L, "t1", 200L, "t2", 200L), stats.topicCounts());
    RedisSourceStats s = source.stats();
    assertEquals(items.size(), s.delivered());
    assertEquals(600, s.accepted());
    assertEquals(150, s.duplicates());
    assertEquals(0, s.deadLettered());
    assertEquals("none", redis.type(list), "drained, and never made a stream");
    var stored = aggregator.events(EventQuery.topic("t1")).events().get(0).event();
    assertEquals("e1", stored.eventId());
    assertEquals("course", stored.source());
    assertEquals("2025-10-23T10:00:01.123456Z", stored.timestamp().toString());
    assertEquals(1, stored.payload().get("n").asInt());
  }

  @Test
  void typeList_keyMissingAtStart_nothingCreatedAndItemsPushedLaterAreStored() {
    EventAggregator aggregator = aggregator(new InMemoryDedupStore());
    RedisSource source = start(source(aggregator, "?type=list"));
    assertEquals(RedisSource.Type.LIST, source.type());
    assertEquals("none", redis.type(list)); // the publisher's RPUSH still works
    redis.rpush(list, event(1), "[" + event(2) + "," + event(3) + "]");
    awaitDrained(source, 2);
    assertEquals(3, aggregator.stats().uniqueProcessed());
  }

  @Test
  void noType_keyMissingAtStart_readsAStreamAsBefore() {
    EventAggregator aggregator = aggregator(new InMemoryDedupStore());
    RedisSource source = start(source(aggregator, "?type=stream"));
    assertEquals(RedisSource.Type.STREAM, source.type());
    assertEquals("stream", redis.type(list));
    assertEquals(RedisSource.DEFAULT_GROUP, source.group());
    assertNull(source.processingList());
    source.close();
    String other = list + "-default";
    RedisSource byDefault =
        start(RedisSource.builder(RedisTestSupport.url(other), aggregator).group("g"));
    assertEquals(RedisSource.Type.STREAM, byDefault.type());
    assertEquals("g", byDefault.group());
    assertEquals("stream", redis.type(other));
  }

  @Test
  void start_keyOfAnotherTypeOrMismatch_refusedNamingTheKey() {
    EventAggregator aggregator = aggregator(new InMemoryDedupStore());
    redis.hset(list, "k", "v");
    IllegalArgumentException hash =
        assertThrows(IllegalArgumentException.class, () -> source(aggregator, "").start());
    assertTrue(hash.getMessage().contains(list + " holds a hash"), hash.getMessage());

    redis.del(list);
    redis.rpush(list, event(1));
    IllegalArgumentException stream =
        assertThrows(
            IllegalArgumentException.class, () -> source(aggregator, "?type=stream").start());
    assertTrue(stream.getMessage().contains("holds a list, not the stream"), stream.getMessage());
    IllegalArgumentException group =
        assertThrows(IllegalArgumentException.class, () -> source(aggregator, "?group=g").start());
    assertTrue(group.getMessage().contains("group applies to streams"), group.getMessage());
    IllegalArgumentException badType =
        assertThrows(
            IllegalArgumentException.class,
            () -> RedisSource.builder(RedisTestSupport.url(list) + "?type=set", aggregator));
    assertTrue(badType.getMessage().contains("type=list"), badType.getMessage());
    assertEquals(1, redis.llen(list), "a refused start takes nothing");
  }

  @Test
  void whileCommitIsInFlight_itemsWaitInTheProcessingList() {
    CountDownLatch appending = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    DedupStore blocking =
        new ForwardingDedupStore(new InMemoryDedupStore()) {
          @Override
          public List<Outcome> append(List<PendingEvent> batch) {
            appending.countDown();
            try {
              assertTrue(release.await(60, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return super.append(batch);
          }
        };
    EventAggregator aggregator = aggregator(blocking);
    RedisSource source = start(source(aggregator, "?type=list"));
    rpush(items(10, 0));
    await("the commit to start", WAIT, () -> appending.getCount() == 0, state(source));
    long inHand = redis.llen(source.processingList());
    assertTrue(inHand > 0, "nothing in the processing list during the commit");
    assertEquals(items(10, 0).size(), inHand + redis.llen(list));
    assertEquals(0, source.stats().acked());
    release.countDown();
    awaitDrained(source, items(10, 0).size());
    assertEquals(10, aggregator.stats().uniqueProcessed());
  }

  @Test
  void restart_redrivesItsProcessingListBeforeNewItems() {
    // What a consumer killed mid-batch leaves: items in its processing list, more in the list.
    List<String> left = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      left.add(event(i));
    }
    redis.rpush(RedisSource.processingList(list, "c1"), left.toArray(String[]::new));
    for (int i = 20; i < 25; i++) {
      redis.rpush(list, event(i));
    }
    EventAggregator aggregator = aggregator(new InMemoryDedupStore());
    RedisSource source = start(source(aggregator, "").consumer("c1").batchSize(8));
    assertEquals(RedisSource.Type.LIST, source.type());
    awaitDrained(source, 25);
    assertEquals(20, source.stats().reclaimed());
    assertEquals(25, aggregator.stats().uniqueProcessed());
    // Pages list a topic's events in commit order: in each, the re-driven events come first.
    for (String topic : List.of("t0", "t1", "t2")) {
      List<Integer> ids =
          aggregator.events(EventQuery.topic(topic)).events().stream()
              .map(e -> Integer.parseInt(e.event().eventId().substring(1)))
              .toList();
      List<Integer> sorted = new ArrayList<>(ids);
      sorted.sort(null);
      assertEquals(sorted, ids, "commit order of " + topic);
    }
  }

  @Test
  void crashBetweenCommitAndRemoval_redrivenAndTheStoreKeepsOne() {
    EventAggregator aggregator = aggregator(new InMemoryDedupStore());
    RedisSource source = start(source(aggregator, "?type=list"));
    AtomicBoolean crashed = new AtomicBoolean();
    source.loop().beforeAckForTest =
        () -> {
          if (crashed.compareAndSet(false, true)) {
            throw new IllegalStateException("simulated crash after commit, before LREM");
          }
        };
    List<String> items = items(10, 0);
    rpush(items);
    await(
        "the items released after retry",
        WAIT,
        () ->
            source.stats().acked() == items.size()
                && redis.llen(source.processingList()) == 0
                && redis.llen(list) == 0,
        state(source));
    RedisSourceStats s = source.stats();
    assertEquals(1, s.failures());
    assertEquals(10, s.accepted());
    assertEquals(10, s.duplicates(), "the re-driven batch");
    assertEquals(10, aggregator.stats().uniqueProcessed());
    assertEquals(20, aggregator.stats().received());
  }

  @Test
  void poisonItems_deadLetteredWithTheOriginalItemAndTheReason_restStored() throws Exception {
    EventAggregator aggregator = aggregator(new InMemoryDedupStore());
    String ok1 = "{\"topic\":\"t\",\"event_id\":\"ok-1\"}";
    String ok2 =
        "[{\"topic\":\"t\",\"event_id\":\"ok-2\"},{\"topic\":\"t\",\"event_id\":\"ok-3\"}]";
    Map<String, String> poison = new java.util.LinkedHashMap<>(); // item -> start of its reason
    poison.put("not json {", "not JSON");
    poison.put("42", "must be a JSON object or an array of JSON objects");
    poison.put("[]", "an empty array: no event");
    poison.put(
        "{\"topic\":\"t\",\"event_id\":\"two-1\"}{\"topic\":\"t\",\"event_id\":\"two-2\"}",
        "not JSON");
    // All or nothing: the valid first event of each bad array is not stored either.
    poison.put(
        "[{\"topic\":\"t\",\"event_id\":\"arr-1\"},{\"topic\":\"t\"}]",
        "[1] event_id: is required");
    poison.put(
        "[{\"topic\":\"t\",\"event_id\":\"arr-2\"},{\"topic\":\"  \",\"event_id\":\"x\"}]",
        "[1] topic: ");
    poison.put("{\"topic\":\"t\",\"event_id\":7}", "event_id: must be a string");
    redis.rpush(list, ok1);
    for (String item : poison.keySet()) {
      redis.rpush(list, item);
    }
    byte[] notUtf8 = {'"', (byte) 0xC3, (byte) 0x28, '"'};
    redis.rpush(list.getBytes(StandardCharsets.UTF_8), notUtf8);
    redis.rpush(list, ok2);
    int total = 2 + poison.size() + 1;
    RedisSource source = start(source(aggregator, ""));
    awaitDrained(source, total);
    assertEquals(poison.size() + 1, source.stats().deadLettered());
    assertEquals(
        List.of("ok-1", "ok-2", "ok-3"),
        aggregator.events(EventQuery.topic("t")).events().stream()
            .map(e -> e.event().eventId())
            .toList());
    assertEquals(list + RedisSource.DEAD_LETTER_SUFFIX, source.deadLetterKey());
    assertEquals("list", redis.type(source.deadLetterKey()));
    Map<String, JsonNode> dead = new HashMap<>();
    String base64 = null;
    for (String d : redis.lrange(source.deadLetterKey(), 0, -1)) {
      JsonNode node = MAPPER.readTree(d);
      assertEquals(source.consumer(), node.get("consumer").asText());
      if (node.has("item_base64")) {
        base64 = node.get("item_base64").asText();
      } else {
        dead.put(node.get("item").asText(), node);
      }
    }
    assertEquals(poison.keySet(), dead.keySet());
    for (Map.Entry<String, String> p : poison.entrySet()) {
      String reason = dead.get(p.getKey()).get("reason").asText();
      assertTrue(reason.startsWith(p.getValue()), p.getKey() + " -> " + reason);
    }
    assertEquals(java.util.Base64.getEncoder().encodeToString(notUtf8), base64);
  }

  @Test
  void twoConsumers_shareOneList_eachItemTakenOnce() {
    EventAggregator aggregator = aggregator(new InMemoryDedupStore());
    RedisSource one = start(source(aggregator, "?type=list").consumer("one").batchSize(16));
    RedisSource two = start(source(aggregator, "?type=list").consumer("two").batchSize(16));
    List<String> items = items(2_000, 500);
    rpush(items);
    await(
        "every item released",
        WAIT,
        () ->
            one.stats().acked() + two.stats().acked() == items.size()
                && redis.llen(list) == 0
                && redis.llen(one.processingList()) == 0
                && redis.llen(two.processingList()) == 0,
        (Supplier<Object>) () -> one.stats() + " / " + two.stats());
    assertEquals(items.size(), one.stats().delivered() + two.stats().delivered());
    assertEquals(2_000, aggregator.stats().uniqueProcessed());
    assertEquals(500, aggregator.stats().duplicateDropped());
    assertEquals(Set.of("one", "two"), redis.smembers(list + ":consumers"));
  }

  @Test
  void queueSmallerThanABatch_publishedInChunks_andAnItemLargerThanTheQueueDeadLettered() {
    EventAggregator aggregator =
        closeLater(
            EventAggregator.builder().store(new InMemoryDedupStore()).queueCapacity(8).build());
    List<String> items = new ArrayList<>();
    for (int n = 0; n < 100; n++) {
      List<String> events = new ArrayList<>();
      for (int k = 0; k < 5; k++) {
        events.add(event(n * 5 + k));
      }
      items.add("[" + String.join(",", events) + "]");
    }
    List<String> nine = new ArrayList<>();
    for (int k = 0; k < 9; k++) {
      nine.add(event(10_000 + k));
    }
    String tooLarge = "[" + String.join(",", nine) + "]";
    items.add(50, tooLarge);
    rpush(items);
    RedisSource source = start(source(aggregator, ""));
    awaitDrained(source, items.size());
    assertEquals(500, aggregator.stats().uniqueProcessed());
    assertEquals(1, source.stats().deadLettered());
    JsonNode dead;
    try {
      dead = MAPPER.readTree(redis.lindex(source.deadLetterKey(), 0));
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
    assertEquals(tooLarge, dead.get("item").asText());
    assertEquals(
        "holds 9 events, more than the 8 one publish may hold", dead.get("reason").asText());
  }

  @Test
  void deadConsumer_itsItemsClaimedOnceItsLeaseLapses_aLiveOnesLeftAlone() {
    // "ghost" died and never came back under its name; "alive" holds a lease.
    redis.sadd(list + ":consumers", "ghost", "alive");
    List<String> ghosts = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      ghosts.add(event(i));
    }
    redis.rpush(RedisSource.processingList(list, "ghost"), ghosts.toArray(String[]::new));
    redis.rpush(RedisSource.processingList(list, "alive"), event(100), event(101));
    redis.set(list + ":lease:alive", "1", SetParams.setParams().px(60_000));
    EventAggregator aggregator = aggregator(new InMemoryDedupStore());
    RedisSource source =
        start(
            source(aggregator, "?type=list")
                .consumer("survivor")
                .claimIdle(Duration.ofMillis(300)));
    await(
        "the ghost's items stored and the ghost forgotten",
        WAIT,
        () ->
            aggregator.stats().uniqueProcessed() == 30
                && redis.llen(RedisSource.processingList(list, "ghost")) == 0
                && !redis.sismember(list + ":consumers", "ghost"),
        state(source));
    assertEquals(30, source.stats().reclaimed());
    assertEquals(2, redis.llen(RedisSource.processingList(list, "alive")));
    assertTrue(redis.sismember(list + ":consumers", "alive"));
    assertTrue(redis.exists(list + ":lease:survivor"));

    source.close(); // a clean stop gives the lease up and leaves the set
    assertTrue(!redis.exists(list + ":lease:survivor"));
    assertEquals(Set.of("alive"), redis.smembers(list + ":consumers"));
  }
}
