package dev.aggregator.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aggregator.Claim;
import dev.aggregator.ClaimStats;
import dev.aggregator.EventPage;
import dev.aggregator.EventQuery;
import dev.aggregator.Outcome;
import dev.aggregator.StoreException;
import dev.aggregator.StoredEvent;
import dev.aggregator.testing.Await;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link DedupStore}: every implementation runs this suite, by extending it and
 * saying how to open a fresh store. Durable stores extend {@link DurableDedupStoreConformanceTest},
 * which adds restarts. Shipped in the test-jar of aggregator-core.
 *
 * <p>Retention is tested on a {@link TestClock}: the receive times of the events and the store's
 * clock are set by the tests, nothing waits.
 */
public abstract class DedupStoreConformanceTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** The receive time of {@link #event} events is {@code T0 + 1s}. */
  protected static final Instant T0 = Instant.parse("2025-10-23T10:00:00Z");

  /** The retention tests' age limit. */
  protected static final Duration AGE = Duration.ofHours(1);

  /** The clock of the retention tests; starts at {@code T0}. */
  protected final TestClock clock = new TestClock(T0);

  /** A new, empty store; the suite closes it. */
  protected abstract DedupStore openEmptyStore() throws Exception;

  protected DedupStore store;

  @BeforeEach
  void openStore() throws Exception {
    store = openEmptyStore();
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  protected static PendingEvent event(String topic, String id) {
    return event(topic, id, "{\"n\":1}");
  }

  protected static PendingEvent event(String topic, String id, String payloadJson) {
    return new PendingEvent(topic, id, T0, "test", payloadJson, T0.plusSeconds(1));
  }

  /** An event received at {@code receivedAt}. */
  protected static PendingEvent receivedAt(String topic, String id, Instant receivedAt) {
    return new PendingEvent(topic, id, T0, "test", "{\"n\":1}", receivedAt);
  }

  /** The ids of {@code topic}'s events that the store returns now, oldest first. */
  protected List<String> readable(String topic) {
    return ids(readAll(topic, EventQuery.Order.ASC, 1000));
  }

  /** How many events the store returns now, over all topics. */
  protected long readableCount() {
    long n = 0;
    for (String topic : store.stats().topicCounts().keySet()) {
      n += readAll(topic, EventQuery.Order.ASC, 1000).size();
    }
    return n;
  }

  /**
   * The counters agree with each other and with the events: {@code received == unique +
   * duplicates}, {@code stored == unique - expired == sum of topic counts}, and the store returns
   * exactly {@code stored} events (every expired one is removed: the retention tests check this
   * after the appends that are due).
   */
  protected StoreStats assertCountersExact() {
    StoreStats s = store.stats();
    assertEquals(s.received(), s.uniqueProcessed() + s.duplicateDropped(), "received " + s);
    assertEquals(s.uniqueProcessed() - s.expired(), s.stored(), "stored " + s);
    assertEquals(
        s.stored(),
        s.topicCounts().values().stream().mapToLong(Long::longValue).sum(),
        "stored vs topic counts " + s);
    for (Map.Entry<String, Long> t : s.topicCounts().entrySet()) {
      assertEquals(t.getValue().longValue(), readable(t.getKey()).size(), "rows of " + t.getKey());
    }
    return s;
  }

  /** Appends empty batches while an expiry is due, as the aggregator's writer does when idle. */
  protected int drainExpiry() {
    int appends = 0;
    Optional<Instant> next;
    while ((next = store.nextExpiry()).isPresent() && !next.get().isAfter(clock.instant())) {
      assertEquals(List.of(), store.append(List.of()));
      appends++;
      assertTrue(appends < 10_000, "expiry never caught up: next " + store.nextExpiry());
    }
    return appends;
  }

  private List<StoredEvent> readAll(String topic, EventQuery.Order order, int pageSize) {
    List<StoredEvent> all = new ArrayList<>();
    String cursor = null;
    do {
      EventPage page =
          store.events(EventQuery.topic(topic).limit(pageSize).order(order).after(cursor));
      assertTrue(page.events().size() <= pageSize, "page larger than its limit");
      all.addAll(page.events());
      cursor = page.next();
    } while (cursor != null);
    return all;
  }

  private static List<String> ids(List<StoredEvent> events) {
    return events.stream().map(e -> e.event().eventId()).collect(Collectors.toList());
  }

  @Test
  void append_newKeys_areAcceptedAndStored() {
    List<Outcome> outcomes = store.append(List.of(event("t", "a"), event("t", "b")));
    assertEquals(List.of(Outcome.ACCEPTED, Outcome.ACCEPTED), outcomes);
    assertEquals(List.of("a", "b"), ids(readAll("t", EventQuery.Order.ASC, 10)));
  }

  @Test
  void append_keyFromEarlierBatch_isDuplicate() {
    store.append(List.of(event("t", "a"), event("t", "b")));
    List<Outcome> outcomes = store.append(List.of(event("t", "b"), event("t", "c")));
    assertEquals(List.of(Outcome.DUPLICATE, Outcome.ACCEPTED), outcomes);
    assertEquals(List.of("a", "b", "c"), ids(readAll("t", EventQuery.Order.ASC, 10)));
  }

  @Test
  void append_keyTwiceInOneBatch_firstAcceptedSecondDuplicate() {
    List<Outcome> outcomes =
        store.append(List.of(event("t", "a"), event("t", "a"), event("t", "b"), event("t", "a")));
    assertEquals(
        List.of(Outcome.ACCEPTED, Outcome.DUPLICATE, Outcome.ACCEPTED, Outcome.DUPLICATE),
        outcomes);
    StoreStats stats = store.stats();
    assertEquals(4, stats.received());
    assertEquals(2, stats.uniqueProcessed());
    assertEquals(2, stats.duplicateDropped());
  }

  @Test
  void append_sameKeyOtherTimestampAndPayload_isDuplicateAndFirstVersionWins() {
    store.append(List.of(event("t", "a", "{\"v\":\"first\"}")));
    PendingEvent retry =
        new PendingEvent(
            "t", "a", T0.plusSeconds(3600), "other", "{\"v\":\"second\"}", T0.plusSeconds(3601));
    assertEquals(List.of(Outcome.DUPLICATE), store.append(List.of(retry)));
    StoredEvent stored = readAll("t", EventQuery.Order.ASC, 10).get(0);
    assertEquals("first", stored.event().payload().get("v").asText());
    assertEquals(T0, stored.event().timestamp());
    assertEquals("test", stored.event().source());
  }

  @Test
  void append_sameEventIdInTwoTopics_areTwoEvents() {
    List<Outcome> outcomes = store.append(List.of(event("t1", "x"), event("t2", "x")));
    assertEquals(List.of(Outcome.ACCEPTED, Outcome.ACCEPTED), outcomes);
    assertEquals(List.of(Outcome.DUPLICATE), store.append(List.of(event("t2", "x"))));
    assertEquals(List.of("x"), ids(readAll("t1", EventQuery.Order.ASC, 10)));
    assertEquals(List.of("x"), ids(readAll("t2", EventQuery.Order.ASC, 10)));
  }

  @Test
  void append_keysThatDifferOnlyInWhereTopicEnds_areDifferent() {
    // ("ab", "c") and ("a", "bc") concatenate to the same text: a key made by concatenation
    // without a separator would call the second a duplicate.
    List<Outcome> outcomes = store.append(List.of(event("ab", "c"), event("a", "bc")));
    assertEquals(List.of(Outcome.ACCEPTED, Outcome.ACCEPTED), outcomes);
  }

  @Test
  void close_twice_isHarmless() {
    store.close();
    store.close();
  }

  @Test
  void append_afterClose_failsSayingTheStoreIsClosed() {
    store.close();
    StoreException e =
        assertThrows(StoreException.class, () -> store.append(List.of(event("t", "a"))));
    assertTrue(e.getMessage().contains("closed"), e.getMessage());
    StoreException empty = assertThrows(StoreException.class, () -> store.append(List.of()));
    assertTrue(empty.getMessage().contains("closed"), empty.getMessage());
  }

  @Test
  void probe_openStore_succeeds_closedStore_failsSayingSo() {
    store.append(List.of(event("t", "a")));
    store.probe();
    store.close();
    StoreException e = assertThrows(StoreException.class, store::probe);
    assertTrue(e.getMessage().contains("closed"), e.getMessage());
  }

  @Test
  void events_readWhileAppending_seeWholeBatchesOnly() throws Exception {
    int batches = 50;
    int size = 10;
    AtomicBoolean appending = new AtomicBoolean(true);
    List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
    CompletableFuture<Void> reader =
        CompletableFuture.runAsync(
            () -> {
              do {
                // One page holds every event, so each read is one snapshot.
                EventQuery all = EventQuery.topic("t").limit(EventQuery.MAX_LIMIT);
                int n = store.events(all).events().size();
                long received = store.stats().received();
                assertEquals(0, received % size, "stats mid-batch: " + received);
                seen.add(n);
              } while (appending.get());
            });
    try {
      for (int b = 0; b < batches; b++) {
        if (b % 10 == 0) { // now and then, let the reader catch up, so the two overlap
          int reads = seen.size();
          Await.until("another read", Duration.ofSeconds(10), () -> seen.size() > reads);
        }
        List<PendingEvent> batch = new ArrayList<>();
        for (int i = 0; i < size; i++) {
          batch.add(event("t", b + "-" + i));
        }
        store.append(batch);
      }
    } finally {
      appending.set(false);
    }
    reader.get(30, TimeUnit.SECONDS);
    List<Integer> reads = List.copyOf(seen);
    for (int k = 0; k < reads.size(); k++) {
      assertEquals(0, reads.get(k) % size, "a read saw part of a batch: " + reads);
      assertTrue(k == 0 || reads.get(k) >= reads.get(k - 1), "a read went back: " + reads);
    }
    assertTrue(reads.size() >= batches / 10, "reads: " + reads.size());
    assertEquals(batches * size, readable("t").size());
  }

  @Test
  void append_emptyBatch_changesNothing() {
    assertEquals(List.of(), store.append(List.of()));
    assertEquals(0, store.stats().received());
  }

  @Test
  void stats_countersAndTopics_areExactInFirstSeenOrder() {
    store.append(List.of(event("zeta", "1"), event("alpha", "1"), event("zeta", "2")));
    store.append(List.of(event("mid", "1"), event("alpha", "1"), event("zeta", "2")));
    StoreStats stats = store.stats();
    assertEquals(6, stats.received());
    assertEquals(4, stats.uniqueProcessed());
    assertEquals(2, stats.duplicateDropped());
    Map<String, Long> expected = new LinkedHashMap<>();
    expected.put("zeta", 2L);
    expected.put("alpha", 1L);
    expected.put("mid", 1L);
    assertEquals(expected, stats.topicCounts());
    assertEquals(List.of("zeta", "alpha", "mid"), List.copyOf(stats.topicCounts().keySet()));
  }

  @Test
  void events_pagingBothOrders_isCompleteAndInOrder() {
    for (int b = 0; b < 5; b++) {
      int base = b * 47;
      store.append(
          IntStream.range(base, base + 47)
              .mapToObj(i -> event(i % 3 == 0 ? "other" : "t", "id-" + i))
              .collect(Collectors.toList()));
    }
    List<String> expected =
        IntStream.range(0, 235)
            .filter(i -> i % 3 != 0)
            .mapToObj(i -> "id-" + i)
            .collect(Collectors.toList());
    for (int pageSize : new int[] {1, 7, 100, 156, 157, 1000}) {
      assertEquals(expected, ids(readAll("t", EventQuery.Order.ASC, pageSize)), "asc " + pageSize);
      List<String> reversed = new ArrayList<>(expected);
      java.util.Collections.reverse(reversed);
      assertEquals(
          reversed, ids(readAll("t", EventQuery.Order.DESC, pageSize)), "desc " + pageSize);
    }
  }

  @Test
  void events_pagingWhileAppending_isStable() {
    store.append(
        IntStream.range(0, 20).mapToObj(i -> event("t", "a" + i)).collect(Collectors.toList()));
    EventPage asc = store.events(EventQuery.topic("t").limit(10));
    EventPage desc = store.events(EventQuery.topic("t").limit(10).newestFirst());
    store.append(
        IntStream.range(0, 5).mapToObj(i -> event("t", "b" + i)).collect(Collectors.toList()));
    // Ascending: the cursor continues where the page ended and also reaches the new events.
    List<String> rest = new ArrayList<>();
    String cursor = asc.next();
    while (cursor != null) {
      EventPage p = store.events(EventQuery.topic("t").limit(10).after(cursor));
      rest.addAll(ids(p.events()));
      cursor = p.next();
    }
    List<String> expectedRest = new ArrayList<>();
    IntStream.range(10, 20).forEach(i -> expectedRest.add("a" + i));
    IntStream.range(0, 5).forEach(i -> expectedRest.add("b" + i));
    assertEquals(expectedRest, rest);
    // Descending: the next page is the older events, unaffected by newer ones.
    EventPage older =
        store.events(EventQuery.topic("t").limit(10).newestFirst().after(desc.next()));
    List<String> expectedOlder = new ArrayList<>();
    IntStream.iterate(9, i -> i >= 0, i -> i - 1).forEach(i -> expectedOlder.add("a" + i));
    assertEquals(expectedOlder, ids(older.events()));
    assertNull(older.next());
  }

  @Test
  void events_unknownTopic_isEmptyPage() {
    store.append(List.of(event("t", "a")));
    EventPage page = store.events(EventQuery.topic("nope"));
    assertEquals(List.of(), page.events());
    assertNull(page.next());
  }

  @Test
  void events_cursorNotFromStore_isRejected() {
    store.append(List.of(event("t", "a")));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> store.events(EventQuery.topic("t").after("not-a-cursor")));
    assertTrue(e.getMessage().contains("not-a-cursor"), e.getMessage());
  }

