package dev.aggregator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.testing.Await;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The transport's own rules on a real server: slow clients are closed after the request timeout
 * while others are served, pipelined requests answered in order, 100-continue, half-close and
 * HTTP/1.0 keep-alive. (ConnectionLimitsTest has idle connections and the connection cap;
 * SlowClientIT checks the limits on the jar, through its flags.)
 */
class TransportTest {
  static final byte[] HEALTH =
      "GET /health HTTP/1.1\r\nHost: t\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  /** Reads until the server closes; the bytes read. Fails after 10 s. */
  static String readUntilClosed(Socket s) throws IOException {
    s.setSoTimeout(10_000);
    InputStream in = s.getInputStream();
    StringBuilder got = new StringBuilder();
    byte[] buf = new byte[4096];
    try {
      for (int n; (n = in.read(buf)) >= 0; ) {
        got.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
      }
    } catch (SocketException e) {
      // reset: closed as well
    }
    return got.toString();
  }

  @Test
  void slowClients_closedAfterTheRequestTimeout_othersServedMeanwhile() throws Exception {
    try (TestServer t = TestServer.inMemory(b -> b.requestTimeout(Duration.ofMillis(500)))) {
      int port = t.port();
      try (Socket slowHead = new Socket("127.0.0.1", port);
          Socket slowBody = new Socket("127.0.0.1", port)) {
        slowHead.getOutputStream().write(bytes("POST /publish HTTP/1.1\r\nHost: t\r\n"));
        slowBody
            .getOutputStream()
            .write(bytes("POST /publish HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{"));
        long t0 = System.nanoTime();
        assertEquals(200, t.post("/publish", "{\"topic\":\"t\",\"event_id\":\"beside\"}").status());
        for (Socket s : List.of(slowHead, slowBody)) {
          assertEquals("", readUntilClosed(s), "closed without an answer");
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(seconds >= 0.4 && seconds < 5, "closed after " + seconds + " s");
      }
      assertEquals(1, t.aggregator.stats().uniqueProcessed());
    }
  }

  @Test
  void pendingDurablePublishes_holdNoThread_otherRequestsServedMeanwhile() throws Exception {
    TestServer.GatedStore gated = new TestServer.GatedStore();
    // Four workers: if a durable publish held one until its commit, the fifth could not start.
    try (TestServer t = new TestServer(gated, b -> b, b -> b.threads(4))) {
      int n = 40;
      List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        HttpRequest publish =
            t.request("/publish")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"topic\":\"t\",\"event_id\":\"held-" + i + "\"}"))
                .build();
        answers.add(t.client.sendAsync(publish, HttpResponse.BodyHandlers.ofString()));
      }
      assertTrue(gated.appending.await(10, TimeUnit.SECONDS), "no commit started");
      // If a durable publish held a worker until its commit, only 4 would ever get here.
      Await.until(
          n + " publishes in the queue",
          Duration.ofSeconds(10),
          () -> t.aggregator.stats().queueSize() >= n);
      assertEquals(200, t.get("/health").status(), "health while 40 publishes wait");
      assertTrue(
          answers.stream().noneMatch(CompletableFuture::isDone), "answered before the commit");
      gated.release();
      for (CompletableFuture<HttpResponse<String>> a : answers) {
        HttpResponse<String> r = a.get(30, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().contains("\"accepted\":1"), r.body());
      }
      assertEquals(n, t.aggregator.stats().uniqueProcessed());
    }
  }

  @Test
  void keepAliveConnection_idleShorterThanTheTimeout_staysOpenForTheNextRequest() throws Exception {
    try (TestServer t = TestServer.inMemory(b -> b.requestTimeout(Duration.ofSeconds(5)));
        Socket s = new Socket("127.0.0.1", t.port())) {
      s.setSoTimeout(10_000);
      for (int i = 0; i < 3; i++) {
        s.getOutputStream().write(HEALTH);
        assertTrue(readAnswer(s.getInputStream()).startsWith("HTTP/1.1 200"));
      }
    }
  }

  @Test
  void pipelinedRequests_answeredInOrderOnOneConnection() throws Exception {
    try (TestServer t = TestServer.inMemory();
        Socket s = new Socket("127.0.0.1", t.port())) {
      s.setSoTimeout(10_000);
      StringBuilder requests = new StringBuilder();
      for (int i = 0; i < 20; i++) {
        requests.append(publish("p" + i, "X-Request-Id: r" + i));
      }
      OutputStream out = s.getOutputStream();
      out.write(bytes(requests.toString())); // all at once: pipelined
      InputStream in = s.getInputStream();
      for (int i = 0; i < 20; i++) {
        String answer = readAnswer(in);
        assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
        assertTrue(
            answer.toLowerCase().contains("x-request-id: r" + i + "\r\n"), i + ": " + answer);
        assertTrue(answer.contains("\"event_id\":\"p" + i + "\""), i + ": " + answer);
      }
      assertEquals(20, t.aggregator.stats().uniqueProcessed());
    }
  }

  @Test
  void expect100Continue_continuedWhenTheBodyFits_apis413WhenItDoesNot() throws Exception {
    try (TestServer t = TestServer.inMemory(b -> b.maxBodyBytes(1000));
        Socket s = new Socket("127.0.0.1", t.port())) {
      s.setSoTimeout(10_000);
      String body = "{\"topic\":\"t\",\"event_id\":\"continued\"}";
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      out.write(
          bytes(
              "POST /publish HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: "
                  + body.length()
                  + "\r\n\r\n"));
      assertTrue(readAnswer(in).startsWith("HTTP/1.1 100 Continue"));
      out.write(bytes(body));
      assertTrue(readAnswer(in).startsWith("HTTP/1.1 200"));
      out.write(
          bytes(
              "POST /publish HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                  + "Content-Length: 5000\r\n\r\n"));
      String refused = readAnswer(in);
      if (refused.startsWith("HTTP/1.1 100")) {
        // The JDK server says 100 Continue before its handler sees the request; the 413 follows,
        // which an HTTP client reads as the final answer (RFC 9110 15.2).
        assertTrue(TestServer.onJdk(), "an interim 100 on " + TestServer.TRANSPORT);
        refused = readAnswer(in);
      }
      assertTrue(refused.startsWith("HTTP/1.1 413"), refused);
      assertTrue(refused.contains("\"error\":\"payload_too_large\""), refused);
      assertTrue(refused.contains("body of 5000 bytes is larger than the limit of 1000"), refused);
    }
  }

  @Test
  void clientHalfClosesAfterItsRequest_stillGetsTheAnswer() throws Exception {
    try (TestServer t = TestServer.inMemory();
        Socket s = new Socket("127.0.0.1", t.port())) {
      s.getOutputStream().write(bytes(publish("half")));
      s.shutdownOutput(); // a durable publish: the answer comes after the commit
      String all = readUntilClosed(s);
      assertTrue(all.startsWith("HTTP/1.1 200") && all.contains("\"accepted\":1"), all);
    }
  }

  @Test
  void pipelinedRequestThenOneOverTheLimit_answeredInOrder_thenClosed() throws Exception {
    try (TestServer t = TestServer.inMemory(b -> b.maxBodyBytes(1000));
        Socket s = new Socket("127.0.0.1", t.port())) {
      s.setSoTimeout(10_000);
      s.getOutputStream()
          .write(
              bytes(
                  publish("first")
                      + "POST /publish HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n"));
      InputStream in = s.getInputStream();
      String first = readAnswer(in);
      assertTrue(first.startsWith("HTTP/1.1 200") && first.contains("first"), first);
      String second = readAnswer(in);
      assertTrue(second.startsWith("HTTP/1.1 413"), second);
      assertTrue(second.contains("payload_too_large"), second);
    }
  }

  @Test
  void http10KeepAlive_answeredWithKeepAlive_http10Plain_closed() throws Exception {
    try (TestServer t = TestServer.inMemory()) {
      try (Socket s = new Socket("127.0.0.1", t.port())) {
        s.setSoTimeout(10_000);
        byte[] keep = bytes("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        s.getOutputStream().write(keep);
        String first = readAnswer(s.getInputStream());
        assertTrue(
            first.toLowerCase(java.util.Locale.ROOT).contains("connection: keep-alive"), first);
        s.getOutputStream().write(keep);
        assertTrue(readAnswer(s.getInputStream()).contains(" 200 "));
      }
      try (Socket s = new Socket("127.0.0.1", t.port())) {
        s.getOutputStream().write(bytes("GET /health HTTP/1.0\r\n\r\n"));
        String all = readUntilClosed(s);
        assertTrue(
            all.contains(" 200 ")
                && all.toLowerCase(java.util.Locale.ROOT).contains("connection: close"),
            all);
      }
    }
  }

  /** One answer: its head (lower-case header names, as Netty writes them) and body. */
  static String readAnswer(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        return head.toString();
      }
      head.append((char) c);
    }
    int length = 0;
    for (String line : head.toString().split("\r\n")) {
      if (line.toLowerCase().startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).strip());
      }
    }
    return head + new String(in.readNBytes(length), StandardCharsets.UTF_8);
  }

  /** A raw {@code POST /publish} of one event, with these header lines before Content-Length. */
  private static String publish(String eventId, String... headerLines) {
    String body = "{\"topic\":\"t\",\"event_id\":\"" + eventId + "\"}";
    return "POST /publish HTTP/1.1\r\nHost: t\r\n"
        + String.join("", java.util.Arrays.stream(headerLines).map(h -> h + "\r\n").toList())
        + "Content-Length: "
        + body.length()
        + "\r\n\r\n"
        + body;
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
