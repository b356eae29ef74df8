package dev.aggregator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aggregator.http.TestServer.Reply;
import dev.aggregator.sqlite.SqliteDedupStore;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The success paths of the HTTP API reference against a real server on SQLite. */
class RestApiTest {
  @TempDir Path dir;

  private TestServer sqlite() {
    return new TestServer(SqliteDedupStore.open(dir.resolve("agg.db")));
  }

  private static String ev(String topic, String id) {
    return "{\"topic\":\"" + topic + "\",\"event_id\":\"" + id + "\"}";
  }

  @ParameterizedTest
  @ValueSource(strings = {"single", "array", "envelope"})
  void publish_eachBodyShape_sameResult(String shape) {
    String a = ev("t", "a");
    String body =
        switch (shape) {
          case "single" -> a;
          case "array" -> "[" + a + "]";
          default -> "{\"events\": [" + a + "]}";
        };
    try (TestServer s = sqlite()) {
      Reply first = s.post("/publish", body);
      assertEquals(200, first.status(), first.text());
      assertEquals(
          "{\"received\":1,\"accepted\":1,\"duplicates\":0,"
              + "\"results\":[{\"event_id\":\"a\",\"status\":\"accepted\"}]}",
          first.text());
      Reply again = s.post("/publish", body);
      assertEquals(
          "{\"received\":1,\"accepted\":0,\"duplicates\":1,"
              + "\"results\":[{\"event_id\":\"a\",\"status\":\"duplicate\"}]}",
          again.text());
    }
  }

  @Test
  void publish_batchWithInnerDuplicate_outcomePerEvent() {
    try (TestServer s = sqlite()) {
      Reply r =
          s.post(
              "/publish",
              "{\"events\":[" + ev("t", "1") + "," + ev("t", "2") + "," + ev("t", "1") + "]}");
      assertEquals(
          "{\"received\":3,\"accepted\":2,\"duplicates\":1,\"results\":["
              + "{\"event_id\":\"1\",\"status\":\"accepted\"},"
              + "{\"event_id\":\"2\",\"status\":\"accepted\"},"
              + "{\"event_id\":\"1\",\"status\":\"duplicate\"}]}",
          r.text());
    }
  }

  @Test
  void publish_timestampForms_answeredWithTheirOffsetAndFractionAsSent() {
    String[][] cases = {
      {"2025-10-24T15:00:00+07:00", "2025-10-24T15:00:00+07:00"},
      {"2025-10-23T10:00:00", "2025-10-23T10:00:00Z"},
      {"2025-10-23T10:00:00Z", "2025-10-23T10:00:00Z"},
      {"2025-10-23T10:00:00.1234567Z", "2025-10-23T10:00:00.1234567Z"},
      {"2025-10-23 10:00:00.123456", "2025-10-23T10:00:00.123456Z"},
      {"2025-10-23T10:00:00.5-00:30", "2025-10-23T10:00:00.5-00:30"},
      {"2025-10-23T12:00:00+0200", "2025-10-23T12:00:00+02:00"},
    };
    try (TestServer s = sqlite()) {
      for (int i = 0; i < cases.length; i++) {
        Reply r =
            s.post(
                "/publish",
                "{\"topic\":\"ts\",\"event_id\":\"e"
                    + i
                    + "\",\"timestamp\":\""
                    + cases[i][0]
                    + "\"}");
        assertEquals(200, r.status(), cases[i][0] + ": " + r.text());
      }
      JsonNode events = s.get("/events?topic=ts").json().get("events");
      for (int i = 0; i < cases.length; i++) {
        assertEquals(cases[i][1], events.get(i).get("timestamp").asText(), cases[i][0]);
      }
    }
  }