  @Test
  void append_unicodeAndMaxLengthFields_roundTrip() {
    String longTopic = "t".repeat(254) + "é";
    String longId = "😀".repeat(255); // 255 characters, 510 UTF-16 units
    String longSource = "s".repeat(255);
    String unicodeTopic = "заказы.创建.🚀";
    PendingEvent a =
        new PendingEvent(longTopic, longId, T0, longSource, "{\"k\":\"ü\"}", T0.plusSeconds(1));
    PendingEvent b =
        new PendingEvent(unicodeTopic, "ид-1 ✓", T0, "سرویس", "{\"名\":\"値\"}", T0.plusSeconds(1));
    assertEquals(List.of(Outcome.ACCEPTED, Outcome.ACCEPTED), store.append(List.of(a, b)));
    assertEquals(List.of(Outcome.DUPLICATE, Outcome.DUPLICATE), store.append(List.of(a, b)));
    StoredEvent sa = readAll(longTopic, EventQuery.Order.ASC, 10).get(0);
    assertEquals(longTopic, sa.event().topic());
    assertEquals(longId, sa.event().eventId());
    assertEquals(longSource, sa.event().source());
    StoredEvent sb = readAll(unicodeTopic, EventQuery.Order.ASC, 10).get(0);
    assertEquals("ид-1 ✓", sb.event().eventId());
    assertEquals("سرویس", sb.event().source());
    assertEquals("値", sb.event().payload().get("名").asText());
    assertEquals(
        List.of(longTopic, unicodeTopic), List.copyOf(store.stats().topicCounts().keySet()));
  }

