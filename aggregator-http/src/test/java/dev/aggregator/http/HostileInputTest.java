package dev.aggregator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile and malformed requests, one table, each sent as raw bytes over a socket (so invalid
 * UTF-8, absurd headers and broken framing reach the server exactly as written) and each expecting
 * its documented status and error code, never a 5xx. Afterwards the server still answers and
 * nothing of a refused request was stored. The table is RELIABILITY.md's "hostile input" section.
 */
class HostileInputTest {
  private static TestServer server;
  private static final List<String> SERVER_ERRORS = new ArrayList<>();

  @BeforeAll
  static void start() {
    server = TestServer.inMemory();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** One row: a name, the raw request, the status and error code it must get (code null: any). */
  /**
   * One row. {@code badFraming}: the request is not valid HTTP framing, which the JDK server
   * refuses itself, before any handler, with the same status and its own short HTML body (the
   * docs/embedding.md lists this difference); Netty's codec hands it to the API, which answers in
   * its error shape.
   */
  record Case(String name, byte[] request, int status, String error, boolean badFraming) {
    @Override
    public String toString() {
      return name;
    }

    Case withBadFraming() {
      return new Case(name, request, status, error, true);
    }

    /** The error code expected in a JSON body, or null when the body is not the API's. */
    String expectedError() {
      return badFraming && TestServer.onJdk() ? null : error;
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  /** A request with a correct Content-Length for {@code body}. */
  private static byte[] request(String method, String path, byte[] body) {
    return concat(
        bytes(
            method
                + " "
                + path
                + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: "
                + body.length
                + "\r\n\r\n"),
        body);
  }

  private static byte[] publish(byte[] body) {
    return request("POST", "/publish", body);
  }

  private static byte[] publish(String body) {
    return publish(bytes(body));
  }

  private static byte[] withHeaders(String head, byte[] body) {
    return concat(bytes(head), body);
  }

  private static Case c(String name, byte[] request, int status, String error) {
    return new Case(name, request, status, error, false);
  }

  static Stream<Arguments> cases() {
    String ok = "{\"topic\":\"t\",\"event_id\":\"x\"}";
    String big = "9".repeat(5_000);
    List<Case> t = new ArrayList<>();
    // Broken JSON
    t.add(c("truncated object", publish("{\"topic\":\"t\",\"event_id\":"), 400, "invalid_json"));
    t.add(c("truncated array", publish("[" + ok + ","), 400, "invalid_json"));
    t.add(
        c("truncated string", publish("{\"topic\":\"t\",\"event_id\":\"ab"), 400, "invalid_json"));
    t.add(c("trailing garbage", publish(ok + " xyz"), 400, "invalid_json"));
    t.add(c("two documents", publish(ok + ok), 400, "invalid_json"));
    t.add(c("single quotes", publish("{'topic':'t','event_id':'x'}"), 400, "invalid_json"));
    t.add(c("comment", publish("/* hi */" + ok), 400, "invalid_json"));
    t.add(
        c(
            "NaN literal",
            publish("{\"topic\":\"t\",\"event_id\":\"x\",\"payload\":{\"n\":NaN}}"),
            400,
            "invalid_json"));
    t.add(c("empty body", publish(""), 400, "invalid_json"));
    t.add(c("whitespace body", publish(" \r\n\t "), 400, "invalid_json"));
    t.add(
        c(
            "duplicate key topic",
            publish("{\"topic\":\"a\",\"topic\":\"b\",\"event_id\":\"x\"}"),
            400,
            "invalid_json"));
    t.add(
        c(
            "duplicate key in payload",
            publish("{\"topic\":\"t\",\"event_id\":\"dk\",\"payload\":{\"a\":1,\"a\":2}}"),
            400,
            "invalid_json"));
    // Wrong types
    t.add(
        c("topic a number", publish("{\"topic\":5,\"event_id\":\"x\"}"), 422, "validation_failed"));
    t.add(
        c(
            "event_id an object",
            publish("{\"topic\":\"t\",\"event_id\":{}}"),
            422,
            "validation_failed"));
    t.add(
        c(
            "event_id null",
            publish("{\"topic\":\"t\",\"event_id\":null}"),
            422,
            "validation_failed"));
    t.add(
        c(
            "payload a list",
            publish("{\"topic\":\"t\",\"event_id\":\"x\",\"payload\":[1]}"),
            422,
            "validation_failed"));
    t.add(
        c(
            "timestamp a number",
            publish("{\"topic\":\"t\",\"event_id\":\"x\",\"timestamp\":1}"),
            422,
            "validation_failed"));
    t.add(
        c(
            "timestamp year 1000000000 (past Instant.MAX)",
            publish(
                "{\"topic\":\"t\",\"event_id\":\"x\",\"timestamp\":\"+1000000000-01-01T00:00:00Z\"}"),
            422,
            "validation_failed"));
    t.add(c("events not an array", publish("{\"events\":{}}"), 422, "validation_failed"));
    t.add(c("body a string", publish("\"hello\""), 422, "validation_failed"));
    t.add(c("body a number", publish("42"), 422, "validation_failed"));
    t.add(c("body null", publish("null"), 422, "validation_failed"));
    t.add(c("array of numbers", publish("[1,2,3]"), 422, "validation_failed"));
    t.add(c("empty array", publish("[]"), 422, "validation_failed"));
    t.add(
        c("empty topic", publish("{\"topic\":\"\",\"event_id\":\"x\"}"), 422, "validation_failed"));
    t.add(
        c(
            "topic 256 chars",
            publish("{\"topic\":\"" + "t".repeat(256) + "\",\"event_id\":\"x\"}"),
            422,
            "validation_failed"));
    // Huge values
    t.add(
        c(
            "number of 5000 digits",
            publish("{\"topic\":\"t\",\"event_id\":\"x\",\"payload\":{\"n\":" + big + "}}"),
            413,
            "payload_too_large"));
    t.add(
        c(
            "number beyond double range",
            publish("{\"topic\":\"t\",\"event_id\":\"x\",\"payload\":{\"n\":1e999999}}"),
            400,
            "invalid_json"));
    t.add(
        c(
            "negative number beyond double range",
            publish("{\"topic\":\"t\",\"event_id\":\"x\",\"payload\":{\"n\":-1e400}}"),
            400,
            "invalid_json"));
    t.add(
        c(
            "2 MiB string (over the 1 Mi string limit)",
            publish(
                "{\"topic\":\"t\",\"event_id\":\"x\",\"payload\":{\"s\":\""
                    + "a".repeat(2 << 20)
                    + "\"}}"),
            413,
            "payload_too_large"));
    t.add(
        c(
            "10 MiB string (over the body limit)",
            publish(
                "{\"topic\":\"t\",\"event_id\":\"x\",\"payload\":{\"s\":\""
                    + "a".repeat(10 << 20)
                    + "\"}}"),
            413,
            "payload_too_large"));
    t.add(
        c(
            "10,000-deep arrays",
            publish(
                "{\"topic\":\"t\",\"event_id\":\"x\",\"payload\":{\"d\":"
                    + "[".repeat(10_000)
                    + "]".repeat(10_000)
                    + "}}"),
            413,
            "payload_too_large"));
    t.add(
        c(
            "10,000-deep objects",
            publish("{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000)),
            413,
            "payload_too_large"));
    t.add(c("10,000-deep unclosed", publish("[".repeat(10_000)), 413, "payload_too_large"));
    // Bytes and characters
    t.add(
        c(
            "invalid UTF-8 start byte",
            publish(
                concat(
                    bytes("{\"topic\":\""),
                    new byte[] {(byte) 0xff, (byte) 0xfe},
                    bytes("\",\"event_id\":\"x\"}"))),
            400,
            "invalid_json"));
    t.add(
        c(
            "overlong UTF-8 for /",
            publish(
                concat(
                    bytes("{\"topic\":\""),
                    new byte[] {(byte) 0xc0, (byte) 0xaf},
                    bytes("\",\"event_id\":\"x\"}"))),
            400,
            "invalid_json"));
    t.add(
        c(
            "UTF-8 encoded surrogate",
            publish(
                concat(
                    bytes("{\"topic\":\""),
                    new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
                    bytes("\",\"event_id\":\"x\"}"))),
            400,
            "invalid_json"));
    t.add(
        c(
            "truncated UTF-8 sequence at the end",
            publish(concat(bytes(ok), new byte[] {(byte) 0xe2, (byte) 0x82})),
            400,
            "invalid_json"));
    t.add(
        c(
            "Latin-1 body",
            publish(
                "{\"topic\":\"caf\u00e9\",\"event_id\":\"x\"}"
                    .getBytes(StandardCharsets.ISO_8859_1)),
            400,
            "invalid_json"));
    t.add(
        c(
            "raw NUL in a string",
            publish("{\"topic\":\"t\u0000\",\"event_id\":\"x\"}"),
            400,
            "invalid_json"));
    t.add(
        c(
            "escaped NUL in topic",
            publish("{\"topic\":\"t\\u0000\",\"event_id\":\"x\"}"),
            422,
            "validation_failed"));
    t.add(
        c(
            "escaped NUL in event_id",
            publish("{\"topic\":\"t\",\"event_id\":\"x\\u0000\"}"),
            422,
            "validation_failed"));
    t.add(
        c(
            "CR LF in event_id",
            publish("{\"topic\":\"t\",\"event_id\":\"x\\r\\nFORGED\"}"),
            422,
            "validation_failed"));
    t.add(
        c(
            "ESC in topic",
            publish("{\"topic\":\"\\u001b[31mred\",\"event_id\":\"x\"}"),
            422,
            "validation_failed"));
    t.add(
        c(
            "DEL in topic",
            publish("{\"topic\":\"t\\u007f\",\"event_id\":\"x\"}"),
            422,
            "validation_failed"));
    t.add(
        c(
            "lone surrogate in event_id",
            publish("{\"topic\":\"t\",\"event_id\":\"\\ud800\"}"),
            422,
            "validation_failed"));
    t.add(
        c(
            "leading NUL bytes (Jackson would guess UTF-32; found by RequestFuzzTest)",
            publish(concat(new byte[] {0, 0, 0, 0, 0, 0, 0}, bytes("rtam$p:{}}"))),
            400,
            "invalid_json"));
    t.add(
        c(
            "UTF-16LE body",
            publish("{\"topic\":\"t\",\"event_id\":\"x\"}".getBytes(StandardCharsets.UTF_16LE)),
            400,
            "invalid_json"));
    // Methods and framing
    t.add(c("GET /publish", request("GET", "/publish", new byte[0]), 405, "method_not_allowed"));
    t.add(c("PUT /publish", request("PUT", "/publish", bytes(ok)), 405, "method_not_allowed"));
    t.add(
        c("DELETE /events", request("DELETE", "/events", new byte[0]), 405, "method_not_allowed"));
    t.add(c("made-up method", request("BREW", "/publish", bytes(ok)), 405, "method_not_allowed"));
    t.add(
        c(
            "ESC in the method (not a token: malformed)",
            request("PO\u001bST", "/publish", bytes(ok)),
            400,
            "bad_request"));
    t.add(c("unknown path", request("GET", "/nope", new byte[0]), 404, "not_found"));
    t.add(
        c(
            "encoded CR LF in the path",
            request("GET", "/a%0d%0aX-Forged:%20yes", new byte[0]),
            404,
            "not_found"));
    t.add(
        c(
                "raw control character in the path",
                request("GET", "/he\u001bllo", new byte[0]),
                400,
                "bad_request")
            .withBadFraming());
    t.add(
        c(
            "Content-Length 2^63-1",
            withHeaders(
                "POST /publish HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 9223372036854775807\r\n\r\n",
                bytes(ok)),
            413,
            "payload_too_large"));
    t.add(
        c(
                "Content-Length beyond a long",
                withHeaders(
                    "POST /publish HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                    bytes(ok)),
                400,
                "bad_request")
            .withBadFraming());
    t.add(
        c(
                "negative Content-Length",
                withHeaders(
                    "POST /publish HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: -1\r\n\r\n",
                    bytes(ok)),
                400,
                "bad_request")
            .withBadFraming());
    t.add(
        c(
                "two Content-Lengths",
                withHeaders(
                    "POST /publish HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 2\r\nContent-Length: 30\r\n\r\n",
                    bytes(ok)),
                400,
                "bad_request")
            .withBadFraming());
    t.add(
        c(
            "Content-Length shorter than the body",
            withHeaders(
                "POST /publish HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 10\r\n\r\n",
                bytes(ok)),
            400,
            "invalid_json"));
    t.add(
        c(
            "Content-Length 11 MiB declared",
            withHeaders(
                "POST /publish HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: "
                    + (11 << 20)
                    + "\r\n\r\n",
                bytes(ok)),
            413,
            "payload_too_large"));
    t.add(c("chunked body over the limit", chunked(11 << 20), 413, "payload_too_large"));
    t.add(
        c(
            "chunked body, bad chunk size",
            withHeaders(
                "POST /publish HTTP/1.1\r\nHost: t\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n",
                bytes(ok)),
            400,
            "bad_request"));
    t.add(
        c(
            "chunked body, valid",
            bytes(
                "POST /publish HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n"
                    + "a\r\n{\"topic\":\"\r\n"
                    + "16\r\nt\",\"event_id\":\"chunk\"}\r\n"
                    + "0\r\n\r\n"),
            200,
            null));
    t.add(
        c(
                "query parameter badly encoded",
                request("GET", "/events?topic=%zz", new byte[0]),
                400,
                "bad_request")
            .withBadFraming());
    t.add(
        c(
            "limit beyond int",
            request("GET", "/events?topic=t&limit=99999999999999999999", new byte[0]),
            422,
            "validation_failed"));
    t.add(
        c(
            "foreign cursor",
            request("GET", "/events?topic=t&after=%27%20OR%201%3D1--", new byte[0]),
            422,
            "validation_failed"));
    return t.stream().map(Arguments::of);
  }

  /** A chunked body of {@code total} bytes in 64 KiB chunks: a JSON string that never ends. */
  private static byte[] chunked(int total) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(total + 1024);
    out.writeBytes(
        bytes(
            "POST /publish HTTP/1.1\r\nHost: t\r\nConnection: close\r\nTransfer-Encoding:"
                + " chunked\r\n\r\n"));
    byte[] chunk = new byte[64 << 10];
    java.util.Arrays.fill(chunk, (byte) 'a');
    chunk[0] = '"';
    for (int sent = 0; sent < total; sent += chunk.length) {
      out.writeBytes(bytes(Integer.toHexString(chunk.length) + "\r\n"));
      out.writeBytes(chunk);
      out.writeBytes(bytes("\r\n"));
      chunk[0] = 'a';
    }
    out.writeBytes(bytes("0\r\n\r\n"));
    return out.toByteArray();
  }

  /** Status line and body of the answer to a raw request; the body as text. */
  record Raw(int status, String head, String body) {}

  static Raw exchange(int port, byte[] request) throws Exception {
    Socket s = new Socket("127.0.0.1", port);
    try {
      s.setSoTimeout(30_000);
      // Written from another thread while this one reads: the server may answer (413) and close
      // before the whole body is written, and the answer must be read before the reset comes.
      Thread writer =
          new Thread(
              () -> {
                try {
                  OutputStream out = s.getOutputStream();
                  out.write(request);
                  out.flush();
                  s.shutdownOutput();
                } catch (IOException e) {
                  // the server stopped reading: expected for bodies over the limit
                }
              },
              "hostile-writer");
      writer.setDaemon(true);
      writer.start();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      while (!complete(got.toString(StandardCharsets.UTF_8))) {
        int n;
        try {
          n = in.read(buf);
        } catch (SocketException e) {
          break; // reset after the answer; what was read is checked below
        }
        if (n < 0) {
          break;
        }
        got.write(buf, 0, n);
      }
      s.close(); // ends the writer if it is still blocked
      writer.join(30_000);
      String text = got.toString(StandardCharsets.UTF_8);
      int end = text.indexOf("\r\n\r\n");
      assertTrue(end > 0, "no HTTP answer: '" + text + "'");
      String head = text.substring(0, end);
      int status = Integer.parseInt(head.substring(9, 12));
      return new Raw(status, head, text.substring(end + 4));
    } finally {
      s.close();
    }
  }

  /** Whether the answer's head and its Content-Length bytes of body are in. */
  private static boolean complete(String text) {
    int end = text.indexOf("\r\n\r\n");
    if (end < 0) {
      return false;
    }
    for (String line : text.substring(0, end).split("\r\n")) {
      if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
        int length = Integer.parseInt(line.substring(15).strip());
        return text.length() - end - 4 >= length; // the answers are ASCII: chars == bytes
      }
    }
    return false;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void hostileRequest_documentedStatus_neverServerError(Case c) throws Exception {
    assertNotNull(c.request(), c.name());
    Raw r = exchange(server.port(), c.request());
    if (r.status() >= 500) {
      SERVER_ERRORS.add(c.name());
    }
    assertEquals(c.status(), r.status(), c.name() + ": " + r.head() + "\n" + r.body());
    if (c.expectedError() != null) {
      JsonNode body = TestServer.MAPPER.readTree(r.body());
      assertEquals(c.expectedError(), body.get("error").asText(), r.body());
      assertTrue(body.get("message").asText().length() > 0, r.body());
    }
    if (c.expectedError() != null) { // the JDK server's own page names the exception it caught
      assertFalse(r.body().contains("Exception"), "no exception names: " + r.body());
    }
    assertFalse(r.body().contains("\tat "), "no stack trace: " + r.body());
    // The server still answers after every row.
    assertEquals(200, server.get("/health").status());
  }

  @Test
  void afterTheTable_onlyTheValidRowsStored_noServerErrors() throws Exception {
    for (Arguments a : cases().toList()) {
      exchange(server.port(), ((Case) a.get()[0]).request());
    }
    assertTrue(SERVER_ERRORS.isEmpty(), "5xx answers: " + SERVER_ERRORS);
    JsonNode stats = server.get("/stats").json();
    // Only "chunked body, valid" stores an event (topic t, id chunk); every other row is refused.
    assertEquals(1, stats.get("unique_processed").asLong(), stats.toString());
    assertEquals("[\"t\"]", stats.get("topics").toString());
    JsonNode events = server.get("/events?topic=t").json().get("events");
    assertEquals("chunk", events.get(0).get("event_id").asText());
  }
}
