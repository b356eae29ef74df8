package dev.aggregator.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The output of a child server process, read line by line on a daemon thread, so that a test can
 * wait for a line with a deadline and show everything printed when it fails. Shared by every test
 * that runs the jar as a child process.
 *
 * <p>{@link #await} moves a cursor through the lines; showing the output ({@link #soFar}) never
 * moves it, so a failure message built before a later {@code await} cannot hide that line from it.
 */
public final class ProcessOutput {
  private final Process process;
  private final List<String> lines = new ArrayList<>(); // guarded by this
  private int awaited; // lines before this index were passed by await; guarded by this
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
                  add(line);
                }
              } catch (IOException e) {
                add("<output closed: " + e + ">");
              }
            },
            threadName);
    reader.setDaemon(true);
    reader.start();
  }

  private synchronized void add(String line) {
    lines.add(line);
    notifyAll();
  }

  /**
   * Waits for the next line containing {@code text} and returns it; the next call looks only at the
   * lines after it.
   *
   * @throws AssertionError naming {@code who} and showing everything printed, if none comes in time
   */
  public synchronized String await(String text, Duration timeout, String who)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      while (awaited < lines.size()) {
        String line = lines.get(awaited++);
        if (line.contains(text)) {
          return line;
        }
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError(
            who + ": no line containing '" + text + "' within " + timeout + ":\n" + soFar());
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
  }

  /** Everything printed so far. */
  public synchronized String soFar() {
    return String.join("\n", lines);
  }

  /** Everything printed: once the process has exited, up to the end of its output. */
  public String all() throws InterruptedException {
    if (!process.isAlive()) {
      reader.join(TimeUnit.SECONDS.toMillis(10)); // the reader ends at the end of the output
    }
    return soFar();
  }
}