  @Test
  void append_payloads_comeBackAsEqualJson() throws Exception {
    String payload =
        "{\"s\":\"x\\\"y\\n\",\"i\":-42,\"big\":12345678901234567890,\"f\":1.5e-7,"
            + "\"b\":true,\"n\":null,\"a\":[1,\"two\",{\"three\":3}],\"o\":{\"deep\":{\"er\":[]}},"
            + "\"u\":\"\\u00e9\\ud83d\\ude00\"}";
    store.append(List.of(event("t", "p", payload), event("t", "empty", "{}")));
    List<StoredEvent> stored = readAll("t", EventQuery.Order.ASC, 10);
    JsonNode expected = MAPPER.readTree(payload);
    assertEquals(expected, stored.get(0).event().payload());
    assertEquals(MAPPER.createObjectNode(), stored.get(1).event().payload());
  }

  @Test
  void append_timestamps_roundTripToTheNanosecond() {
    Instant ts = Instant.parse("2025-10-23T10:00:00.123456789Z");
    Instant received = Instant.parse("2025-10-23T10:00:01.5Z");
    store.append(List.of(new PendingEvent("t", "a", ts, "", "{}", received)));
    StoredEvent stored = readAll("t", EventQuery.Order.ASC, 10).get(0);
    assertEquals(ts, stored.event().timestamp());
    assertEquals(received, stored.receivedAt());
  }

