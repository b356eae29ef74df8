package dev.aggregator.redis;

import static dev.aggregator.redis.RedisTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aggregator.AggregatorStats;
import dev.aggregator.Event;
import dev.aggregator.EventAggregator;
import dev.aggregator.EventPage;
import dev.aggregator.EventQuery;
import dev.aggregator.EventValidationException;
import dev.aggregator.Outcome;
import dev.aggregator.store.DedupStore;
import dev.aggregator.store.ForwardingDedupStore;
import dev.aggregator.store.InMemoryDedupStore;
import dev.aggregator.store.PendingEvent;
import dev.aggregator.store.StoreStats;
import dev.aggregator.testing.RequiresRedis;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.params.XAddParams;
import redis.clients.jedis.params.XReadGroupParams;
import redis.clients.jedis.resps.StreamEntry;

/** The source and the forwarder against the real Redis, with an in-memory store. */
@RequiresRedis
class RedisStreamSourceTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final String stream = RedisTestSupport.freshStream();
  private final JedisPooled redis = RedisTestSupport.client();
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void cleanUp() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
    redis.del(stream, stream + RedisSource.DEAD_LETTER_SUFFIX);
    redis.close();
  }

  private <T extends AutoCloseable> T closeLater(T c) {
    toClose.add(c);
    return c;
  }

  private EventAggregator aggregator(DedupStore store) {
    return closeLater(EventAggregator.builder().store(store).build());
  }

  private RedisSource.Builder source(EventAggregator aggregator) {
    return RedisSource.builder(RedisTestSupport.url(stream), aggregator)
        .block(Duration.ofMillis(100))
        .retryDelay(Duration.ofMillis(50));
  }

  private RedisStreamForwarder forwarder() {
    return closeLater(RedisStreamForwarder.open(RedisTestSupport.url(stream)));
  }

  private long pending() {
    return redis.xpending(stream, RedisSource.DEFAULT_GROUP).getTotal();
  }

  private static List<Event> events(int unique, int duplicates) {
    List<Event> events = new ArrayList<>();
    for (int i = 0; i < unique; i++) {
      events.add(Event.of("t" + i % 3, "e" + i));
      if (i < duplicates) {
        events.add(Event.of("t" + i % 3, "e" + i));
      }
    }
    return events;
  }

  @Test
  void forward_events_oneEntryPerEventWithTheHttpFieldNames() throws Exception {
    ObjectNode payload = MAPPER.createObjectNode().put("amount", 12);
    Instant ts = Instant.parse("2025-10-23T10:00:00.123456789Z");
    List<String> ids =
        forwarder()
            .forward(
                List.of(
                    new Event("orders", "o-1", ts, "shop", payload), Event.of("orders", "o-2")));
    assertEquals(2, ids.size());
    List<StreamEntry> entries = redis.xrange(stream, (StreamEntryID) null, (StreamEntryID) null);
    assertEquals(ids, entries.stream().map(e -> e.getID().toString()).toList());
    JsonNode first = MAPPER.readTree(entries.get(0).getFields().get(RedisStreamForwarder.FIELD));
    assertEquals(
        MAPPER.readTree(
            "{\"topic\":\"orders\",\"event_id\":\"o-1\",\"timestamp\":\"2025-10-23T10:00:00.123456789Z\","
                + "\"source\":\"shop\",\"payload\":{\"amount\":12}}"),
        first);
    assertEquals(
        MAPPER.readTree("{\"topic\":\"orders\",\"event_id\":\"o-2\"}"),
        MAPPER.readTree(entries.get(1).getFields().get(RedisStreamForwarder.FIELD)));
  }

  @Test
  void forward_invalidEvent_rejectedAndNothingAppended() {
    RedisStreamForwarder forwarder = forwarder();
    EventValidationException e =
        assertThrows(
            EventValidationException.class,
            () -> forwarder.forward(List.of(Event.of("t", "ok"), Event.of(" ", "x"))));
    assertEquals(1, e.violations().get(0).index());
    assertEquals(0, redis.exists(stream) ? redis.xlen(stream) : 0);
  }

  @Test
  void source_forwardedEvents_storedOnceAndAllAcked() {
    EventAggregator aggregator = aggregator(new InMemoryDedupStore());
    RedisSource source = closeLater(source(aggregator).batchSize(128).start());
    List<Event> events = events(800, 200);
    RedisStreamForwarder forwarder = forwarder();
    for (int i = 0; i < events.size(); i += 100) {
      forwarder.forward(events.subList(i, Math.min(i + 100, events.size())));
    }
    await(
        "1000 entries acked",
        WAIT,
        () -> source.stats().acked() == 1000 && pending() == 0,
        (Supplier<Object>) source::stats);
    AggregatorStats stats = aggregator.stats();
    assertEquals(1000, stats.received());
    assertEquals(800, stats.uniqueProcessed());
    assertEquals(200, stats.duplicateDropped());
    assertEquals(800, source.stats().accepted());
    assertEquals(200, source.stats().duplicates());
  }

  @Test
  void source_whileCommitIsInFlight_entriesStayPendingUntilCommitted() {
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
    RedisSource source = closeLater(source(aggregator).start());
    forwarder().forward(events(10, 0));
    await("the commit to start", WAIT, () -> appending.getCount() == 0, "");
    // Inside the commit: delivered, not acknowledged.
    assertEquals(10, pending());
    assertEquals(0, source.stats().acked());
    release.countDown();
    await("the batch acked", WAIT, () -> pending() == 0, (Supplier<Object>) source::stats);
    assertEquals(10, aggregator.stats().uniqueProcessed());
  }

  @Test
  void source_crashBetweenCommitAndAck_redeliversAndStoreKeepsOne() {
    EventAggregator aggregator = aggregator(new InMemoryDedupStore());
    RedisSource source = source(aggregator).start();
    closeLater(source);
    AtomicBoolean crashed = new AtomicBoolean();
    source.loop().beforeAckForTest =
        () -> {
          if (crashed.compareAndSet(false, true)) {
            throw new IllegalStateException("simulated crash after commit, before XACK");
          }
        };
    forwarder().forward(events(10, 0));
    await(
        "the batch acked after retry",
        WAIT,
        () -> source.stats().acked() == 10 && pending() == 0,
        (Supplier<Object>) source::stats);
    RedisSourceStats s = source.stats();
    assertEquals(1, s.failures());
    assertEquals(10, s.accepted());
    assertEquals(10, s.duplicates(), "the redelivered batch");
    StoreStats stored =
        new StoreStats(
            aggregator.stats().received(),
            aggregator.stats().uniqueProcessed(),
            aggregator.stats().duplicateDropped(),
            Map.of());
    assertEquals(10, stored.uniqueProcessed());
    assertEquals(20, stored.received());
  }

  @Test
  void source_poisonEntries_deadLetteredAckedAndTheRestStored() {
    EventAggregator aggregator = aggregator(new InMemoryDedupStore());
    redis.xadd(
        stream,
        XAddParams.xAddParams(),
        Map.of("event", "{\"topic\":\"t\",\"event_id\":\"ok-1\"}"));
    redis.xadd(stream, XAddParams.xAddParams(), Map.of("event", "not json {"));
    redis.xadd(stream, XAddParams.xAddParams(), Map.of("something", "else"));
    redis.xadd(
        stream, XAddParams.xAddParams(), Map.of("event", "{\"topic\":\"   \",\"event_id\":\"x\"}"));
    redis.xadd(
        stream, XAddParams.xAddParams(), Map.of("event", "{\"topic\":\"t\",\"event_id\":7}"));
    redis.xadd(
        stream,
        XAddParams.xAddParams(),
        Map.of("event", "{\"topic\":\"t\",\"event_id\":\"ok-2\"}"));
    RedisSource source = closeLater(source(aggregator).start());
    await(
        "6 entries acked",
        WAIT,
        () -> source.stats().acked() == 6,
        (Supplier<Object>) source::stats);
    assertEquals(0, pending());
    assertEquals(4, source.stats().deadLettered());
    EventPage page = aggregator.events(EventQuery.topic("t"));
    assertEquals(
        List.of("ok-1", "ok-2"), page.events().stream().map(e -> e.event().eventId()).toList());
    List<StreamEntry> dead =
        redis.xrange(
            stream + RedisSource.DEAD_LETTER_SUFFIX, (StreamEntryID) null, (StreamEntryID) null);
    assertEquals(4, dead.size());
    // Entry id -> reason: the parse failures are found first, the rule violations at publish.
    Map<String, String> reasons = new java.util.TreeMap<>();
    for (StreamEntry d : dead) {
      reasons.put(d.getFields().get("id"), d.getFields().get("reason"));
      assertEquals(source.consumer(), d.getFields().get("consumer"));
    }
    List<String> inStreamOrder = new ArrayList<>(reasons.values());
    assertTrue(inStreamOrder.get(0).startsWith("not JSON"), inStreamOrder.toString());
    assertEquals(
        "the entry has no 'event' field and no 'topic' or 'event_id' field", inStreamOrder.get(1));
    assertTrue(inStreamOrder.get(2).startsWith("topic: "), inStreamOrder.toString());
    assertEquals("event_id: must be a string", inStreamOrder.get(3));
    assertEquals("not json {", dead.get(0).getFields().get("event"));
  }

  @Test
  void source_flatFieldEntries_storedLikeEntriesWithAnEventField() throws Exception {
    EventAggregator aggregator = aggregator(new InMemoryDedupStore());
    Map<String, String> flat = new java.util.LinkedHashMap<>();
    flat.put("topic", "orders");
    flat.put("event_id", "o-1");
    flat.put("timestamp", "2025-10-23T10:00:00.5Z");
    flat.put("source", "shop");
    flat.put("payload", "{\"amount\":12,\"items\":[1,2]}");
    flat.put("trace", "ignored like an unknown JSON field");
    redis.xadd(stream, XAddParams.xAddParams(), flat);
    // Only the key; empty optional fields count as absent.
    redis.xadd(
        stream,
        XAddParams.xAddParams(),
        Map.of("topic", "orders", "event_id", "o-2", "timestamp", "", "payload", ""));
    // The same key as the first, in the forwarder's form: a duplicate of it.
    forwarder().forward(List.of(Event.of("orders", "o-1")));
    RedisSource source = closeLater(source(aggregator).start());
    await(
        "3 entries acked",
        WAIT,
        () -> source.stats().acked() == 3 && pending() == 0,
        (Supplier<Object>) source::stats);
    assertEquals(0, source.stats().deadLettered());
    assertEquals(2, aggregator.stats().uniqueProcessed());
    assertEquals(1, aggregator.stats().duplicateDropped());
    List<Event> stored =
        aggregator.events(EventQuery.topic("orders")).events().stream()
            .map(e -> e.event())
            .toList();
    assertEquals(
        new Event(
            "orders",
            "o-1",
            Instant.parse("2025-10-23T10:00:00.5Z"),
            "shop",
            (ObjectNode) MAPPER.readTree("{\"amount\":12,\"items\":[1,2]}"),
            "2025-10-23T10:00:00.5Z"), // the timestamp as the entry spelled it
        stored.get(0));
    // As if the fields had been left out: the store fills in the defaults.
    assertEquals("o-2", stored.get(1).eventId());
    assertEquals("", stored.get(1).source());
    assertEquals(MAPPER.createObjectNode(), stored.get(1).payload());
  }

  @Test
  void source_deadLetteredEntries_keepEveryOriginalFieldPlusTheReason() {
    EventAggregator aggregator = aggregator(new InMemoryDedupStore());
    Map<String, String> badPayload =
        Map.of("topic", "t", "event_id", "e-1", "payload", "{not json", "trace", "abc");
    Map<String, String> blankTopic = Map.of("topic", " ", "event_id", "e-2", "source", "s");
    // A field named like one the dead letter adds: the original keeps its name.
    Map<String, String> clash = Map.of("event", "[1, 2", "reason", "mine", "id", "42");
    Map<String, String> noEvent = Map.of("kind", "heartbeat");
    List<Map<String, String>> originals = List.of(badPayload, blankTopic, clash, noEvent);
    List<String> ids = new ArrayList<>();
    for (Map<String, String> fields : originals) {
      ids.add(redis.xadd(stream, XAddParams.xAddParams(), fields).toString());
    }
    RedisSource source = closeLater(source(aggregator).start());
    await(
        "4 entries acked",
        WAIT,
        () -> source.stats().acked() == 4 && pending() == 0,
        (Supplier<Object>) source::stats);
    assertEquals(4, source.stats().deadLettered());
    assertEquals(0, aggregator.stats().received());
    Map<String, Map<String, String>> dead = new java.util.HashMap<>();
    for (StreamEntry d :
        redis.xrange(
            stream + RedisSource.DEAD_LETTER_SUFFIX, (StreamEntryID) null, (StreamEntryID) null)) {
      Map<String, String> f = d.getFields();
      dead.put(f.containsKey("dead_letter_id") ? f.get("dead_letter_id") : f.get("id"), f);
    }
    assertEquals(java.util.Set.copyOf(ids), dead.keySet());
    for (int i = 0; i < originals.size(); i++) {
      Map<String, String> copy = new java.util.HashMap<>(dead.get(ids.get(i)));
      for (Map.Entry<String, String> f : originals.get(i).entrySet()) {
        assertEquals(f.getValue(), copy.get(f.getKey()), "field " + f.getKey() + " of " + i);
      }
      assertEquals(source.consumer(), copy.get("consumer"));
    }
    Map<String, String> first = dead.get(ids.get(0));
    assertTrue(first.get("reason").startsWith("payload: not JSON"), first.toString());
    assertEquals(
        Map.of(
            "topic",
            "t",
            "event_id",
            "e-1",
            "payload",
            "{not json",
            "trace",
            "abc",
            "reason",
            first.get("reason"),
            "id",
            ids.get(0),
            "group",
            RedisSource.DEFAULT_GROUP,
            "consumer",
            source.consumer()),
        first);
    assertTrue(dead.get(ids.get(1)).get("reason").startsWith("topic: "), dead.toString());
    Map<String, String> third = dead.get(ids.get(2));
    assertEquals("mine", third.get("reason"));
    assertEquals("42", third.get("id"));
    assertTrue(third.get("dead_letter_reason").startsWith("not JSON"), third.toString());
    assertEquals(ids.get(2), third.get("dead_letter_id"));
    assertEquals(
        "the entry has no 'event' field and no 'topic' or 'event_id' field",
        dead.get(ids.get(3)).get("reason"));
  }

  @Test
  void source_entriesPendingWithADeadConsumer_reclaimedAfterIdleTimeout() {
    forwarder().forward(events(50, 0));
    redis.xgroupCreate(stream, RedisSource.DEFAULT_GROUP, new StreamEntryID(0, 0), false);
    // "ghost" reads everything and dies without acking.
    redis.xreadGroup(
        RedisSource.DEFAULT_GROUP,
        "ghost",
        XReadGroupParams.xReadGroupParams().count(100),
        Map.of(stream, StreamEntryID.XREADGROUP_UNDELIVERED_ENTRY));
    assertEquals(50, pending());
    EventAggregator aggregator = aggregator(new InMemoryDedupStore());
    RedisSource source =
        closeLater(
            source(aggregator).consumer("survivor").claimIdle(Duration.ofMillis(300)).start());
    await(
        "the ghost's entries reclaimed and acked",
        WAIT,
        () -> pending() == 0,
        (Supplier<Object>) source::stats);
    assertEquals(50, source.stats().reclaimed());
    assertEquals(50, aggregator.stats().uniqueProcessed());
  }

  @Test
  void source_streamDeletedWhileRunning_recreatesGroupAndGoesOn() {
    EventAggregator aggregator = aggregator(new InMemoryDedupStore());
    RedisSource source = closeLater(source(aggregator).start());
    RedisStreamForwarder forwarder = forwarder();
    forwarder.forward(events(5, 0));
    await("5 acked", WAIT, () -> source.stats().acked() == 5, (Supplier<Object>) source::stats);
    redis.del(stream);
    await(
        "a failed round",
        WAIT,
        () -> source.stats().failures() > 0,
        (Supplier<Object>) source::stats);
    forwarder.forward(List.of(Event.of("t0", "after-delete")));
    await(
        "the new entry acked",
        WAIT,
        () -> source.stats().acked() == 6,
        (Supplier<Object>) source::stats);
    assertEquals(6, aggregator.stats().uniqueProcessed());
  }

  @Test
  void builder_badUrl_isRejectedNamingIt() {
    EventAggregator aggregator = aggregator(new InMemoryDedupStore());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> RedisSource.builder("redis://:secret@127.0.0.1:6379", aggregator));
    assertTrue(e.getMessage().contains("names no stream"), e.getMessage());
    assertTrue(!e.getMessage().contains("secret"), e.getMessage());
    IllegalArgumentException list =
        assertThrows(
            IllegalArgumentException.class,
            () -> RedisStreamForwarder.open(RedisTestSupport.url(stream) + "?type=list"));
    assertTrue(list.getMessage().contains("the forwarder writes streams"), list.getMessage());
  }

  @Test
  void start_unreachableRedis_failsNamingTheStream() {
    EventAggregator aggregator = aggregator(new InMemoryDedupStore());
    RedisTransportException e =
        assertThrows(
            RedisTransportException.class,
            () -> RedisSource.builder("redis://127.0.0.1:1/orders", aggregator).start());
    assertTrue(e.getMessage().contains("redis://127.0.0.1:1/orders"), e.getMessage());
  }
}
