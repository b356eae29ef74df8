package dev.aggregator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aggregator.sqlite.SqliteDedupStore;
import dev.aggregator.testing.Await;
import dev.aggregator.testing.RequiresRoot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real store faults under a running aggregator: the disk fills up, the database file is deleted;
 * and a read-only disk at start. Each time: publishes fail with a StoreException naming the cause,
 * nothing acknowledged is lost, health turns unhealthy with the reason, and ingest recovers on its
 * own once the fault is gone. The disk is a small tmpfs mounted for the test (the tests run as
 * root, as CI does here).
 */
class StoreFaultTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @TempDir Path dir;
  private Path mount;

  @AfterEach
  void unmount() throws Exception {
    if (mount != null) {
      run("umount", "-l", mount.toString());
    }
  }

  private static void run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
    }
  }

  private Path smallDisk(String size) throws Exception {
    mount = dir.resolve("disk");
    Files.createDirectories(mount);
    run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", mount.toString());
    return mount;
  }

  private static List<Event> batch(String prefix, int n) {
    ObjectNode payload = MAPPER.createObjectNode().put("filler", "x".repeat(900));
    List<Event> events = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      events.add(Event.of("t", prefix + "-" + i, payload));
    }
    return events;
  }

  /** Every acknowledged key is stored once, and counters equal the rows. */
  private static void assertStoreHolds(Path db, Set<String> acknowledged) {
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      Set<String> stored = new HashSet<>();
      String cursor = null;
      do {
        EventPage page = store.events(EventQuery.topic("t").limit(1000).after(cursor));
        page.events().forEach(e -> assertTrue(stored.add(e.event().eventId()), "stored twice"));
        cursor = page.next();
      } while (cursor != null);
      assertTrue(stored.containsAll(acknowledged), "an acknowledged event was lost");
      assertEquals(stored.size(), store.stats().uniqueProcessed());
      assertEquals(
          store.stats().received(),
          store.stats().uniqueProcessed() + store.stats().duplicateDropped());
    }
  }

  @RequiresRoot
  @Test
  void diskFull_publishFailsUnhealthyThenRecoversWhenSpaceReturns() throws Exception {
    Path db = smallDisk("2m").resolve("full.db");
    Set<String> acknowledged = new HashSet<>();
    try (EventAggregator agg = EventAggregator.builder().store(SqliteDedupStore.open(db)).build()) {
      StoreException failure = null;
      for (int b = 0; b < 100 && failure == null; b++) {
        List<Event> events = batch("b" + b, 100);
        try {
          agg.publish(events).join();
          events.forEach(e -> acknowledged.add(e.eventId()));
        } catch (CompletionException e) {
          failure = assertInstanceOf(StoreException.class, e.getCause());
        }
      }
      assertNotNull(failure, "a 2 MiB disk never filled up");
      assertTrue(failure.getMessage().contains("SQLITE_FULL"), failure.getMessage());
      assertTrue(failure.getMessage().contains(db.toString()), failure.getMessage());
      Health sick = agg.health();
      assertFalse(sick.healthy());
      assertTrue(sick.reason().contains("SQLITE_FULL"), sick.reason());

      run("mount", "-o", "remount,size=64m", mount.toString());
      Await.until(
          "the writer's probe sees the disk has room again",
          Duration.ofSeconds(20),
          () -> agg.health().healthy());
      List<Event> after = batch("after", 100);
      assertEquals(100, agg.publish(after).join().accepted());
      after.forEach(e -> acknowledged.add(e.eventId()));
    }
    assertStoreHolds(db, acknowledged);
  }

  /**
   * A disk that is read-only when the aggregator starts. (Turning a disk read-only under an open
   * database needs a forced remount: the kernel refuses {@code remount,ro} while files are open for
   * writing, and an I/O error from a forced one looks to SQLite like the full disk above.)
   */
  @RequiresRoot
  @Test
  void diskReadOnlyAtOpen_failsNamingTheFile() throws Exception {
    Path db = smallDisk("8m").resolve("ro.db");
    try (EventAggregator agg = EventAggregator.builder().store(SqliteDedupStore.open(db)).build()) {
      agg.publish(batch("before", 10)).join();
    }
    run("mount", "-o", "remount,ro", mount.toString());
    StoreException e = assertThrows(StoreException.class, () -> SqliteDedupStore.open(db));
    assertTrue(e.getMessage().contains(db.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("Read-only file system"), e.getMessage());
  }

  @Test
  void databaseFileDeleted_publishRefusedUntilFileIsBack() throws Exception {
    Path db = dir.resolve("deleted.db");
    Path rescue = dir.resolve("rescue-link.db");
    Set<String> acknowledged = new HashSet<>();
    try (EventAggregator agg = EventAggregator.builder().store(SqliteDedupStore.open(db)).build()) {
      List<Event> before = batch("before", 50);
      agg.publish(before).join();
      before.forEach(e -> acknowledged.add(e.eventId()));

      Files.createLink(rescue, db); // keeps the inode, so the file can be put back
      Files.delete(db);
      CompletionException e =
          assertThrows(CompletionException.class, () -> agg.publish(batch("gone", 10)).join());
      assertTrue(e.getCause().getMessage().contains("was deleted or replaced"), e.getMessage());
      assertFalse(agg.health().healthy());

      Files.createLink(db, rescue);
      Await.until(
          "the probe sees the file back", Duration.ofSeconds(20), () -> agg.health().healthy());
      List<Event> after = batch("gone", 10);
      assertEquals(10, agg.publish(after).join().accepted());
      after.forEach(ev -> acknowledged.add(ev.eventId()));
    }
    assertStoreHolds(db, acknowledged);
  }
}
