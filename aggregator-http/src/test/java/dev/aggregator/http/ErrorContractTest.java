package dev.aggregator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.http.TestServer.Reply;
import dev.aggregator.testing.Await;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Every row of the HTTP API reference's error table: its status, its error code, the one shape. */
class ErrorContractTest {
  private static final String EVENT = "{\"topic\":\"t\",\"event_id\":\"e1\"}";

  private static void assertError(Reply r, int status, String code) {
    assertEquals(status, r.status(), r.text());
    assertNotNull(r.json(), "error bodies are JSON: " + r.text());
    assertEquals(code, r.json().path("error").asText(), r.text());
    assertTrue(r.json().path("message").isTextual(), r.text());
    assertTrue(r.json().path("details").isArray(), r.text());
  }

  @Test
  void publish_notJson_400InvalidJson() {
    try (TestServer s = TestServer.inMemory()) {
      assertError(s.post("/publish", "{\"topic\": \"t\", "), 400, "invalid_json");
      assertError(s.post("/publish", "hello"), 400, "invalid_json");
      assertError(s.post("/publish", "{} {}"), 400, "invalid_json");
    }
  }

  @Test
  void publish_emptyBody_400InvalidJson() {
    try (TestServer s = TestServer.inMemory()) {
      assertError(s.post("/publish", ""), 400, "invalid_json");
      assertError(s.post("/publish", "  \n"), 400, "invalid_json");
    }
  }

  @Test
  void publish_oneInvalidEvent_422WithIndexFieldRuleAndNothingStored() {
    try (TestServer s = TestServer.inMemory()) {
      Reply r =
          s.post(
              "/publish",
              "[{\"topic\":\"t\",\"event_id\":\"ok\"},{\"topic\":\"t\",\"event_id\":7},"
                  + "{\"topic\":\"  \",\"event_id\":\"x\",\"timestamp\":\"later\"}]");
      assertError(r, 422, "validation_failed");
      assertEquals(
          TestServer.MAPPER
              .createArrayNode()
              .add(obj(1, "event_id", "must be a string"))
              .add(
                  obj(
                      2,
                      "timestamp",
                      "must be an ISO-8601 date-time such as 2025-10-23T10:00:00Z (offset"
                          + " optional, naive is UTC)")),
          r.json().get("details"));
      // The type check passed for the blank topic; the aggregator's rules report it next.
      Reply blank =
          s.post(
              "/publish",
              "[{\"topic\":\"t\",\"event_id\":\"ok\"},{\"topic\":\" \",\"event_id\":\"x\"}]");
      assertError(blank, 422, "validation_failed");
      assertEquals(obj(1, "topic", "must not be blank"), blank.json().get("details").get(0));
      assertEquals(0, s.aggregator.stats().received(), "nothing of a rejected request is stored");
      assertEquals(0, s.get("/events?topic=t").json().get("count").asInt());
    }
  }

  private static com.fasterxml.jackson.databind.node.ObjectNode obj(int i, String f, String rule) {
    return TestServer.MAPPER.createObjectNode().put("index", i).put("field", f).put("rule", rule);
  }

  @Test
  void publish_emptyBatch_422() {
    try (TestServer s = TestServer.inMemory()) {
      assertError(s.post("/publish", "[]"), 422, "validation_failed");
      Reply r = s.post("/publish", "{\"events\": []}");
      assertError(r, 422, "validation_failed");
      assertEquals("events", r.json().get("details").get(0).get("field").asText());
    }
  }

