package dev.aggregator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aggregator.http.TestServer.Reply;
import dev.aggregator.store.InMemoryDedupStore;
import dev.aggregator.store.TestClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * Keys over time through HTTP, with the aggregator's clock in the test's hands: a key is a
 * duplicate exactly while its event is kept and accepted again once it expired, the counters stay
 * exact at every step, and a duplicate with another payload says so.
 */
class RetentionApiTest {
  private final TestClock clock = new TestClock(Instant.parse("2026-01-01T00:00:00Z"));

  private TestServer withRetention(Duration retention) {
    return new TestServer(
        new InMemoryDedupStore(), a -> a.clock(clock).retention(retention), b -> b);
  }

  private static JsonNode result(Reply r) {
    assertEquals(200, r.status(), r.text());
    return r.json().get("results").get(0);
  }

  private static void assertCounters(
      TestServer s, long received, long unique, long duplicates, long expired, long stored) {
    JsonNode st = s.get("/stats").json();
    String all = st.toString();
    assertEquals(received, st.get("received").asLong(), all);
    assertEquals(unique, st.get("unique_processed").asLong(), all);
    assertEquals(duplicates, st.get("duplicate_dropped").asLong(), all);
    assertEquals(expired, st.get("expired").asLong(), all);
    assertEquals(stored, st.get("stored").asLong(), all);
    assertEquals(
        st.get("unique_processed").asLong() - st.get("expired").asLong(),
        st.get("stored").asLong(),
        all);
    assertEquals(
        st.get("unique_processed").asLong() + st.get("duplicate_dropped").asLong(),
        st.get("received").asLong(),
        all);
  }

  @Test
  void publish_keyDuplicateWhileKept_acceptedAgainOnceExpired_countersExactAtEveryStep() {
    try (TestServer s = withRetention(Duration.ofMinutes(1))) {
      String event = "{\"topic\":\"t\",\"event_id\":\"k\"}";
      assertEquals("accepted", result(s.post("/publish", event)).get("status").asText());
      assertCounters(s, 1, 1, 0, 0, 1);

      clock.advance(Duration.ofSeconds(59));
      assertEquals("duplicate", result(s.post("/publish", event)).get("status").asText());
      assertCounters(s, 2, 1, 1, 0, 1);
      assertEquals(1, s.get("/events?topic=t").json().get("count").asInt());

      clock.advance(Duration.ofSeconds(1));
      assertEquals(0, s.get("/events?topic=t").json().get("count").asInt(), "expired, unread");
      assertEquals("accepted", result(s.post("/publish", event)).get("status").asText());
      assertCounters(s, 3, 2, 1, 1, 1);
    }
  }

  @Test
  void publish_duplicateWithAnotherPayload_conflictTrue_sameValueOtherwiseWrittenNot() {
    try (TestServer s = TestServer.inMemory()) {
      String first = "{\"topic\":\"t\",\"event_id\":\"c\",\"payload\":{\"a\":1,\"b\":[2,3]}}";
      assertEquals("accepted", result(s.post("/publish", first)).get("status").asText());

      // The same value: members reordered, numbers spelled otherwise, timestamp and source new.
      String same =
          "{\"topic\":\"t\",\"event_id\":\"c\",\"timestamp\":\"2026-02-01T00:00:00Z\","
              + "\"source\":\"retry\",\"payload\":{\"b\":[2.0,3],\"a\":1.0}}";
      JsonNode sameResult = result(s.post("/publish", same));
      assertEquals("duplicate", sameResult.get("status").asText());
      assertFalse(sameResult.has("conflict"), sameResult.toString());

      String other = "{\"topic\":\"t\",\"event_id\":\"c\",\"payload\":{\"a\":2,\"b\":[2,3]}}";
      Reply r = s.post("/publish", other);
      JsonNode conflict = result(r);
      assertEquals("duplicate", conflict.get("status").asText());
      assertTrue(conflict.get("conflict").asBoolean(), conflict.toString());
      assertEquals(0, r.json().get("accepted").asInt());
      assertEquals(1, r.json().get("duplicates").asInt());

      JsonNode st = s.get("/stats").json();
      assertEquals(1, st.get("payload_conflicts").asLong(), st.toString());
      assertEquals(3, st.get("received").asLong(), st.toString());
      assertEquals(2, st.get("duplicate_dropped").asLong(), st.toString());
      JsonNode stored = s.get("/events?topic=t").json().get("events").get(0).get("payload");
      assertEquals("{\"a\":1,\"b\":[2,3]}", stored.toString(), "the first version stays");
      String text = s.get("/prometheus").text();
      assertTrue(text.contains("\naggregator_payload_conflicts_total 1\n"), text);
      assertTrue(text.contains("\naggregator_events_stored 1\n"), text);
      assertTrue(text.contains("\naggregator_events_expired_total 0\n"), text);
    }
  }
}