  @Test
  void append_timestampSpellings_comeBackAsSpelled_withTheirInstants() {
    List<String> spellings =
        List.of(
            "2025-10-24T15:00:00+07:00",
            "2025-10-24T08:00:00Z",
            "2025-10-24T08:00:00.1234567Z",
            "2025-10-24T03:30:00.50-04:30",
            "2025-10-24T08:00:00+00:00");
    List<PendingEvent> batch = new ArrayList<>();
    for (int i = 0; i < spellings.size(); i++) {
      String text = spellings.get(i);
      batch.add(
          new PendingEvent(
              "t", "e" + i, Instant.parse(text), "", "{}", T0, text)); // Instant.parse: offsets too
    }
    store.append(batch);
    List<StoredEvent> stored = readAll("t", EventQuery.Order.ASC, 2);
    assertEquals(
        spellings,
        stored.stream().map(e -> e.event().timestampText()).collect(Collectors.toList()));
    for (int i = 0; i < spellings.size(); i++) {
      assertEquals(
          Instant.parse(spellings.get(i)), stored.get(i).event().timestamp(), spellings.get(i));
    }
  }

  @Test
  void append_duplicateWithTheSameInstantOtherwiseSpelled_isNoConflict_firstSpellingKept() {
    store.append(
        List.of(
            new PendingEvent(
                "t",
                "a",
                Instant.parse("2025-10-24T08:00:00Z"),
                "",
                "{}",
                T0,
                "2025-10-24T15:00:00+07:00")));
    PendingEvent retry =
        new PendingEvent(
            "t", "a", Instant.parse("2025-10-24T08:00:00Z"), "", "{}", T0, "2025-10-24T08:00:00Z");
    List<Outcome> outcomes = store.append(List.of(retry));
    assertEquals(List.of(Outcome.DUPLICATE), outcomes);
    assertEquals(List.of(), AppendResult.conflictsOf(outcomes)); // timestamps are not compared
    assertEquals(
        "2025-10-24T15:00:00+07:00",
        readAll("t", EventQuery.Order.ASC, 10).get(0).event().timestampText());
  }

  /** One event of the time-range model: its id, instant and ingest position. */
  private record Timed(String id, Instant timestamp, int ingest) {}

