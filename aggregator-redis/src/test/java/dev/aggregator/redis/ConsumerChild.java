package dev.aggregator.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.postgres.PostgresTestDatabase;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A {@link RedisConsumerProcess} JVM started by a kill test, the lines it printed on stdout, and
 * its log (stderr) for failure messages.
 */
record ConsumerChild(String name, Process process, BlockingQueue<String> lines, Path log) {

  /**
   * Starts a consumer of {@code url} into the PostgreSQL {@code schema}.
   *
   * @param stallAfterAcked see {@link RedisConsumerProcess}; -1 for none
   */
  static ConsumerChild start(
      String name, String url, String schema, long claimIdleMillis, long stallAfterAcked)
      throws IOException {
    Path log = Files.createTempFile("redis-consumer-" + name + "-", ".log");
    List<String> command =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx256m",
            "-cp",
            System.getProperty("java.class.path"),
            RedisConsumerProcess.class.getName(),
            url,
            PostgresTestDatabase.URL,
            schema,
            name,
            Long.toString(claimIdleMillis),
            Long.toString(stallAfterAcked));
    Process process =
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.to(log.toFile())).start();
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  lines.add(line);
                }
              } catch (IOException e) {
                // the process is gone; awaitLine reports the missing line
              }
            },
            "stdout-" + name);
    reader.setDaemon(true);
    reader.start();
    return new ConsumerChild(name, process, lines, log);
  }

  /** The first line starting with {@code prefix}, or an AssertionError with the log's tail. */
  String awaitLine(String prefix, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (line == null) {
        throw new AssertionError(
            name + " printed no '" + prefix + "' within " + timeout + "; its log:\n" + tail());
      }
      if (line.startsWith(prefix)) {
        return line;
      }
    }
  }

  /** SIGKILL, and waits until the process is gone. */
  void kill() throws Exception {
    process.destroyForcibly();
    assertTrue(process.waitFor(30, TimeUnit.SECONDS), name + " did not die");
    assertTrue(process.exitValue() != 0, name + " exited " + process.exitValue());
  }

  /** Asks the consumer to close, waits for its exit 0, and returns the stats it printed. */
  Map<String, Long> stop(Duration timeout) throws Exception {
    OutputStream stdin = process.getOutputStream();
    stdin.write("stop\n".getBytes(StandardCharsets.UTF_8));
    stdin.flush();
    String line = awaitLine("STATS", timeout);
    assertTrue(process.waitFor(30, TimeUnit.SECONDS), name + " did not exit");
    assertEquals(0, process.exitValue(), tail());
    Map<String, Long> stats = new HashMap<>();
    for (String field : line.substring("STATS ".length()).split(" ")) {
      String[] kv = field.split("=");
      stats.put(kv[0], Long.parseLong(kv[1]));
    }
    return stats;
  }

  String tail() throws IOException {
    List<String> all = Files.readAllLines(log);
    return String.join("\n", all.subList(Math.max(0, all.size() - 40), all.size()));
  }
}
