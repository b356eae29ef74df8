package dev.aggregator.server.reliability;

import dev.aggregator.server.ProcessOutput;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The built {@code aggregator-server.jar} as a child JVM (the same java binary as the test), with
 * its output collected line by line so a test can wait for a line with a deadline.
 */
final class ChildServer implements AutoCloseable {
  final Process process;
  final int port;
  private final ProcessOutput output;

  private ChildServer(Process process, int port) {
    this.process = process;
    this.port = port;
    this.output = new ProcessOutput(process, "child-output-" + port);
  }

  /** Starts the jar on a free port with these extra arguments; does not wait for it. */
  static ChildServer start(List<String> jvmArgs, String... args) throws IOException {
    int port = freePort();
    List<String> command = new ArrayList<>();
    command.add(java());
    command.addAll(jvmArgs);
    command.addAll(List.of("-jar", jar(), "--port", String.valueOf(port)));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    return new ChildServer(p, port);
  }

  /** Starts the jar and waits until it listens. */
  static ChildServer startAndAwait(Duration timeout, String... args)
      throws IOException, InterruptedException {
    ChildServer c = start(List.of(), args);
    try {
      c.await("listening on http://", timeout);
    } catch (AssertionError | InterruptedException e) {
      c.close();
      throw e;
    }
    return c;
  }

  static String java() {
    return ProcessHandle.current().info().command().orElse("java");
  }

  static String jar() {
    String jar = System.getProperty("aggregator.server.jar", "target/aggregator-server.jar");
    if (!Files.isRegularFile(Path.of(jar))) {
      throw new AssertionError("the shaded jar is not built: " + jar);
    }
    return jar;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Waits for a line containing {@code text}; fails with everything printed so far. */
  String await(String text, Duration timeout) throws InterruptedException {
    return output.await(text, timeout, "child on port " + port);
  }

  /** Exit status; kills the child and fails if it does not exit in time. */
  int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("child did not exit within " + timeout + ":\n" + output());
    }
    return process.exitValue();
  }

  /** Everything printed so far (after exit: everything). */
  String output() throws InterruptedException {
    return output.all();
  }

  /** SIGKILL, then waits for the process to be gone. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("child survived SIGKILL for 30 s");
    }
  }

  /** SIGTERM through the handle, which (unlike Process#destroy) leaves our end of its pipe open. */
  void terminate() {
    process.toHandle().destroy();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
