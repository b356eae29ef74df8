package dev.aggregator.server.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.testing.Await;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Slow, idle and too many clients against the jar, through its flags: {@code --request-timeout}
 * (default 60 s) and {@code --max-connections} (default 1000) are set low here so the test is
 * quick.
 */
class SlowClientIT {
  private static final Duration START = Duration.ofSeconds(60);
  private static final byte[] HEALTH =
      "GET /health HTTP/1.1\r\nHost: t\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  @TempDir Path dir;

  private ChildServer start(String flag, String value) throws Exception {
    ChildServer c =
        ChildServer.start(
            List.of(),
            flag,
            value,
            "--db",
            dir.resolve("slow.db").toString(),
            "--log-file",
            dir.resolve("slow.log").toString(),
            "--log-level",
            "WARN");
    c.await("listening on http://", START);
    return c;
  }

  /** Reads until the server closes the connection; returns the seconds it took. */
  private static double secondsUntilClosed(Socket s, long startNanos) throws IOException {
    s.setSoTimeout(30_000);
    InputStream in = s.getInputStream();
    byte[] buf = new byte[1024];
    try {
      while (in.read(buf) >= 0) {
        // an answer (if any) is read and ignored; the close is what counts
      }
    } catch (SocketException e) {
      // reset: closed as well
    }
    return (System.nanoTime() - startNanos) / 1e9;
  }

  private static List<Socket> slowClients(int port, int bodySlow, int headerSlow, int idle)
      throws IOException {
    List<Socket> slow = new ArrayList<>();
    for (int i = 0; i < bodySlow; i++) {
      Socket s = new Socket("127.0.0.1", port);
      s.getOutputStream()
          .write(
              "POST /publish HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{"
                  .getBytes(StandardCharsets.US_ASCII));
      slow.add(s);
    }
    for (int i = 0; i < headerSlow; i++) {
      Socket s = new Socket("127.0.0.1", port);
      s.getOutputStream()
          .write("POST /publish HTTP/1.1\r\nHost: t\r\n".getBytes(StandardCharsets.US_ASCII));
      slow.add(s);
    }
    for (int i = 0; i < idle; i++) {
      slow.add(new Socket("127.0.0.1", port)); // connects, sends nothing
    }
    return slow;
  }

  private static int publish(HttpClient http, int port, String id) throws InterruptedException {
    try {
      return http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/publish"))
                  .timeout(Duration.ofSeconds(20))
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"topic\":\"t\",\"event_id\":\"" + id + "\"}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .statusCode();
    } catch (IOException e) {
      return -1; // cut off with the slow ones while it waited for a thread
    }
  }

  @Test
  void slowlorisClients_cutOffAfterMaxReqTime_otherClientsStillServed() throws Exception {
    try (ChildServer child = start("--request-timeout", "2")) {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      // Slow clients hold no thread (the event loops only read what arrives): others are served
      // at once.
      long t0 = System.nanoTime();
      List<Socket> some = slowClients(child.port, 30, 10, 5);
      double besideSlow;
      try {
        long p0 = System.nanoTime();
        assertEquals(200, publish(http, child.port, "beside-slow"));
        besideSlow = (System.nanoTime() - p0) / 1e9;
        assertTrue(
            besideSlow < 1.5, "a normal publish beside 45 slow clients took " + besideSlow + " s");
        double worst = 0;
        for (Socket s : some) {
          worst = Math.max(worst, secondsUntilClosed(s, t0));
        }
        assertTrue(worst < 20, "a slow client was held for " + worst + " s");
      } finally {
        for (Socket s : some) {
          s.close();
        }
      }
      // A flood of them: each is cut off after the request timeout; a normal publish is served
      // meanwhile (retried if the machine is too busy to answer it at once).
      t0 = System.nanoTime();
      List<Socket> flood = slowClients(child.port, 70, 10, 1);
      try {
        int[] attempts = {0};
        Await.until(
            "service while flooded by slow clients",
            Duration.ofSeconds(30),
            () -> {
              attempts[0]++;
              return publish(http, child.port, "after-flood") == 200;
            });
        double served = (System.nanoTime() - t0) / 1e9;
        double worst = 0;
        for (Socket s : flood) {
          worst = Math.max(worst, secondsUntilClosed(s, t0));
        }
        assertTrue(worst < 20, "a slow client was held for " + worst + " s");
        System.out.printf(
            "slow clients: 45 beside a normal publish (served in %.2f s); a flood of %d cut off"
                + " after at most %.1f s, a normal publish served after %.1f s (%d attempts)%n",
            besideSlow, flood.size(), worst, served, attempts[0]);
      } finally {
        for (Socket s : flood) {
          s.close();
        }
      }
      child.terminate();
      assertEquals(0, child.awaitExit(Duration.ofSeconds(60)), child.output());
    }
  }

  @Test
  void tooManyConnections_extraOnesClosedAtOnce_serviceResumesAfter() throws Exception {
    try (ChildServer child = start("--max-connections", "20")) {
      List<Socket> open = new ArrayList<>();
      try {
        for (int i = 0; i < 20; i++) {
          Socket s = new Socket("127.0.0.1", child.port);
          s.setSoTimeout(10_000);
          s.getOutputStream().write(HEALTH);
          byte[] head = new byte[12];
          assertEquals(12, s.getInputStream().readNBytes(head, 0, 12));
          assertEquals("HTTP/1.1 200", new String(head, StandardCharsets.US_ASCII));
          open.add(s); // kept open: keep-alive
        }
        long t0 = System.nanoTime();
        try (Socket extra = new Socket("127.0.0.1", child.port)) {
          try {
            extra.getOutputStream().write(HEALTH);
          } catch (SocketException e) {
            // closed before the request was written: refused as well
          }
          double s = secondsUntilClosed(extra, t0);
          assertTrue(s < 5, "the connection over the cap was held " + s + " s instead of closed");
        }
      } finally {
        for (Socket s : open) {
          s.close();
        }
      }
      // The server counts closed connections down as it sees the closes: asked again until then.
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      Await.until(
          "service after the connections closed",
          Duration.ofSeconds(20),
          () ->
              http.send(
                          HttpRequest.newBuilder(
                                  URI.create("http://127.0.0.1:" + child.port + "/health"))
                              .timeout(Duration.ofSeconds(5))
                              .build(),
                          HttpResponse.BodyHandlers.ofString())
                      .statusCode()
                  == 200);
      child.terminate();
      assertEquals(0, child.awaitExit(Duration.ofSeconds(60)), child.output());
    }
  }
}
