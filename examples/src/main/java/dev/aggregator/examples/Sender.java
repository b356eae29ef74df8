package dev.aggregator.examples;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * The generator's use of {@code java.net.http.HttpClient}: {@code --client jdk} (a thread per
 * connection, each sending its requests one after the other) and the reads of {@code /stats}.
 */
final class Sender {
  private Sender() {}

  /** A GET with the JDK client (for /stats: not measured). */
  static byte[] get(URI uri, String apiKey) throws IOException, InterruptedException {
    HttpRequest.Builder req = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).GET();
    if (apiKey != null) {
      req.header("X-API-Key", apiKey);
    }
    HttpResponse<byte[]> r =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .build()
            .send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
    if (r.statusCode() != 200) {
      throw new IOException(
          "GET "
              + uri
              + ": HTTP "
              + r.statusCode()
              + " "
              + new String(r.body(), StandardCharsets.UTF_8));
    }
    return r.body();
  }

  /** {@code --client jdk}: one thread per source, POSTing through one shared HttpClient. */
  static void runBlocking(
      URI publish,
      String apiKey,
      List<LoadGen.Source> sources,
      LoadGen.Conn[] conns,
      LoadGen.Progress progress)
      throws InterruptedException {
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    long start = System.nanoTime();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < sources.size(); c++) {
      LoadGen.Source source = sources.get(c);
      LoadGen.Conn conn = conns[c];
      Thread t =
          new Thread(
              () -> {
                for (LoadGen.Outgoing o; (o = source.next(start)) != null; ) {
                  long wait = o.notBefore() - System.nanoTime();
                  if (wait > 0) {
                    LockSupport.parkNanos(wait); // the paced mode's slot
                  }
                  post(http, publish, apiKey, o, conn, progress);
                }
              },
              "loadgen-" + c);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join();
    }
  }

  private static void post(
      HttpClient http,
      URI publish,
      String apiKey,
      LoadGen.Outgoing o,
      LoadGen.Conn conn,
      LoadGen.Progress progress) {
    conn.requests++;
    progress.requests.incrementAndGet();
    HttpRequest.Builder req =
        HttpRequest.newBuilder(publish)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(o.body()));
    if (apiKey != null) {
      req.header("X-API-Key", apiKey);
    }
    long t0 = System.nanoTime();
    try {
      HttpResponse<byte[]> r = http.send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
      String body = new String(r.body(), StandardCharsets.UTF_8);
      conn.answered(r.statusCode(), body, o.events(), (System.nanoTime() - t0) / 1000, progress);
    } catch (IOException | InterruptedException e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      conn.failed(e.toString(), (System.nanoTime() - t0) / 1000, progress);
    }
  }
}
