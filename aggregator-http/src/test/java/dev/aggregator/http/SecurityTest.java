package dev.aggregator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import dev.aggregator.EventAggregator;
import dev.aggregator.sqlite.SqliteDedupStore;
import dev.aggregator.store.InMemoryDedupStore;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The security properties of the server: loopback by default, API keys never in the log and checked
 * without early exit, request values escaped in the log, SQL-looking keys stored verbatim (prepared
 * statements only), and the slow-client defaults in place.
 */
class SecurityTest {
  private static final String KEY = "s3cret-Key-7f2a9c";
  private static final String WRONG = "wrong-Key-0b1d44";

  @TempDir Path dir;

  private final ListAppender<ILoggingEvent> captured = new ListAppender<>();
  private Logger root;
  private Level rootLevel;

  @BeforeEach
  void captureLog() {
    root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    rootLevel = root.getLevel();
    root.setLevel(Level.DEBUG); // every line the server could write, request log included
    captured.start();
    root.addAppender(captured);
  }

  @AfterEach
  void releaseLog() {
    root.detachAppender(captured);
    root.setLevel(rootLevel);
  }

  private List<String> loggedText() {
    return captured.list.stream()
        .map(
            e ->
                e.getFormattedMessage()
                    + (e.getThrowableProxy() == null
                        ? ""
                        : " " + e.getThrowableProxy().getMessage()))
        .toList();
  }

  @Test
  void builder_defaultBind_loopbackOnly() {
    try (EventAggregator a = EventAggregator.builder().store(new InMemoryDedupStore()).build();
        AggregatorServer s = TestServer.builder(a).start()) {
      assertTrue(s.address().getAddress().isLoopbackAddress(), s.address().toString());
    }
  }

  @Test
  void apiKeys_rightWrongAndMissing_keyNeverLogged() {
    try (TestServer t =
        new TestServer(new InMemoryDedupStore(), b -> b, b -> b.apiKeys(List.of(KEY)))) {
      String event = "{\"topic\":\"t\",\"event_id\":\"k1\"}";
      assertEquals(200, t.post("/publish", event, "Authorization", "Bearer " + KEY).status());
      assertEquals(200, t.post("/publish", event, "X-API-Key", KEY).status());
      assertEquals(401, t.post("/publish", event, "Authorization", "Bearer " + WRONG).status());
      assertEquals(401, t.post("/publish", event, "X-API-Key", KEY.substring(0, 8)).status());
      assertEquals(401, t.post("/publish", event, "X-API-Key", KEY + "x").status());
      assertEquals(401, t.post("/publish", event).status());
      assertEquals(401, t.post("/publish", "{broken", "X-API-Key", WRONG).status());
      assertEquals(400, t.post("/publish", "{broken " + KEY, "X-API-Key", KEY).status());
    }
    List<String> log = loggedText();
    assertTrue(log.stream().anyMatch(l -> l.contains("REQUEST: POST /publish")), "log captured");
    for (String line : log) {
      assertFalse(line.contains(KEY) || line.contains(KEY.substring(0, 8)), "key logged: " + line);
      assertFalse(line.contains(WRONG), "presented key logged: " + line);
    }
  }

  @Test
  void controlCharactersInRequestValues_escapedInTheLog() throws Exception {
    try (TestServer t = TestServer.inMemory()) {
      String forged = "\r\n2026-01-01T00:00:00.000Z INFO  forged line";
      HostileInputTest.exchange(
          t.server.port(),
          ("PO\u001b[31mST /publish HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX-Request-Id: a\u001bb"
                  + "\r\nContent-Length: 2\r\n\r\n{}")
              .getBytes(StandardCharsets.UTF_8));
      t.post("/publish", "tru\u001b[2J" + forged);
      t.post(
          "/publish",
          "{\"topic\":\"t" + forged.replace("\r\n", "\\r\\n") + "\",\"event_id\":\"x\"}");
      t.get("/nope%0d%0a" + URLEncoder.encode(forged, StandardCharsets.UTF_8));
    }
    List<String> log = loggedText();
    // The method with ESC is not HTTP: refused (400) before a route sees it, and its line names
    // neither method nor path.
    assertTrue(
        log.stream().anyMatch(l -> l.contains("REQUEST: - - - STATUS: 400")),
        "the refused request's line: " + log);
    for (String line : log) {
      for (char c : line.toCharArray()) {
        assertFalse(
            c < 0x20 || c == 0x7f,
            "control character " + (int) c + " in a log line: " + line.replace('\u001b', '?'));
      }
    }
  }

  @Test
  void sqlLookingKeys_storedVerbatim_dedupedAndNothingElseTouched() {
    List<String> ids =
        List.of(
            "1' OR '1'='1",
            "x'); DROP TABLE events; --",
            "\"; DELETE FROM counters; --",
            "%' UNION SELECT name, sql FROM sqlite_master --",
            "?1 ?2 :name @p $x");
    String topic = "t'; DROP TABLE topics; --";
    try (TestServer t = new TestServer(SqliteDedupStore.open(dir.resolve("sql.db")))) {
      StringBuilder body = new StringBuilder("[");
      for (String id : ids) {
        body.append(body.length() > 1 ? "," : "")
            .append(TestServer.MAPPER.createObjectNode().put("topic", topic).put("event_id", id));
      }
      String batch = body.append("]").toString();
      TestServer.Reply first = t.post("/publish", batch);
      assertEquals(200, first.status(), first.text());
      assertEquals(ids.size(), first.json().get("accepted").asInt());
      TestServer.Reply again = t.post("/publish", batch);
      assertEquals(ids.size(), again.json().get("duplicates").asInt(), again.text());

      JsonNode events =
          t.get("/events?topic=" + URLEncoder.encode(topic, StandardCharsets.UTF_8))
              .json()
              .get("events");
      assertEquals(ids.size(), events.size());
      for (int i = 0; i < ids.size(); i++) {
        assertEquals(ids.get(i), events.get(i).get("event_id").asText());
        assertEquals(topic, events.get(i).get("topic").asText());
      }
      // A topic that would match everything if it were pasted into SQL matches nothing.
      JsonNode none =
          t.get("/events?topic=" + URLEncoder.encode("x' OR '1'='1", StandardCharsets.UTF_8))
              .json();
      assertEquals(0, none.get("count").asInt(), none.toString());
      JsonNode stats = t.get("/stats").json();
      assertEquals(ids.size(), stats.get("unique_processed").asLong());
      assertEquals(2L * ids.size(), stats.get("received").asLong());
      assertEquals(ids.size(), stats.get("topic_counts").get(topic).asLong());
    }
  }

  @Test
  void logSafe_escapesControlsAndCutsLongValues() {
    assertEquals("GET", LogSafe.escape("GET"));
    assertEquals(
        "a\\r\\nb\\u001b\\u0000\\u007f\\u2028", LogSafe.escape("a\r\nb\u001b\u0000\u007f\u2028"));
    String longValue = "x".repeat(LogSafe.MAX_CHARS + 10);
    assertTrue(LogSafe.escape(longValue).endsWith("...(" + longValue.length() + " chars)"));
  }
}
