package dev.aggregator.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The shaded {@code aggregator-server.jar} as a child process on a port the system chose ({@code
 * --port 0}), for the process-level tests of several servers; with a small JSON HTTP client.
 */
final class JarServer implements AutoCloseable {
  static final ObjectMapper MAPPER = new ObjectMapper();
  static final HttpClient HTTP =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();
  private static final Pattern LISTENING = Pattern.compile("listening on http://[^:]+:(\\d+)");

  final String name;
  private final Process process;
  private final ProcessOutput output;
  private int port = -1;

  private JarServer(String name, Process process) {
    this.name = name;
    this.process = process;
    this.output = new ProcessOutput(process, name + "-output");
  }

  /** Starts {@code java -jar aggregator-server.jar --port 0 --log-file DIR/NAME.log ARGS}. */
  static JarServer start(String name, Path dir, String... args) throws IOException {
    return start(name, dir, Map.of(), args);
  }

  /** Like {@link #start(String, Path, String...)}, with these environment variables set too. */
  static JarServer start(String name, Path dir, Map<String, String> env, String... args)
      throws IOException {
    String jar = System.getProperty("aggregator.server.jar", "target/aggregator-server.jar");
    assertTrue(Files.isRegularFile(Path.of(jar)), "the shaded jar is not built: " + jar);
    List<String> command =
        new ArrayList<>(
            List.of(
                ProcessHandle.current().info().command().orElse("java"),
                "-Xmx256m",
                "-jar",
                jar,
                "--port",
                "0",
                "--log-level",
                "WARN",
                "--db",
                dir.resolve(name + ".db").toString(),
                "--log-file",
                dir.resolve(name + ".log").toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().putAll(env);
    return new JarServer(name, pb.start());
  }

  /** Waits for the "listening on" line and returns the port; fails with the output so far. */
  int awaitListening(Duration timeout) throws InterruptedException {
    Matcher m = LISTENING.matcher(output.await("listening on http://", timeout, name));
    assertTrue(m.find(), name + ": no port in the listening line:\n" + output());
    port = Integer.parseInt(m.group(1));
    return port;
  }

  /** Waits for a line containing {@code text}; fails with the output so far. */
  String awaitLine(String text, Duration timeout) throws InterruptedException {
    return output.await(text, timeout, name);
  }

  /** Everything printed so far. */
  String output() {
    return output.soFar();
  }

  URI uri(String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + port + pathAndQuery);
  }

  /** POSTs {@code body}; fails unless the status is {@code expected}. */
  JsonNode post(String path, String body, int expected) throws IOException, InterruptedException {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(uri(path))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(expected, r.statusCode(), name + " POST " + path + ": " + r.body());
    return MAPPER.readTree(r.body());
  }

  /** GETs a JSON 200 answer. */
  JsonNode get(String pathAndQuery) throws IOException, InterruptedException {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(uri(pathAndQuery)).timeout(Duration.ofSeconds(30)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), name + " GET " + pathAndQuery + ": " + r.body());
    return MAPPER.readTree(r.body());
  }

  /** Waits for the process to exit by itself; its status, after its output is read. */
  int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new AssertionError(name + " did not exit within " + timeout + ":\n" + output());
    }
    output.all(); // every line printed is read
    return process.exitValue();
  }

  /** SIGTERM, then up to 30 s for the clean exit (0); killed if it does not come. */
  int stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError(name + " did not stop within 30 s:\n" + output());
    }
    return process.exitValue();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
    }
  }
}
