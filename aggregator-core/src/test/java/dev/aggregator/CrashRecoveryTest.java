package dev.aggregator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.sqlite.SqliteDedupStore;
import dev.aggregator.store.StoreStats;
import dev.aggregator.testing.Await;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Process-level durability: a child JVM publishes continuously and is killed with SIGKILL at a
 * random moment, 6 times in a row on the same file. After each kill the store must reopen, hold
 * every event whose publish had completed exactly once (with a count limit: the newest of them),
 * and have counters equal to its rows.
 */
class CrashRecoveryTest {
  @TempDir Path dir;

  @Test
  void sigkillWhilePublishing_everyAcknowledgedEventStoredOnce_countersEqualRows()
      throws Exception {
    Path db = dir.resolve("crash.db");
    Random random = new Random();
    Set<String> acknowledged = new HashSet<>();
    for (int run = 0; run < 6; run++) {
      long killAfterMs = random.nextInt(1200);
      List<String> ackedThisRun = keys(runAndKill(db, run, killAfterMs));
      acknowledged.addAll(ackedThisRun);

      try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
        StoreStats stats = store.stats();
        Set<String> stored = new HashSet<>();
        long rows = 0;
        for (String topic : stats.topicCounts().keySet()) {
          String cursor = null;
          do {
            EventPage page = store.events(EventQuery.topic(topic).limit(1000).after(cursor));
            for (StoredEvent e : page.events()) {
              rows++;
              assertTrue(
                  stored.add(topic + " " + e.event().eventId()),
                  "stored twice: " + topic + " " + e.event().eventId());
            }
            cursor = page.next();
          } while (cursor != null);
        }
        for (String key : acknowledged) {
          assertTrue(stored.contains(key), "acknowledged but lost after kill " + run + ": " + key);
        }
        assertEquals(rows, stats.uniqueProcessed(), "unique_processed vs rows, run " + run);
        assertEquals(stats.received(), stats.uniqueProcessed() + stats.duplicateDropped());
        System.out.printf(
            "kill %d after %d ms: %d acks this run, %d stored rows, received %d%n",
            run, killAfterMs, ackedThisRun.size(), rows, stats.received());
      }
    }
    assertTrue(acknowledged.size() > 1000, "too few acknowledged events to mean much");
  }

  /**
   * The same with a limit of 2,000 stored events: every transaction also removes the oldest. After
   * each kill the counters must equal the rows, at most 2,000 may be stored, and the newest
   * acknowledged events must be among them (all but the last 8 calls of up to 50 events, which may
   * have committed after the last acknowledgement seen, pushing older ones out).
   */
  @Test
  void sigkillWhileRemovingTheOldest_countersEqualRows_newestAcknowledgedKept() throws Exception {
    Path db = dir.resolve("expiring.db");
    int maxStored = 2_000;
    Random random = new Random();
    long acknowledgedInAll = 0;
    long expiredInAll = 0;
    for (int run = 0; run < 4; run++) {
      List<String> lines = runAndKill(db, run, random.nextInt(1200), "" + maxStored);
      assertEquals(
          List.of(),
          lines.stream().filter(l -> l.startsWith("DUP ")).limit(5).toList(),
          "new keys answered as duplicates, run " + run);
      List<String> acked = keys(lines);
      acknowledgedInAll += acked.size();
      try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
        StoreStats stats = store.stats();
        Set<String> stored = new HashSet<>();
        for (String topic : stats.topicCounts().keySet()) {
          String cursor = null;
          do {
            EventPage page = store.events(EventQuery.topic(topic).limit(1000).after(cursor));
            for (StoredEvent e : page.events()) {
              assertTrue(stored.add(topic + " " + e.event().eventId()), "stored twice");
            }
            cursor = page.next();
          } while (cursor != null);
        }
        assertEquals(stored.size(), stats.stored(), "stored vs rows, run " + run);
        assertEquals(stats.uniqueProcessed() - stats.expired(), stats.stored());
        assertEquals(stats.received(), stats.uniqueProcessed() + stats.duplicateDropped());
        assertEquals(
            Math.min(maxStored, stats.uniqueProcessed()),
            stats.stored(),
            "the limit, or every event while fewer, run " + run);
        List<String> newest =
            acked.subList(Math.max(0, acked.size() - (maxStored - 400)), acked.size());
        for (String key : newest) {
          assertTrue(stored.contains(key), "acknowledged, among the newest, but gone: " + key);
        }
        expiredInAll = stats.expired();
        System.out.printf(
            "expiring kill %d: %d acks, %d stored, %d expired%n",
            run, acked.size(), stats.stored(), stats.expired());
      }
    }
    assertTrue(acknowledgedInAll > 1000, "too few acknowledged events to mean much");
    assertTrue(expiredInAll > 0, "the limit was never reached: nothing was removed");
  }

  /** The keys {@code <topic> <event_id>} of acknowledgement lines. */
  private static List<String> keys(List<String> lines) {
    return lines.stream().map(l -> l.substring(4)).toList();
  }

  /**
   * Runs {@link CrashPublisher} on {@code db}, kills it with SIGKILL {@code killAfterMs} after its
   * first acknowledgement, and returns its acknowledgements in order: {@code ACK <topic>
   * <event_id>}, or {@code DUP <topic> <event_id>} for a duplicate where the child tells them
   * apart.
   *
   * <p>The child writes them to a file, read once it is dead: a pipe read while the child dies can
   * end in "Stream closed" (the JDK's reaper drains and closes it under the reader), losing the
   * last lines, and with them what these tests check.
   */
  private static List<String> runAndKill(Path db, int run, long killAfterMs, String... extraArgs)
      throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                ProcessHandle.current().info().command().orElse("java"),
                "-cp",
                System.getProperty("java.class.path"),
                CrashPublisher.class.getName(),
                db.toString(),
                Integer.toString(run)));
    command.addAll(List.of(extraArgs));
    Path output = db.resolveSibling(db.getFileName() + "-run" + run + ".out");
    Process child =
        new ProcessBuilder(command)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .redirectOutput(output.toFile())
            .start();
    // The kill comes at a random moment once publishing is under way (JVM start-up time varies
    // a lot on a loaded machine, so the clock starts at the first acknowledgement).
    Await.until(
        "the first acknowledgement, run " + run,
        Duration.ofSeconds(60),
        () -> {
          assertTrue(child.isAlive(), "child exited before publishing, run " + run);
          return acknowledgedOnce(output);
        });
    assertFalse(
        child.waitFor(killAfterMs, TimeUnit.MILLISECONDS), "child exited on its own, run " + run);
    child.destroyForcibly(); // SIGKILL on Linux
    assertTrue(child.waitFor(30, TimeUnit.SECONDS), "child did not die");
    List<String> acks = new ArrayList<>();
    for (String line : Files.readAllLines(output, StandardCharsets.US_ASCII)) {
      // A line cut by the kill has no ';' and does not count.
      if ((line.startsWith("ACK ") || line.startsWith("DUP ")) && line.endsWith(";")) {
        acks.add(line.substring(0, line.length() - 1));
      }
    }
    return acks;
  }

  private static boolean acknowledgedOnce(Path output) throws IOException {
    if (Files.size(output) == 0) {
      return false;
    }
    try (InputStream in = Files.newInputStream(output)) {
      return new String(in.readNBytes(4096), StandardCharsets.US_ASCII).contains("ACK ");
    }
  }
}