  @Test
  void events_timeRangeAndTimestampOrder_byInstantWhateverTheOffset_pagedCompletely() {
    try (TestServer s = sqlite()) {
      // Ingest order differs from time order; offsets differ from the range's.
      String[][] published = {
        {"late", "2025-10-24T15:00:30+07:00"}, // 08:00:30Z
        {"early", "2025-10-24T08:00:00Z"},
        {"before", "2025-10-24T07:59:59.999999999Z"},
        {"middle", "2025-10-24T04:00:10-04:00"}, // 08:00:10Z
        {"edge", "2025-10-24T08:01:00Z"}, // = to: excluded
        {"naive", "2025-10-24 08:00:20.5"},
      };
      StringBuilder body = new StringBuilder("[");
      for (String[] p : published) {
        body.append(body.length() > 1 ? "," : "")
            .append("{\"topic\":\"r\",\"event_id\":\"")
            .append(p[0])
            .append("\",\"timestamp\":\"")
            .append(p[1])
            .append("\"}");
      }
      assertEquals(200, s.post("/publish", body.append("]").toString()).status());
      String range = "/events?topic=r&from=2025-10-24T15:00:00%2B07:00&to=2025-10-24T08:01:00Z";
      assertEquals(List.of("late", "early", "middle", "naive"), ids(s, range + "&limit=100"));
      assertEquals(
          List.of("early", "middle", "naive", "late"),
          ids(s, range + "&order_by=timestamp&limit=1"));
      assertEquals(
          List.of("late", "naive", "middle", "early"),
          ids(s, range + "&order_by=timestamp&order=desc&limit=3"));
      // An unescaped + arrives as a space and is read as the offset it was.
      assertEquals(
          List.of("late", "edge"),
          ids(s, "/events?topic=r&from=2025-10-24T15:00:30+07:00&order_by=timestamp"));
      JsonNode first = s.get(range + "&order_by=timestamp&limit=1").json().get("events").get(0);
      assertEquals("2025-10-24T08:00:00Z", first.get("timestamp").asText());
    }
  }

  /** The event ids of every page of {@code path}, following the cursors. */
  private static List<String> ids(TestServer s, String path) {
    List<String> ids = new ArrayList<>();
    String next = null;
    do {
      Reply r = s.get(path + (next == null ? "" : "&after=" + next));
      assertEquals(200, r.status(), r.text());
      r.json().get("events").forEach(e -> ids.add(e.get("event_id").asText()));
      next = r.json().get("next").isNull() ? null : r.json().get("next").asText();
    } while (next != null);
    return ids;
  }

  @Test
  void publish_sameKeyOtherTimestampAndPayload_duplicateAndFirstVersionKept() {
    try (TestServer s = sqlite()) {
      s.post(
          "/publish",
          "{\"topic\":\"t\",\"event_id\":\"k\",\"timestamp\":\"2025-01-01T00:00:00Z\","
              + "\"source\":\"one\",\"payload\":{\"v\":1}}");
      Reply retry =
          s.post(
              "/publish",
              "{\"topic\":\"t\",\"event_id\":\"k\",\"timestamp\":\"2025-06-01T00:00:00Z\","
                  + "\"source\":\"two\",\"payload\":{\"v\":2},\"extra\":\"ignored\"}");
      assertEquals("duplicate", retry.json().get("results").get(0).get("status").asText());
      JsonNode stored = s.get("/events?topic=t").json().get("events").get(0);
      assertEquals("2025-01-01T00:00:00Z", stored.get("timestamp").asText());
      assertEquals("one", stored.get("source").asText());
      assertEquals(1, stored.get("payload").get("v").asInt());
      assertNotNull(stored.get("received_at"));
    }
  }

  @Test
  void publish_ackQueued_202ThenCommitted() {
    try (TestServer s = sqlite()) {
      Reply r = s.post("/publish?ack=queued", "[" + ev("q", "1") + "," + ev("q", "2") + "]");
      assertEquals(202, r.status());
      assertEquals("{\"received\":2,\"queued\":2}", r.text());
      s.aggregator.close(); // commits everything queued
      assertEquals(2, s.aggregator.stats().uniqueProcessed());
    }
  }

  @Test
  void events_pagedInBothOrders_everyEventExactlyOnce() {
    try (TestServer s = sqlite()) {
      StringBuilder batch = new StringBuilder("[");
      for (int i = 0; i < 250; i++) {
        batch.append(i == 0 ? "" : ",").append(ev("page", "e" + i));
      }
      assertEquals(200, s.post("/publish", batch.append("]").toString()).status());
      s.post("/publish", ev("other", "x"));
      for (String order : List.of("asc", "desc")) {
        List<String> ids = new ArrayList<>();
        String next = null;
        int pages = 0;
        do {
          Reply r =
              s.get(
                  "/events?topic=page&limit=100&order="
                      + order
                      + (next == null ? "" : "&after=" + next));
          assertEquals(200, r.status(), r.text());
          assertEquals("page", r.json().get("topic").asText());
          assertEquals(r.json().get("events").size(), r.json().get("count").asInt());
          r.json().get("events").forEach(e -> ids.add(e.get("event_id").asText()));
          next = r.json().get("next").isNull() ? null : r.json().get("next").asText();
          pages++;
        } while (next != null && pages < 10);
        assertEquals(250, ids.size(), order);
        assertEquals(250, new HashSet<>(ids).size(), order);
        assertEquals(order.equals("asc") ? "e0" : "e249", ids.get(0));
        assertEquals(order.equals("asc") ? "e249" : "e0", ids.get(249));
      }
      Reply defaults = s.get("/events?topic=page");
      assertEquals(100, defaults.json().get("count").asInt());
      Reply none = s.get("/events?topic=nothing");
      assertEquals(0, none.json().get("count").asInt());
      assertNull(none.json().get("next").textValue());
    }
  }

