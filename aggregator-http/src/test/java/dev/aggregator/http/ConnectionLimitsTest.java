package dev.aggregator.http;

import static dev.aggregator.http.TransportTest.HEALTH;
import static dev.aggregator.http.TransportTest.readAnswer;
import static dev.aggregator.http.TransportTest.readUntilClosed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.testing.Await;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The limits on connections rather than requests: a connection that sends nothing is closed after
 * the request timeout, and connections over the cap are closed at once. The JDK server keeps both
 * per JVM, read when its first server starts, so every server of this class asks for the same
 * values and the build runs the class in a JVM of its own.
 */
class ConnectionLimitsTest {
  private static final UnaryOperator<AggregatorServer.Builder> LIMITS =
      b -> b.requestTimeout(Duration.ofSeconds(1)).maxConnections(3);

  @Test
  void idleConnection_closedAfterTheRequestTimeout_othersServedMeanwhile() throws Exception {
    try (TestServer t = TestServer.inMemory(LIMITS);
        Socket idle = new Socket("127.0.0.1", t.port())) {
      long t0 = System.nanoTime();
      assertEquals(200, t.post("/publish", "{\"topic\":\"t\",\"event_id\":\"beside\"}").status());
      assertEquals("", readUntilClosed(idle), "closed without an answer");
      double seconds = (System.nanoTime() - t0) / 1e9;
      assertTrue(seconds >= 0.9 && seconds < 5, "closed after " + seconds + " s");
    }
  }

  @Test
  void connectionsOverTheCap_closedAtOnce_servedAgainOnceOthersClose() throws Exception {
    try (TestServer t = TestServer.inMemory(LIMITS)) {
      int port = t.port();
      List<Socket> open = new ArrayList<>();
      try {
        for (int i = 0; i < 3; i++) {
          Socket s = new Socket("127.0.0.1", port);
          s.setSoTimeout(10_000);
          s.getOutputStream().write(HEALTH);
          assertTrue(readAnswer(s.getInputStream()).startsWith("HTTP/1.1 200"));
          open.add(s);
        }
        try (Socket extra = new Socket("127.0.0.1", port)) {
          try {
            extra.getOutputStream().write(HEALTH);
          } catch (SocketException e) {
            // closed before the request was written: refused as well
          }
          assertEquals("", readUntilClosed(extra), "the fourth connection got an answer");
        }
      } finally {
        for (Socket s : open) {
          s.close();
        }
      }
      // The count falls as the server sees the closes: asked again until then.
      Await.until(
          "service after the other connections closed",
          Duration.ofSeconds(10),
          () -> {
            try (Socket s = new Socket("127.0.0.1", port)) {
              s.setSoTimeout(5_000);
              s.getOutputStream().write(HEALTH);
              return readAnswer(s.getInputStream()).startsWith("HTTP/1.1 200");
            } catch (IOException e) {
              return false; // still over the cap
            }
          });
    }
  }
}