  @Test
  void publish_declaredBodyOverLimit_413BeforeBodyIsSent() throws Exception {
    try (TestServer s = TestServer.inMemory();
        Socket socket = new Socket("127.0.0.1", s.server.port())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      long declared = 11L << 20; // over the default 10 MiB; only the headers are ever sent
      out.write(
          ("POST /publish HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                  + "Content-Length: "
                  + declared
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String response = readResponse(socket.getInputStream());
      assertTrue(response.startsWith("HTTP/1.1 413 "), response);
      assertTrue(response.contains("\"error\":\"payload_too_large\""), response);
    }
  }

  /** Reads one response with a Content-Length body from a raw socket. */
  private static String readResponse(InputStream in) throws Exception {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        break;
      }
      head.append((char) c);
    }
    int length = 0;
    for (String line : head.toString().split("\r\n")) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).strip());
      }
    }
    return head + new String(in.readNBytes(length), StandardCharsets.UTF_8);
  }

  @Test
  void publish_chunkedBodyOverLimit_413() {
    try (TestServer s = TestServer.inMemory(b -> b.maxBodyBytes(1024))) {
      byte[] big = ("[" + (EVENT + ",").repeat(100) + EVENT + "]").getBytes(StandardCharsets.UTF_8);
      HttpRequest chunked =
          s.request("/publish")
              .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big)))
              .build();
      assertError(s.send(chunked), 413, "payload_too_large");
      assertError(
          s.post("/publish", new String(big, StandardCharsets.UTF_8)), 413, "payload_too_large");
      assertEquals(0, s.aggregator.stats().received());
    }
  }

  @Test
  void publish_moreEventsThanLimit_413() {
    try (TestServer s = TestServer.inMemory(b -> b.maxEventsPerRequest(3))) {
      String four = "[" + String.join(",", List.of(ev("a"), ev("b"), ev("c"), ev("d"))) + "]";
      assertError(s.post("/publish", four), 413, "payload_too_large");
      assertEquals(
          200, s.post("/publish", "[" + ev("a") + "," + ev("b") + "," + ev("c") + "]").status());
    }
  }

  private static String ev(String id) {
    return "{\"topic\":\"t\",\"event_id\":\"" + id + "\"}";
  }

  @Test
  void publish_payloadNestedTooDeep_413() {
    try (TestServer s = TestServer.inMemory(b -> b.maxNestingDepth(20))) {
      String deep = "{\"a\":".repeat(30) + "1" + "}".repeat(30);
      assertError(
          s.post("/publish", "{\"topic\":\"t\",\"event_id\":\"e\",\"payload\":" + deep + "}"),
          413,
          "payload_too_large");
      String ok = "{\"a\":".repeat(10) + "1" + "}".repeat(10);
      assertEquals(
          200,
          s.post("/publish", "{\"topic\":\"t\",\"event_id\":\"e\",\"payload\":" + ok + "}")
              .status());
    }
  }

  @Test
  void publish_stringLongerThanLimit_413() {
    try (TestServer s = TestServer.inMemory(b -> b.maxStringLength(1000))) {
      String longText = "x".repeat(100_000);
      assertError(
          s.post(
              "/publish",
              "{\"topic\":\"t\",\"event_id\":\"e\",\"payload\":{\"note\":\"" + longText + "\"}}"),
          413,
          "payload_too_large");
    }
  }

  @Test
  void publish_queueFull_503WithRetryAfter() throws Exception {
    TestServer.GatedStore store = new TestServer.GatedStore();
    try (TestServer s =
        new TestServer(store, a -> a.queueCapacity(1), b -> b.maxEventsPerRequest(1))) {
      assertEquals(202, s.post("/publish?ack=queued", ev("first")).status());
      assertTrue(store.appending.await(10, TimeUnit.SECONDS), "writer never started the batch");
      Reply full = s.post("/publish", ev("second"));
      assertError(full, 503, "queue_full");
      assertEquals("1", full.header("Retry-After"));
      store.release();
    }
  }

  @Test
  void publish_notCommittedWithinTheAckTimeout_503Unavailable_committedLater() throws Exception {
    TestServer.GatedStore store = new TestServer.GatedStore();
    try (TestServer s = new TestServer(store, a -> a, b -> b.ackTimeout(Duration.ofMillis(300)))) {
      Reply late = s.post("/publish", ev("late"));
      assertError(late, 503, "unavailable");
      assertTrue(late.json().get("message").asText().contains("retry"), late.text());
      assertEquals("1", late.header("Retry-After"));
      store.release();
      // It was queued and commits: the publisher's retry is a harmless duplicate.
      Reply retry = s.post("/publish", ev("late"));
      assertEquals(200, retry.status(), retry.text());
      assertEquals(1, retry.json().get("duplicates").asInt(), retry.text());
    }
  }

  @Test
  void publish_whileShuttingDown_503Unavailable() throws Exception {
    TestServer.GatedStore store = new TestServer.GatedStore();
    TestServer s = new TestServer(store, a -> a, b -> b.shutdownGrace(Duration.ofSeconds(20)));
    try {
      CompletableFuture<Reply> inFlight =
          CompletableFuture.supplyAsync(() -> s.post("/publish", ev("a")));
      assertTrue(store.appending.await(10, TimeUnit.SECONDS), "publish never reached the store");
      CompletableFuture<Void> closing = CompletableFuture.runAsync(s.server::close);
      Reply health =
          Await.value(
              "health to turn unhealthy while closing",
              Duration.ofSeconds(10),
              () -> s.get("/health"),
              h -> h.status() != 200);
      assertEquals(503, health.status(), health.text());
      assertEquals("unhealthy", health.json().get("status").asText());
      assertError(s.post("/publish", ev("b")), 503, "unavailable");
      store.release();
      assertEquals(
          200, inFlight.get(10, TimeUnit.SECONDS).status(), "the request in flight finishes");
      closing.get(10, TimeUnit.SECONDS);
    } finally {
      store.release();
      s.close();
    }
  }

  @Test
  void publish_aggregatorClosed_503Unavailable() {
    try (TestServer s = TestServer.inMemory()) {
      s.aggregator.close();
      assertError(s.post("/publish", ev("a")), 503, "unavailable");
    }
  }

  @Test
  void publish_missingOrWrongKey_401() {
    try (TestServer s = TestServer.inMemory(b -> b.apiKeys(List.of("s3cret")))) {
      Reply none = s.post("/publish", ev("a"));
      assertError(none, 401, "unauthorized");
      assertEquals("Bearer", none.header("WWW-Authenticate"));
      assertError(
          s.post("/publish", ev("a"), "Authorization", "Bearer wrong"), 401, "unauthorized");
      assertError(s.post("/publish", ev("a"), "X-API-Key", "s3cre"), 401, "unauthorized");
      assertEquals(0, s.aggregator.stats().received());
    }
  }

  @Test
  void anyPath_wrongMethod_405WithAllow() {
    try (TestServer s = TestServer.inMemory()) {
      Reply r = s.get("/publish");
      assertError(r, 405, "method_not_allowed");
      assertEquals("POST", r.header("Allow"));
      Reply put =
          s.send(s.request("/metrics/").PUT(HttpRequest.BodyPublishers.ofString("{}")).build());
      assertError(put, 405, "method_not_allowed");
      assertEquals("GET, POST", put.header("Allow"));
    }
  }

  @Test
  void unknownPath_404() {
    try (TestServer s = TestServer.inMemory()) {
      assertError(s.get("/nope"), 404, "not_found");
      assertError(s.post("/publish/extra", ev("a")), 404, "not_found");
    }
  }

  @Test
  void unexpectedFailure_500WithErrorIdAndNoStackTrace() {
    try (TestServer s = new TestServer(new TestServer.BrokenReadStore())) {
      Reply r = s.get("/events?topic=t");
      assertError(r, 500, "internal");
      String errorId = r.json().path("error_id").asText();
      assertFalse(errorId.isEmpty(), r.text());
      assertTrue(r.json().get("message").asText().contains(errorId), r.text());
      assertFalse(r.text().contains("disk on fire"), "no internals in the response: " + r.text());
      assertFalse(r.text().contains("at dev."), "no stack trace in the response: " + r.text());
    }
  }

  @Test
  void events_withoutTopicOrBadParameters_422() {
    try (TestServer s = TestServer.inMemory()) {
      Reply r = s.get("/events");
      assertError(r, 422, "validation_failed");
      assertEquals("topic", r.json().get("details").get(0).get("field").asText());
      assertError(s.get("/events?topic=t&limit=0"), 422, "validation_failed");
      assertError(s.get("/events?topic=t&limit=1001"), 422, "validation_failed");
      assertError(s.get("/events?topic=t&limit=ten"), 422, "validation_failed");
      assertError(s.get("/events?topic=t&order=sideways"), 422, "validation_failed");
      assertError(s.get("/events?topic=t&after=not-a-cursor"), 422, "validation_failed");
    }
  }

  @Test
  void events_badTimeRangeOrOrdering_422NamingTheParameter() {
    try (TestServer s = TestServer.inMemory()) {
      s.post(
          "/publish",
          "[{\"topic\":\"t\",\"event_id\":\"a\"},{\"topic\":\"t\",\"event_id\":\"b\"}]");
      String[][] cases = {
        {"from=yesterday", "from"},
        {"to=2025-13-01T00:00:00Z", "to"},
        {"from=2025-10-24T10:00:00Z&to=2025-10-24T09:59:59Z", "from"},
        {"order_by=size", "order_by"},
        {"order=up&order_by=timestamp", "order"},
        {
          "order_by=timestamp&after="
              + s.get("/events?topic=t&limit=1").json().get("next").asText(),
          "after"
        },
      };
      for (String[] c : cases) {
        Reply r = s.get("/events?topic=t&" + c[0]);
        assertError(r, 422, "validation_failed");
        assertEquals(c[1], r.json().get("details").get(0).get("field").asText(), c[0]);
        assertTrue(r.json().get("message").asText().contains(c[1]), r.text());
      }
    }
  }
}