  @Test
  void stats_everyKeyOfTheContract_topicsInFirstSeenOrder() {
    try (TestServer s = sqlite()) {
      s.post(
          "/publish", "[" + ev("zeta", "1") + "," + ev("alpha", "1") + "," + ev("zeta", "2") + "]");
      s.post("/publish", "[" + ev("mid", "1") + "," + ev("alpha", "1") + "]");
      JsonNode st = s.get("/stats").json();
      List<String> keys = new ArrayList<>();
      st.fieldNames().forEachRemaining(keys::add);
      assertEquals(
          List.of(
              "received",
              "unique_processed",
              "duplicate_dropped",
              "stored",
              "expired",
              "payload_conflicts",
              "topics",
              "topic_counts",
              "topics_total",
              "topics_truncated",
              "queue_size",
              "queue_capacity",
              "uptime_seconds",
              "uptime_human",
              "started_at"),
          keys);
      assertEquals(5, st.get("received").asLong());
      assertEquals(4, st.get("unique_processed").asLong());
      assertEquals(1, st.get("duplicate_dropped").asLong());
      assertEquals("[\"zeta\",\"alpha\",\"mid\"]", st.get("topics").toString());
      assertEquals("{\"zeta\":2,\"alpha\":1,\"mid\":1}", st.get("topic_counts").toString());
      assertEquals(3, st.get("topics_total").asInt());
      assertFalse(st.get("topics_truncated").asBoolean());
      assertEquals(0, st.get("queue_size").asInt());
      assertEquals(100_000, st.get("queue_capacity").asInt());
      assertTrue(st.get("uptime_seconds").isNumber());
      assertTrue(st.get("uptime_human").asText().matches("\\d+h \\d+m \\d+s"), st.toString());
      assertTrue(st.get("started_at").asText().endsWith("Z"));
    }
  }

  @Test
  void stats_moreTopicsThanTheBound_listsTheFirstSeenAndSaysTruncated() {
    int topics = ReadRoutes.STATS_TOPICS + 5;
    try (TestServer s = sqlite()) {
      publishTopics(s, topics);
      JsonNode st = s.get("/stats").json();
      assertEquals(ReadRoutes.STATS_TOPICS, st.get("topics").size());
      assertEquals(ReadRoutes.STATS_TOPICS, st.get("topic_counts").size());
      assertEquals("t0", st.get("topics").get(0).asText());
      String last = "t" + (ReadRoutes.STATS_TOPICS - 1);
      assertEquals(last, st.get("topics").get(ReadRoutes.STATS_TOPICS - 1).asText());
      assertEquals(1, st.get("topic_counts").get(last).asLong());
      assertNull(st.get("topic_counts").get("t" + ReadRoutes.STATS_TOPICS));
      assertEquals(topics, st.get("topics_total").asInt());
      assertTrue(st.get("topics_truncated").asBoolean());
      // The counters still count every topic's events.
      assertEquals(topics + 1, st.get("stored").asLong());
    }
  }

