package dev.aggregator.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built {@code aggregator-server.jar} as a child process: SIGTERM commits and exits 0, a
 * restart on the same database keeps every key and counter, start-up failures are one line and a
 * non-zero exit. Runs in {@code verify}, after {@code package} built the jar.
 */
class ServerJarIT {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  @TempDir Path dir;

  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  /** A running child server and the lines it printed. */
  private static final class Child implements AutoCloseable {
    final Process process;
    final ProcessOutput output;

    Child(List<String> command) throws IOException {
      process = new ProcessBuilder(command).redirectErrorStream(true).start();
      output = new ProcessOutput(process, "child-output");
    }

    /** Waits for a line containing {@code text}; fails with everything printed so far. */
    String await(String text, Duration timeout) throws InterruptedException {
      return output.await(text, timeout, "child");
    }

    /** Exit status, after every line is read. */
    int awaitExit(Duration timeout) throws InterruptedException {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("child did not exit within " + timeout + ":\n" + output.soFar());
      }
      return process.exitValue();
    }

    String output() throws InterruptedException {
      return output.all();
    }

    @Override
    public void close() {
      if (process.isAlive()) {
        process.destroyForcibly();
      }
    }
  }

  private static String java() {
    return ProcessHandle.current().info().command().orElse("java");
  }

  private static String jar() {
    String jar = System.getProperty("aggregator.server.jar", "target/aggregator-server.jar");
    assertTrue(Files.isRegularFile(Path.of(jar)), "the shaded jar is not built: " + jar);
    return jar;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private Child start(String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(java(), "-jar", jar()));
    command.addAll(List.of(args));
    return new Child(command);
  }

  private JsonNode post(int port, String path, String body) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return MAPPER.readTree(r.body());
  }

  private JsonNode get(int port, String path) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return MAPPER.readTree(r.body());
  }

  private static String batch(int n) {
    StringBuilder b = new StringBuilder("{\"events\":[");
    for (int i = 0; i < n; i++) {
      b.append(i == 0 ? "" : ",")
          .append("{\"topic\":\"")
          .append(i % 2 == 0 ? "orders" : "users")
          .append("\",\"event_id\":\"e")
          .append(i)
          .append("\",\"payload\":{\"i\":")
          .append(i)
          .append("}}");
    }
    return b.append("]}").toString();
  }

  @Test
  void sigtermThenRestart_sameDb_everythingKeptAndRetriesAreDuplicates() throws Exception {
    Path db = dir.resolve("data/agg.db");
    int port = freePort();
    String[] args = {
      "--port",
      String.valueOf(port),
      "--db",
      db.toString(),
      "--log-file",
      dir.resolve("logs/a.log").toString()
    };
    try (Child first = start(args)) {
      String listening = first.await("listening on http://127.0.0.1:" + port, START_TIMEOUT);
      // The transport is the one the build runs these tests on (AGGREGATOR_TRANSPORT).
      String transport = System.getenv().getOrDefault("AGGREGATOR_TRANSPORT", "jdk");
      assertTrue(
          listening.contains(transport.equals("netty") ? "(Netty, " : "(JDK HttpServer, "),
          listening);
      JsonNode r = post(port, "/publish", batch(500));
      assertEquals(500, r.get("accepted").asInt());
      for (int i = 0; i < 20; i++) {
        post(port, "/publish", "{\"topic\":\"single\",\"event_id\":\"s" + i + "\"}");
      }
      first
          .process
          .toHandle()
          .destroy(); // SIGTERM; Process#destroy would also close our end of its output
      assertEquals(0, first.awaitExit(Duration.ofSeconds(30)), first.output());
      String out = first.output();
      assertTrue(out.contains("stopped: 520 received, 520 stored, all committed"), out);
      assertTrue(out.contains("REQUEST: POST /publish - STATUS: 200 - DURATION: "), out);
    }
    String log = Files.readString(dir.resolve("logs/a.log"));
    assertTrue(log.contains("REQUEST: POST /publish - STATUS: 200"), "request log in the file");

    try (Child second = start(args)) {
      second.await("listening on", START_TIMEOUT); // printed first, then where the data is
      String data = second.await("data: ", START_TIMEOUT);
      assertTrue(data.contains("(520 events stored, 520 received)"), data);
      JsonNode r = post(port, "/publish", batch(500));
      assertEquals(0, r.get("accepted").asInt());
      assertEquals(500, r.get("duplicates").asInt());
      JsonNode stats = get(port, "/stats");
      assertEquals(1020, stats.get("received").asLong());
      assertEquals(520, stats.get("unique_processed").asLong());
      assertEquals(500, stats.get("duplicate_dropped").asLong());
      assertEquals("[\"orders\",\"users\",\"single\"]", stats.get("topics").toString());
      second.process.toHandle().destroy();
      assertEquals(0, second.awaitExit(Duration.ofSeconds(30)), second.output());
    }
  }

  /**
   * A logback file of the user's own ({@code -Dlogback.configurationFile}) replaces the built-in
   * one.
   */
  @Test
  void usersLogbackFile_replacesTheBuiltInLogging() throws Exception {
    Path config = dir.resolve("mine.xml");
    Path mine = dir.resolve("mine.log");
    Files.writeString(
        config,
        """
        <configuration>
          <appender name="MINE" class="ch.qos.logback.core.FileAppender">
            <file>%s</file>
            <encoder><pattern>MINE %%msg%%n</pattern></encoder>
          </appender>
          <root level="INFO"><appender-ref ref="MINE"/></root>
        </configuration>
        """
            .formatted(mine));
    int port = freePort();
    List<String> command =
        List.of(
            java(),
            "-Dlogback.configurationFile=" + config,
            "-jar",
            jar(),
            "--port",
            String.valueOf(port),
            "--db",
            dir.resolve("a.db").toString(),
            "--log-file",
            dir.resolve("logs/a.log").toString());
    try (Child c = new Child(command)) {
      c.await("listening on", START_TIMEOUT);
      post(port, "/publish", "{\"topic\":\"t\",\"event_id\":\"e1\"}");
      c.process.toHandle().destroy(); // SIGTERM: the server stops logback, which closes the file
      assertEquals(0, c.awaitExit(Duration.ofSeconds(30)), c.output());
    }
    String log = Files.readString(mine);
    assertTrue(log.contains("MINE REQUEST: POST /publish - STATUS: 200"), log);
    assertFalse(Files.exists(dir.resolve("logs/a.log")), "the built-in file is not written");
  }

  /**
   * Small answers on a keep-alive connection go out at once: without TCP_NODELAY, Nagle's algorithm
   * and the client's delayed ACK hold each one for tens of milliseconds (the JDK server reads its
   * setting once per JVM, so anything that creates a JDK server before the transport sets it brings
   * the delay back).
   */
  @Test
  void keepAliveRequests_answeredWithoutTheNagleDelay() throws Exception {
    int port = freePort();
    try (Child c =
        start(
            "--port",
            String.valueOf(port),
            "--db",
            dir.resolve("nagle.db").toString(),
            "--log-file",
            dir.resolve("nagle.log").toString())) {
      c.await("listening on", START_TIMEOUT);
      List<Long> micros = new ArrayList<>();
      for (int i = 0; i < 41; i++) {
        long t0 = System.nanoTime();
        post(port, "/publish", "{\"topic\":\"t\",\"event_id\":\"n" + i + "\"}");
        micros.add((System.nanoTime() - t0) / 1000);
      }
      micros.sort(null);
      long median = micros.get(micros.size() / 2);
      assertTrue(median < 20_000, "median round trip " + median + " us: " + micros);
      c.process.toHandle().destroy();
      assertEquals(0, c.awaitExit(Duration.ofSeconds(30)), c.output());
    }
  }

  private static void assertOneLineFailure(Child c, int expectedStatus, String expectedText)
      throws Exception {
    int status = c.awaitExit(START_TIMEOUT);
    String out = c.output();
    assertEquals(expectedStatus, status, out);
    List<String> errorLines = out.lines().filter(l -> l.startsWith("aggregator-server: ")).toList();
    assertEquals(1, errorLines.size(), out);
    assertTrue(errorLines.get(0).contains(expectedText), out);
    assertFalse(out.contains("Exception"), "no stack trace: " + out);
    assertFalse(out.contains("\tat "), "no stack trace: " + out);
  }

  @Test
  void start_portTaken_oneLineAndExit1() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"));
        Child c =
            start(
                "--port",
                String.valueOf(taken.getLocalPort()),
                "--db",
                dir.resolve("p.db").toString(),
                "--log-file",
                dir.resolve("p.log").toString())) {
      assertOneLineFailure(c, 1, "Address already in use");
    }
  }

  @Test
  void start_maxEventsOverQueueCapacity_oneLineNamingBothAndExit2() throws Exception {
    // The default --max-events (10,000) with a smaller queue: such a request could never fit,
    // and used to get 503 queue_full ("retry later") every time.
    try (Child c =
        start(
            "--port",
            String.valueOf(freePort()),
            "--queue-capacity",
            "1000",
            "--db",
            dir.resolve("q.db").toString(),
            "--log-file",
            dir.resolve("q.log").toString())) {
      assertOneLineFailure(c, 2, "--max-events 10000 is larger than --queue-capacity 1000");
    }
  }

  @Test
  void start_unusableDatabase_oneLineAndExit1() throws Exception {
    Path notSqlite = dir.resolve("garbage.db");
    Files.writeString(
        notSqlite, "this is not a database, just text that fills a page. ".repeat(200));
    try (Child c =
        start(
            "--port",
            String.valueOf(freePort()),
            "--db",
            notSqlite.toString(),
            "--log-file",
            dir.resolve("g.log").toString())) {
      assertOneLineFailure(c, 1, "garbage.db");
    }
  }

  @Test
  void start_badFlag_oneLineAndExit2() throws Exception {
    try (Child c = start("--port", "eighty")) {
      assertOneLineFailure(c, 2, "--port");
    }
    try (Child c = start("--sync", "sometimes")) {
      assertOneLineFailure(c, 2, "--sync");
    }
  }

  @Test
  void help_listsFlagsAndEnvironment_exit0() throws Exception {
    try (Child c = start("--help")) {
      assertEquals(0, c.awaitExit(START_TIMEOUT));
      String out = c.output();
      for (String s :
          List.of(
              "--host",
              "--port",
              "--db",
              "--queue-capacity",
              "--max-batch",
              "--sync",
              "--ack",
              "--api-key",
              "--log-file",
              "--log-level",
              "--transport",
              "AGGREGATOR_TRANSPORT",
              "HOST",
              "PORT",
              "DATABASE_PATH",
              "QUEUE_MAX_SIZE",
              "LOG_LEVEL",
              "AGGREGATOR_API_KEY")) {
        assertTrue(out.contains(s), s + " missing from --help:\n" + out);
      }
    }
    assertNotNull(jar());
  }
}
