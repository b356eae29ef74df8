package dev.aggregator.http;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The output of a child server process, read line by line on a daemon thread, so that a test can
 * wait for a line with a deadline and show everything printed when it fails. Shared by every test
 * that runs the jar as a child process.
 */
public final class ProcessOutput {
  private final Process process;
  private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final List<String> seen = new ArrayList<>(); // guarded by this
  private final Thread reader;

  /** Starts reading {@code process}'s standard output (with its errors redirected into it). */
  public ProcessOutput(Process process, String threadName) {
    this.process = process;
    this.reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                  lines.add(line);
                }
              } catch (IOException e) {
                lines.add("<output closed: " + e + ">");
              }
            },
            threadName);
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Waits for the next line containing {@code text} and returns it.
   *
   * @throws AssertionError naming {@code who} and showing everything printed, if none comes in time
   */
  public synchronized String await(String text, Duration timeout, String who)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      String line = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
      if (line == null) {
        throw new AssertionError(
            who + ": no line containing '" + text + "' within " + timeout + ":\n" + soFar());
      }
      seen.add(line);
      if (line.contains(text)) {
        return line;
      }
    }
  }

  /** Everything printed so far. */
  public synchronized String soFar() {
    lines.drainTo(seen);
    return String.join("\n", seen);
  }

  /** Everything printed: once the process has exited, up to the end of its output. */
  public String all() throws InterruptedException {
    if (!process.isAlive()) {
      reader.join(TimeUnit.SECONDS.toMillis(10)); // the reader ends at the end of the output
    }
    return soFar();
  }
}
