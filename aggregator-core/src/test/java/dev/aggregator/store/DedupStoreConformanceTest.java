package dev.aggregator.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aggregator.EventPage;
import dev.aggregator.EventQuery;
import dev.aggregator.Outcome;
import dev.aggregator.StoredEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link DedupStore}: every implementation runs this suite, by extending it and
 * saying how to open a fresh store. Shipped in the test-jar of aggregator-core.
 */
public abstract class DedupStoreConformanceTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Instant T0 = Instant.parse("2025-10-23T10:00:00Z");

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
}