  /**
   * Events of two topics in batches of 1 to 60, timestamps mostly rising with 10% far out of order,
   * spelled with assorted offsets; enough events that stores keeping per-block summaries have
   * several blocks, some with outliers.
   */
  private List<Timed> appendTimedEvents(int count) {
    java.util.Random random = new java.util.Random(5);
    List<Timed> model = new ArrayList<>();
    Instant t = T0;
    List<PendingEvent> batch = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      t = t.plusMillis(random.nextInt(2000));
      Instant ts = random.nextInt(10) == 0 ? T0.plusSeconds(random.nextInt(4000)) : t;
      if (i % 7 == 0) {
        ts = model.isEmpty() ? ts : model.get(model.size() - 1).timestamp(); // equal instants
      }
      java.time.ZoneOffset offset = java.time.ZoneOffset.ofHours(random.nextInt(25) - 12);
      String text = ts.atOffset(offset).toString();
      batch.add(new PendingEvent("t", "e" + i, ts, "", "{}", T0, text));
      batch.add(new PendingEvent("other", "o" + i, T0.plusSeconds(i), "", "{}", T0));
      model.add(new Timed("e" + i, ts, i));
      if (batch.size() >= 2 * (1 + random.nextInt(60)) || i == count - 1) {
        store.append(batch);
        batch = new ArrayList<>();
      }
    }
    return model;
  }

  private List<String> readAllIds(EventQuery first) {
    List<String> ids = new ArrayList<>();
    EventQuery q = first;
    while (true) {
      EventPage page = store.events(q);
      assertTrue(page.events().size() <= q.limit(), "page larger than its limit");
      page.events().forEach(e -> ids.add(e.event().eventId()));
      if (page.next() == null) {
        return ids;
      }
      assertEquals(q.limit(), page.events().size(), "a page before the last is full");
      q = q.after(page.next());
    }
  }

  private static List<String> expected(
      List<Timed> model, Instant from, Instant to, EventQuery.OrderBy by, EventQuery.Order order) {
    java.util.Comparator<Timed> c =
        by == EventQuery.OrderBy.INGEST
            ? java.util.Comparator.comparingInt(Timed::ingest)
            : java.util.Comparator.comparing(Timed::timestamp).thenComparingInt(Timed::ingest);
    return model.stream()
        .filter(e -> (from == null || !e.timestamp().isBefore(from)))
        .filter(e -> (to == null || e.timestamp().isBefore(to)))
        .sorted(order == EventQuery.Order.ASC ? c : c.reversed())
        .map(Timed::id)
        .collect(Collectors.toList());
  }

  @Test
  void events_timeRangesAndTimestampOrder_matchTheModel_inEveryOrderAndPageSize() {
    List<Timed> model = appendTimedEvents(3000);
    java.util.Random random = new java.util.Random(9);
    Instant end = model.stream().map(Timed::timestamp).max(Instant::compareTo).orElseThrow();
    for (int k = 0; k < 40; k++) {
      Instant from = k % 5 == 0 ? null : T0.plusMillis((long) (random.nextDouble() * 3_100_000));
      Instant to =
          k % 7 == 0
              ? null
              : (from == null ? T0 : from)
                  .plusMillis(random.nextInt(k % 2 == 0 ? 60_000 : 900_000));
      EventQuery.OrderBy by = EventQuery.OrderBy.values()[k % 2];
      EventQuery.Order order = EventQuery.Order.values()[(k / 2) % 2];
      int limit = 1 + random.nextInt(k % 3 == 0 ? 5 : 300);
      EventQuery q = EventQuery.topic("t").limit(limit).order(order).orderBy(by).between(from, to);
      assertEquals(expected(model, from, to, by, order), readAllIds(q), q.toString());
    }
    // The bounds themselves: from is inclusive, to exclusive, an empty range is empty.
    Timed some = model.get(1234);
    Instant at = some.timestamp();
    for (EventQuery.OrderBy by : EventQuery.OrderBy.values()) {
      EventQuery q = EventQuery.topic("t").limit(1000).orderBy(by);
      assertEquals(
          expected(model, at, at.plusNanos(1), by, EventQuery.Order.ASC),
          readAllIds(q.between(at, at.plusNanos(1))));
      assertTrue(readAllIds(q.between(at, at.plusNanos(1))).contains(some.id()));
      assertTrue(!readAllIds(q.between(at.minusSeconds(1), at)).contains(some.id()));
      assertEquals(List.of(), readAllIds(q.between(at, at)));
    }
    assertTrue(end.isAfter(T0));
  }

  @Test
  void events_timestampOrderPagedWhileAppending_everyEarlierEventExactlyOnce() {
    List<Timed> model = appendTimedEvents(600);
    for (EventQuery.Order order : EventQuery.Order.values()) {
      EventQuery q =
          EventQuery.topic("t").limit(7).order(order).orderBy(EventQuery.OrderBy.TIMESTAMP);
      List<String> ids = new ArrayList<>();
      int appended = 0;
      while (true) {
        EventPage page = store.events(q);
        page.events().forEach(e -> ids.add(e.event().eventId()));
        // Events stored between pages, before and after the cursor in time.
        store.append(
            List.of(
                new PendingEvent(
                    "t", order + "-early-" + appended, T0.minusSeconds(1), "", "{}", T0),
                new PendingEvent(
                    "t", order + "-late-" + appended, T0.plusSeconds(9999), "", "{}", T0)));
        appended++;
        if (page.next() == null) {
          break;
        }
        q = q.after(page.next());
      }
      List<String> before = expected(model, null, null, EventQuery.OrderBy.TIMESTAMP, order);
      List<String> seenBefore =
          ids.stream().filter(id -> id.startsWith("e")).collect(Collectors.toList());
      assertEquals(before, seenBefore, order.toString());
      assertEquals(ids.size(), ids.stream().distinct().count(), "an event on two pages");
    }
  }

  @Test
  void events_cursorOfTheOtherOrdering_isRejected() {
    for (int i = 0; i < 3; i++) {
      store.append(List.of(event("t", "e" + i)));
    }
    String ingestCursor = store.events(EventQuery.topic("t").limit(1)).next();
    EventQuery byTime = EventQuery.topic("t").limit(1).orderBy(EventQuery.OrderBy.TIMESTAMP);
    String timeCursor = store.events(byTime).next();
    assertThrows(IllegalArgumentException.class, () -> store.events(byTime.after(ingestCursor)));
    assertThrows(
        IllegalArgumentException.class,
        () -> store.events(EventQuery.topic("t").limit(1).after(timeCursor)));
    assertEquals(1, store.events(byTime.after(timeCursor)).events().size());
  }

  @Test
  void append_manyBatches_countersEqualStoredRows() {
    int total = 0;
    for (int b = 0; b < 20; b++) {
      List<PendingEvent> batch = new ArrayList<>();
      for (int i = 0; i < 250; i++) {
        batch.add(event("t" + (i % 4), "k" + ((b * 250 + i) % 3000)));
      }
      store.append(batch);
      total += batch.size();
    }
    StoreStats stats = store.stats();
    int stored = 0;
    for (String topic : stats.topicCounts().keySet()) {
      int rows = readAll(topic, EventQuery.Order.ASC, 1000).size();
      assertEquals(stats.topicCounts().get(topic).longValue(), rows, topic);
      stored += rows;
    }
    assertEquals(3000, stored);
    assertEquals(stored, stats.uniqueProcessed());
    assertEquals(total, stats.received());
    assertEquals(stats.received(), stats.uniqueProcessed() + stats.duplicateDropped());
  }

  // Retention: the dedup window is the retention, exactly.

  @Test
  void retention_keyInsideWindow_isDuplicate_keyPastWindow_isAcceptedAgainAsNew() {
    store.retain(new Retention(AGE, Long.MAX_VALUE, clock));
    Instant r = T0.plusSeconds(1);
    store.append(List.of(receivedAt("t", "a", r), receivedAt("t", "b", r)));

    clock.set(r.plus(AGE).minusNanos(1)); // the last instant of the window
    assertEquals(List.of(Outcome.DUPLICATE), store.append(List.of(receivedAt("t", "a", T0))));
    assertEquals(List.of("a", "b"), readable("t"));
    assertEquals(2, assertCountersExact().stored());

    clock.set(r.plus(AGE)); // expired: no longer returned, even before any append
    assertEquals(List.of(), readable("t"));
    Instant again = clock.instant();
    assertEquals(List.of(Outcome.ACCEPTED), store.append(List.of(receivedAt("t", "a", again))));
    StoreStats s = assertCountersExact();
    assertEquals(4, s.received());
    assertEquals(3, s.uniqueProcessed(), "the key accepted again counts as new");
    assertEquals(1, s.duplicateDropped());
    assertEquals(2, s.expired());
    assertEquals(1, s.stored());
    assertEquals(List.of("a"), readable("t"));
    assertEquals(again, readAll("t", EventQuery.Order.ASC, 10).get(0).receivedAt());
    assertEquals(List.of(Outcome.DUPLICATE), store.append(List.of(receivedAt("t", "a", again))));
  }

  @Test
  void retention_eventsReceivedAtDifferentTimes_expireOneByOneInReceiveOrder() {
    store.retain(new Retention(Duration.ofMinutes(30), Long.MAX_VALUE, clock));
    store.append(List.of(receivedAt("t", "a", T0)));
    store.append(List.of(receivedAt("t", "b", T0.plusSeconds(600))));
    store.append(List.of(receivedAt("u", "c", T0.plusSeconds(1200))));

    clock.set(T0.plusSeconds(1800 + 600 - 1));
    assertEquals(List.of("b"), readable("t"));
    assertEquals(
        List.of(Outcome.ACCEPTED, Outcome.DUPLICATE, Outcome.DUPLICATE),
        store.append(
            List.of(
                receivedAt("t", "a", clock.instant()),
                receivedAt("t", "b", clock.instant()),
                receivedAt("u", "c", clock.instant()))));
    assertEquals(1, assertCountersExact().expired());

    clock.set(T0.plusSeconds(1800 + 600));
    assertEquals(
        List.of(Outcome.ACCEPTED, Outcome.DUPLICATE),
        store.append(
            List.of(receivedAt("t", "b", clock.instant()), receivedAt("u", "c", clock.instant()))));
    StoreStats s = assertCountersExact();
    assertEquals(2, s.expired());
    assertEquals(List.of("a", "b"), readable("t"));
    assertEquals(List.of("c"), readable("u"));
  }

  @Test
  void retention_receiveTimeEarlierThanOneCommittedBefore_countsFromTheLaterOne() {
    // Receive times are taken before queueing: a publish stamped earlier may commit later. It
    // then expires with the event committed before it, never earlier than its own time allows.
    store.retain(new Retention(AGE, Long.MAX_VALUE, clock));
    store.append(List.of(receivedAt("t", "late", T0.plusSeconds(10))));
    store.append(List.of(receivedAt("t", "early", T0)));
    clock.set(T0.plus(AGE).plusSeconds(5));
    assertEquals(List.of("late", "early"), readable("t"));
    assertEquals(List.of(Outcome.DUPLICATE), store.append(List.of(receivedAt("t", "early", T0))));
    clock.set(T0.plus(AGE).plusSeconds(10));
    assertEquals(List.of(), readable("t"));
    assertEquals(List.of(Outcome.ACCEPTED), store.append(List.of(receivedAt("t", "early", T0))));
  }

  @Test
  void maxEvents_oldestBeyondTheCapRemoved_itsKeyAcceptedAgain() {
    store.retain(new Retention(null, 3, clock));
    for (int i = 1; i <= 5; i++) {
      assertEquals(List.of(Outcome.ACCEPTED), store.append(List.of(event("t", "e" + i))));
      assertEquals(Math.min(i, 3), assertCountersExact().stored());
    }
    assertEquals(List.of("e3", "e4", "e5"), readable("t"));
    assertEquals(
        List.of(Outcome.DUPLICATE, Outcome.ACCEPTED),
        store.append(List.of(event("t", "e3"), event("t", "e1"))));
    assertEquals(List.of("e4", "e5", "e1"), readable("t"));
    StoreStats s = assertCountersExact();
    assertEquals(6, s.uniqueProcessed());
    assertEquals(3, s.expired());
    assertEquals(Optional.empty(), store.nextExpiry(), "a count limit alone never expires by time");
  }

  @Test
  void maxEvents_batchLargerThanTheCap_keepsItsNewestEvents() {
    store.retain(new Retention(null, 3, clock));
    List<PendingEvent> batch = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      batch.add(event(i % 2 == 0 ? "even" : "odd", "e" + i));
    }
    assertEquals(5, store.append(batch).stream().filter(o -> o == Outcome.ACCEPTED).count());
    assertEquals(List.of("e4"), readable("even"));
    assertEquals(List.of("e3", "e5"), readable("odd"));
    StoreStats s = assertCountersExact();
    assertEquals(2, s.expired());
    assertEquals(Map.of("odd", 2L, "even", 1L), s.topicCounts());
  }

  @Test
  void retention_manyExpiredAtOnce_removedBeforeTheirKeysReturn_countersExactAtEveryStep() {
    store.retain(new Retention(AGE, Long.MAX_VALUE, clock));
    int old = 6_000; // more than one step removes (4,096 in the SQLite store)
    for (int b = 0; b < old / 1000; b++) {
      List<PendingEvent> batch = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        batch.add(receivedAt("t" + (i % 3), "old-" + (b * 1000 + i), T0));
      }
      store.append(batch);
    }
    clock.set(T0.plus(AGE).plusSeconds(1)); // all of them expired at once, as after a long stop
    assertEquals(0, readableCount());
    List<PendingEvent> batch = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      // Half are keys of expired events: new again, whether or not their rows are gone yet.
      int j = i * 977;
      batch.add(
          i % 2 == 0
              ? receivedAt("t" + (j % 1000 % 3), "old-" + j, clock.instant())
              : receivedAt("t" + (i % 3), "new-" + i, clock.instant()));
    }
    batch.add(receivedAt("t0", "old-0", clock.instant())); // a duplicate of the first, in batch
    List<Outcome> outcomes = store.append(batch);
    assertEquals(10, outcomes.stream().filter(o -> o == Outcome.ACCEPTED).count(), "" + outcomes);
    assertEquals(Outcome.DUPLICATE, outcomes.get(10));
    long expiredBefore = store.stats().expired();
    do {
      StoreStats s = store.stats();
      assertEquals(s.received(), s.uniqueProcessed() + s.duplicateDropped());
      assertEquals(
          s.stored(), s.topicCounts().values().stream().mapToLong(Long::longValue).sum(), "" + s);
      assertTrue(s.expired() >= expiredBefore, "expired went down");
      expiredBefore = s.expired();
      assertEquals(10, readableCount(), "expired events returned");
    } while (drainOneStep());
    StoreStats s = assertCountersExact();
    assertEquals(old, s.expired());
    assertEquals(10, s.stored());
    assertEquals(old + 10, s.uniqueProcessed());
  }

  /** One empty append if an expiry is due; whether it was. */
  private boolean drainOneStep() {
    Optional<Instant> next = store.nextExpiry();
    if (next.isEmpty() || next.get().isAfter(clock.instant())) {
      return false;
    }
    store.append(List.of());
    return true;
  }

  @Test
  void nextExpiry_followsTheOldestStoredEvent() {
    assertEquals(Optional.empty(), store.nextExpiry(), "no retention");
    store.retain(new Retention(AGE, Long.MAX_VALUE, clock));
    assertEquals(Optional.empty(), store.nextExpiry(), "nothing stored");
    store.append(List.of(receivedAt("t", "a", T0)));
    store.append(List.of(receivedAt("t", "b", T0.plusSeconds(60))));
    assertEquals(Optional.of(T0.plus(AGE)), store.nextExpiry());
    clock.set(T0.plus(AGE));
    drainExpiry();
    assertEquals(Optional.of(T0.plusSeconds(60).plus(AGE)), store.nextExpiry());
    assertEquals(List.of("b"), readable("t"));
    clock.set(T0.plusSeconds(60).plus(AGE));
    drainExpiry();
    assertEquals(Optional.empty(), store.nextExpiry());
    assertEquals(0, assertCountersExact().stored());
    assertEquals(Map.of("t", 0L), store.stats().topicCounts(), "the topic stays, with 0 events");
  }

  @Test
  void maxEvents_lowered_excessRemovedByLaterAppends_storedUntilThen() {
    for (int i = 0; i < 50; i++) {
      store.append(List.of(event("t", "e" + i)));
    }
    store.retain(new Retention(null, 10, clock));
    Optional<Instant> next = store.nextExpiry();
    assertTrue(next.isPresent() && !next.get().isAfter(clock.instant()), "due now: " + next);
    drainExpiry();
    StoreStats s = assertCountersExact();
    assertEquals(10, s.stored());
    assertEquals(40, s.expired());
    assertEquals(List.of(Outcome.ACCEPTED), store.append(List.of(event("t", "e0"))));
    assertEquals(List.of(Outcome.DUPLICATE), store.append(List.of(event("t", "e49"))));
  }

  @Test
  void retention_notGiven_keepsEverything() {
    store.append(List.of(receivedAt("t", "a", T0)));
    clock.set(T0.plus(Duration.ofDays(3650)));
    assertEquals(List.of(Outcome.DUPLICATE), store.append(List.of(receivedAt("t", "a", T0))));
    assertEquals(Optional.empty(), store.nextExpiry());
    assertEquals(0, assertCountersExact().expired());
  }

  // Payload conflicts: the same key with other content is reported; the first version stays.

  @Test
  void append_duplicateWithAnotherPayload_isConflict_storedEventUnchanged() {
    store.append(List.of(event("t", "a", "{\"v\":1}"), event("t", "b", "{\"v\":1}")));
    List<Outcome> outcomes =
        store.append(
            List.of(event("t", "a", "{\"v\":2}"), event("t", "b", "{\"v\":1}"), event("t", "c")));
    assertEquals(List.of(Outcome.DUPLICATE, Outcome.DUPLICATE, Outcome.ACCEPTED), outcomes);
    assertEquals(List.of(0), AppendResult.conflictsOf(outcomes));
    assertEquals(
        1, readAll("t", EventQuery.Order.ASC, 10).get(0).event().payload().get("v").asInt());
    StoreStats s = assertCountersExact();
    assertEquals(1, s.payloadConflicts());
    assertEquals(2, s.duplicateDropped());
  }

  @Test
  void append_duplicateWithSameValueOtherwiseWritten_isNoConflict() {
    store.append(List.of(event("t", "a", "{\"x\":1,\"y\":{\"z\":[1.5,\"s\"]},\"n\":null}")));
    PendingEvent reordered = event("t", "a", "{\"n\":null,\"y\":{\"z\":[1.50,\"s\"]},\"x\":1.0}");
    PendingEvent otherTimeAndSource =
        new PendingEvent(
            "t",
            "a",
            T0.plusSeconds(99),
            "elsewhere",
            "{\"x\":1e0,\"y\":{\"z\":[15e-1,\"s\"]},\"n\":null}",
            T0.plusSeconds(100));
    List<Outcome> outcomes = store.append(List.of(reordered, otherTimeAndSource));
    assertEquals(List.of(Outcome.DUPLICATE, Outcome.DUPLICATE), outcomes);
    assertEquals(List.of(), AppendResult.conflictsOf(outcomes));
    assertEquals(0, store.stats().payloadConflicts());
  }

  @Test
  void append_conflictInsideOneBatch_isReportedAgainstTheFirstOccurrence() {
    List<Outcome> outcomes =
        store.append(
            List.of(
                event("t", "a", "{\"v\":1}"),
                event("t", "a", "{\"v\":2}"),
                event("t", "a", "{\"v\":1.0}")));
    assertEquals(List.of(Outcome.ACCEPTED, Outcome.DUPLICATE, Outcome.DUPLICATE), outcomes);
    assertEquals(List.of(1), AppendResult.conflictsOf(outcomes));
    assertEquals(1, store.stats().payloadConflicts());
  }

  @Test
  void append_keyOfExpiredEventWithAnotherPayload_isNewNotConflict() {
    store.retain(new Retention(AGE, Long.MAX_VALUE, clock));
    store.append(List.of(event("t", "a", "{\"v\":1}")));
    clock.set(T0.plusSeconds(1).plus(AGE));
    PendingEvent again = new PendingEvent("t", "a", T0, "test", "{\"v\":2}", clock.instant());
    List<Outcome> outcomes = store.append(List.of(again));
    assertEquals(List.of(Outcome.ACCEPTED), outcomes);
    assertEquals(List.of(), AppendResult.conflictsOf(outcomes));
    assertEquals(
        2, readAll("t", EventQuery.Order.ASC, 10).get(0).event().payload().get("v").asInt());
  }

  // Claims: the store side of ConsumerGuard. Times are passed in, so leases need no waiting.

  /** The lease of the claim tests. */
  protected static final Duration LEASE = Duration.ofMinutes(5);

  /** A claim of {@code (topic, id)} for {@code token} at {@code now}, for {@link #LEASE}. */
  protected ClaimState claim(String topic, String id, String token, Instant now) {
    return store.claim(topic, id, token, now, now.plus(LEASE));
  }

  @Test
  void claim_newKey_isAcquired_anotherTokenFindsItInProgressWithTheLease() {
    assertEquals(new ClaimState(Claim.Status.ACQUIRED, T0.plus(LEASE)), claim("t", "a", "A", T0));
    assertEquals(
        new ClaimState(Claim.Status.IN_PROGRESS, T0.plus(LEASE)),
        claim("t", "a", "B", T0.plusSeconds(10)));
    assertEquals(new ClaimStats(1, 0, 0, 0), store.claimStats());
  }

  @Test
  void claim_isNoEvent_countersAndReadsUnchanged_publishOfTheKeyStillAccepted() {
    claim("t", "a", "A", T0);
    assertEquals(StoreStats.EMPTY, store.stats());
    assertEquals(List.of(), readable("t"));
    assertEquals(List.of(Outcome.ACCEPTED), store.append(List.of(event("t", "a"))));
    assertCountersExact();
  }

  @Test
  void claim_storedKey_isDuplicate_noClaimWritten() {
    store.append(List.of(event("t", "a")));
    assertEquals(ClaimState.DUPLICATE, claim("t", "a", "A", T0));
    assertEquals(ClaimStats.NONE, store.claimStats());
  }

  @Test
  void claim_confirmed_laterClaimsAreDuplicates_evenPastTheLease() {
    claim("t", "a", "A", T0);
    store.append(List.of(event("t", "a"))); // the guard publishes the event, then ends the claim
    assertTrue(store.endClaim("t", "a", "A", true));
    assertEquals(ClaimState.DUPLICATE, claim("t", "a", "B", T0.plusSeconds(1)));
    assertEquals(ClaimState.DUPLICATE, claim("t", "a", "C", T0.plus(LEASE).plus(LEASE)));
    assertEquals(new ClaimStats(0, 1, 0, 0), store.claimStats());
    assertEquals(List.of("a"), readable("t"));
  }

  @Test
  void claim_storedWhileClaimLeft_isDuplicate_leftClaimEndedAsConfirmedOnceItsLeaseRanOut() {
    // A process that died between publishing the event and ending its claim.
    claim("t", "a", "A", T0);
    store.append(List.of(event("t", "a")));
    assertEquals(ClaimState.DUPLICATE, claim("t", "a", "B", T0.plusSeconds(1)));
    assertEquals(new ClaimStats(1, 0, 0, 0), store.claimStats(), "the holder may still end it");
    assertEquals(ClaimState.DUPLICATE, claim("t", "a", "B", T0.plus(LEASE)));
    assertEquals(new ClaimStats(0, 1, 0, 0), store.claimStats());
    assertFalse(store.endClaim("t", "a", "A", true), "ended already");
    assertEquals(ClaimState.DUPLICATE, claim("t", "a", "C", T0.plus(LEASE).plusSeconds(1)));
    assertEquals(new ClaimStats(0, 1, 0, 0), store.claimStats());
  }

  @Test
  void claim_released_isAcquiredAgainAtOnce() {
    claim("t", "a", "A", T0);
    assertTrue(store.endClaim("t", "a", "A", false));
    assertEquals(
        new ClaimState(Claim.Status.ACQUIRED, T0.plusSeconds(1).plus(LEASE)),
        claim("t", "a", "B", T0.plusSeconds(1)));
    assertEquals(new ClaimStats(1, 0, 1, 0), store.claimStats());
  }

  @Test
  void endClaim_otherToken_orEndedAlready_changesNothing() {
    claim("t", "a", "A", T0);
    assertFalse(store.endClaim("t", "a", "B", true));
    assertFalse(store.endClaim("t", "b", "A", false));
    assertEquals(new ClaimStats(1, 0, 0, 0), store.claimStats());
    assertTrue(store.endClaim("t", "a", "A", false));
    assertFalse(store.endClaim("t", "a", "A", false));
    assertEquals(new ClaimStats(0, 0, 1, 0), store.claimStats());
  }

  @Test
  void claim_leaseRunOut_isTakenOver_countsAnExpiry_oldHolderCannotEndIt() {
    claim("t", "a", "A", T0);
    Instant justBefore = T0.plus(LEASE).minusNanos(1);
    assertEquals(Claim.Status.IN_PROGRESS, claim("t", "a", "B", justBefore).status());
    Instant end = T0.plus(LEASE);
    assertEquals(new ClaimState(Claim.Status.ACQUIRED, end.plus(LEASE)), claim("t", "a", "B", end));
    assertEquals(new ClaimStats(1, 0, 0, 1), store.claimStats());
    assertFalse(store.endClaim("t", "a", "A", false), "the first holder's lease ran out");
    assertEquals(
        new ClaimState(Claim.Status.IN_PROGRESS, end.plus(LEASE)),
        claim("t", "a", "C", end.plusSeconds(1)));
    assertTrue(store.endClaim("t", "a", "B", true));
    assertEquals(new ClaimStats(0, 1, 0, 1), store.claimStats());
  }

  @Test
  void claim_sameIdInTwoTopics_areTwoKeys() {
    store.append(List.of(event("t1", "a")));
    assertEquals(Claim.Status.ACQUIRED, claim("t2", "a", "A", T0).status());
    assertEquals(Claim.Status.ACQUIRED, claim("t3", "a", "B", T0).status());
    assertEquals(ClaimState.DUPLICATE, claim("t1", "a", "C", T0));
  }

  @Test
  void claim_keyWhoseEventExpired_isAcquired() {
    store.retain(new Retention(AGE, Long.MAX_VALUE, clock));
    store.append(List.of(event("t", "a")));
    Instant expired = T0.plusSeconds(1).plus(AGE);
    clock.set(expired.minusNanos(1));
    assertEquals(ClaimState.DUPLICATE, claim("t", "a", "A", clock.instant()));
    clock.set(expired);
    assertEquals(Claim.Status.ACQUIRED, claim("t", "a", "A", expired).status());
  }
}