  @Test
  void topics_pagedWithCursors_everyTopicOnceInFirstSeenOrderWithCounts() {
    int topics = 2 * ReadRoutes.STATS_TOPICS + 3;
    try (TestServer s = sqlite()) {
      publishTopics(s, topics);
      List<String> seen = new ArrayList<>();
      long events = 0;
      String cursor = null;
      int pages = 0;
      do {
        Reply r = s.get("/topics?limit=1000" + (cursor == null ? "" : "&after=" + cursor));
        assertEquals(200, r.status(), r.text());
        JsonNode page = r.json();
        List<String> keys = new ArrayList<>();
        page.fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("count", "topics_total", "topics", "next"), keys);
        assertEquals(page.get("topics").size(), page.get("count").asInt());
        assertEquals(topics, page.get("topics_total").asInt());
        for (JsonNode t : page.get("topics")) {
          seen.add(t.get("topic").asText());
          events += t.get("count").asLong();
        }
        cursor = page.get("next").textValue();
        pages++;
      } while (cursor != null);
      assertEquals(3, pages);
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < topics; i++) {
        expected.add("t" + i);
      }
      assertEquals(expected, seen);
      assertEquals(topics + 1, events, "t0 has two events, every other topic one");
    }
  }

  @Test
  void topics_defaultsAndLastPage() {
    try (TestServer s = sqlite()) {
      assertEquals(
          "{\"count\":0,\"topics_total\":0,\"topics\":[],\"next\":null}", s.get("/topics").text());
      s.post("/publish", "[" + ev("b", "1") + "," + ev("a", "1") + "," + ev("b", "2") + "]");
      assertEquals(
          "{\"count\":1,\"topics_total\":2,\"topics\":[{\"topic\":\"b\",\"count\":2}],"
              + "\"next\":\"1\"}",
          s.get("/topics?limit=1").text());
      assertEquals(
          "{\"count\":1,\"topics_total\":2,\"topics\":[{\"topic\":\"a\",\"count\":1}],"
              + "\"next\":null}",
          s.get("/topics?limit=1&after=1").text());
      assertEquals(
          "{\"count\":0,\"topics_total\":2,\"topics\":[],\"next\":null}",
          s.get("/topics?after=5").text());
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"limit=0", "limit=1001", "limit=x", "after=-1", "after=x", "after=01", "after="})
  void topics_badParameter_422NamingIt(String query) {
    try (TestServer s = sqlite()) {
      Reply r = s.get("/topics?" + query);
      assertEquals(422, r.status(), r.text());
      assertEquals("validation_failed", r.json().get("error").asText());
      String name = query.substring(0, query.indexOf('='));
      assertEquals(name, r.json().get("details").get(0).get("field").asText(), r.text());
    }
  }

  /** Topics t0..t(n-1), one event each, and a second event of t0, in one request. */
  private static void publishTopics(TestServer s, int n) {
    StringBuilder body = new StringBuilder("[");
    for (int i = 0; i < n; i++) {
      body.append(ev("t" + i, "1")).append(',');
    }
    body.append(ev("t0", "2")).append(']');
    Reply r = s.post("/publish", body.toString());
    assertEquals(200, r.status(), r.text());
  }

  @Test
  void health_runningAggregator_healthy() {
    try (TestServer s = sqlite()) {
      Reply r = s.get("/health");
      assertEquals(200, r.status());
      assertEquals("healthy", r.json().get("status").asText());
      assertTrue(r.json().get("consumer_running").asBoolean());
      assertEquals(0, r.json().get("queue_size").asInt());
      assertNotNull(r.json().get("timestamp"));
    }
  }

  @Test
  void root_serviceInfo_namesVersionAndEndpoints() {
    try (TestServer s = sqlite()) {
      JsonNode info = s.get("/").json();
      assertEquals("aggregator-server", info.get("service").asText());
      assertTrue(info.get("version").asText().matches("\\d+\\.\\d+\\.\\d+.*"), info.toString());
      assertTrue(info.get("endpoints").toString().contains("POST /publish"), info.toString());
    }
  }

  @Test
  void anyRequest_requestId_echoedOrGenerated() {
    try (TestServer s = sqlite()) {
      assertEquals("abc-123", s.get("/stats", "X-Request-Id", "abc-123").header("X-Request-Id"));
      String generated = s.get("/stats").header("X-Request-Id");
      assertTrue(generated.matches("[0-9a-f-]{36}"), generated);
      String unsafe = s.get("/stats", "X-Request-Id", "a b\"c").header("X-Request-Id");
      assertTrue(unsafe.matches("[0-9a-f-]{36}"), "an unsafe id is replaced: " + unsafe);
    }
  }

  /** The text format 0.0.4: HELP/TYPE lines, then samples of declared families only. */
  private static final Pattern SAMPLE =
      Pattern.compile(
          "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"(\\\\.|[^\"\\\\])*\""
              + "(,[a-zA-Z_][a-zA-Z0-9_]*=\"(\\\\.|[^\"\\\\])*\")*)?\\})? "
              + "(-?[0-9.eE+-]+|NaN|\\+Inf|-Inf)");

  private static final Pattern TYPE =
      Pattern.compile(
          "# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)");

  @Test
  void prometheus_madeUpMethods_countedAsOneLabel() {
    try (TestServer s = sqlite()) {
      for (int i = 0; i < 50; i++) {
        HttpRequest r =
            s.request("/stats").method("BREW" + i, HttpRequest.BodyPublishers.noBody()).build();
        assertEquals(405, s.send(r).status());
      }
      String text = s.get("/prometheus").text();
      assertTrue(
          text.contains(
              "aggregator_http_requests_total{route=\"/stats\",method=\"other\",status=\"405\"}"
                  + " 50\n"),
          text);
      assertFalse(text.contains("BREW"), "a client's method names became labels");
    }
  }

  @Test
  void prometheus_afterTraffic_parsesAsTextFormatWithCounters() {
    try (TestServer s = sqlite()) {
      s.post("/publish", "[" + ev("a\\\"q", "1") + "," + ev("b", "1") + "," + ev("b", "1") + "]");
      s.get("/nope");
      Reply r = s.get("/prometheus");
      assertEquals(200, r.status());
      assertTrue(
          r.header("Content-Type").startsWith("text/plain; version=0.0.4"),
          r.header("Content-Type"));
      Set<String> families = new HashSet<>();
      int samples = 0;
      for (Iterator<String> it = r.text().lines().iterator(); it.hasNext(); ) {
        String line = it.next();
        if (line.startsWith("# HELP ")) {
          continue;
        }
        Matcher type = TYPE.matcher(line);
        if (type.matches()) {
          assertTrue(families.add(type.group(1)), "TYPE declared twice: " + line);
          continue;
        }
        Matcher m = SAMPLE.matcher(line);
        assertTrue(m.matches(), "not a sample line: " + line);
        String name = m.group(1);
        String family = name.replaceAll("_(bucket|sum|count)$", "");
        assertTrue(
            families.contains(name) || families.contains(family),
            "sample before its TYPE: " + line);
        samples++;
      }
      assertTrue(samples > 20, "samples: " + samples);
      String text = r.text();
      assertTrue(text.contains("\naggregator_events_received_total 3\n"), text);
      assertTrue(text.contains("\naggregator_events_duplicate_total 1\n"), text);
      assertTrue(text.contains("aggregator_topic_events{topic=\"a\\\"q\"} 1\n"), text);
      assertTrue(
          text.contains(
              "aggregator_http_requests_total{route=\"/publish\",method=\"POST\",status=\"200\"} 1\n"),
          text);
      assertTrue(
          text.contains(
              "aggregator_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1\n"),
          text);
      assertTrue(text.contains("aggregator_publish_durable_ack_seconds_count 1\n"), text);
    }
  }

  @Test
  void publish_reservedMetricsTopic_422() {
    try (TestServer s = sqlite()) {
      Reply r = s.post("/publish", ev(JsonBodies.METRICS_TOPIC, "x"));
      assertEquals(422, r.status());
      assertEquals("topic", r.json().get("details").get(0).get("field").asText());
    }
  }

  @Test
  void apiKeys_writesNeedKeyReadsAndHealthOpen() {
    try (TestServer s = TestServer.inMemory(b -> b.apiKeys(List.of("k1", "k2")))) {
      assertEquals(200, s.post("/publish", ev("t", "1"), "Authorization", "Bearer k2").status());
      assertEquals(200, s.post("/publish", ev("t", "2"), "X-API-Key", "k1").status());
      assertEquals(200, s.get("/stats").status());
      assertEquals(200, s.get("/events?topic=t").status());
      assertEquals(200, s.get("/health").status());
      assertEquals(2, s.aggregator.stats().uniqueProcessed());
    }
  }

  @Test
  void apiKeys_protectReads_readsNeedKeyHealthStaysOpen() {
    try (TestServer s = TestServer.inMemory(b -> b.apiKeys(List.of("k1")).protectReads(true))) {
      assertEquals(401, s.get("/stats").status());
      assertEquals(401, s.get("/events?topic=t").status());
      assertEquals(200, s.get("/stats", "X-API-Key", "k1").status());
      assertEquals(200, s.get("/health").status());
    }
  }
}
