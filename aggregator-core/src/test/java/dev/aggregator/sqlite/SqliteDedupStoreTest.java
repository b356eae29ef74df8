package dev.aggregator.sqlite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.Outcome;
import dev.aggregator.StoreException;
import dev.aggregator.store.PendingEvent;
import dev.aggregator.store.StoreStats;
import dev.aggregator.testing.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What is particular to the SQLite store: files, schema, locking, rollback, the index. */
class SqliteDedupStoreTest {
  private static final Instant T0 = Instant.parse("2025-10-23T10:00:00Z");

  @TempDir Path dir;

  private static PendingEvent event(String topic, String id) {
    return new PendingEvent(topic, id, T0, "", "{}", T0);
  }

  @Test
  void open_missingDirectory_isCreated() {
    Path db = dir.resolve("a/b/c/store.db");
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      store.append(List.of(event("t", "1")));
    }
    assertTrue(Files.exists(db));
  }

  @Test
  void open_fileThatIsNotADatabase_failsNamingFileAndReason() throws Exception {
    Path db = dir.resolve("notes.db");
    Files.writeString(db, "these are my notes, not a database\n".repeat(200));
    StoreException e = assertThrows(StoreException.class, () -> SqliteDedupStore.open(db));
    assertTrue(e.getMessage().contains(db.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("not an SQLite database"), e.getMessage());
  }

  @Test
  void open_databaseOfAnotherApplication_failsNamingItsTables() throws Exception {
    Path db = dir.resolve("other.db");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement s = c.createStatement()) {
      s.executeUpdate("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)");
    }
    StoreException e = assertThrows(StoreException.class, () -> SqliteDedupStore.open(db));
    assertTrue(e.getMessage().contains("another application"), e.getMessage());
    assertTrue(e.getMessage().contains("customers"), e.getMessage());
  }

  @Test
  void open_newerSchemaVersion_failsAskingForUpgrade() throws Exception {
    Path db = dir.resolve("newer.db");
    SqliteDedupStore.open(db).close();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement s = c.createStatement()) {
      s.executeUpdate("PRAGMA user_version = " + (SqliteDedupStore.SCHEMA_VERSION + 1));
    }
    StoreException e = assertThrows(StoreException.class, () -> SqliteDedupStore.open(db));
    assertTrue(e.getMessage().contains("newer than this version supports"), e.getMessage());
  }

  @Test
  void open_directory_failsSayingSo() {
    StoreException e = assertThrows(StoreException.class, () -> SqliteDedupStore.open(dir));
    assertTrue(e.getMessage().contains("is a directory"), e.getMessage());
  }

  @Test
  void open_fileAlreadyOpen_failsInsteadOfSharingTheWriter() {
    Path db = dir.resolve("locked.db");
    try (SqliteDedupStore first = SqliteDedupStore.open(db)) {
      StoreException e = assertThrows(StoreException.class, () -> SqliteDedupStore.open(db));
      assertTrue(e.getMessage().contains("already open"), e.getMessage());
      assertEquals(List.of(Outcome.ACCEPTED), first.append(List.of(event("t", "1"))));
    }
    SqliteDedupStore.open(db).close(); // released on close
  }

  @Test
  void open_countersTamperedWith_failsAsInconsistent() throws Exception {
    Path db = dir.resolve("tampered.db");
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      store.append(List.of(event("t", "1"), event("t", "2")));
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement s = c.createStatement()) {
      s.executeUpdate("UPDATE counters SET unique_processed = 5, received = 5");
    }
    StoreException e = assertThrows(StoreException.class, () -> SqliteDedupStore.open(db));
    assertTrue(e.getMessage().contains("inconsistent"), e.getMessage());
  }

  @Test
  void append_failureMidBatch_rollsBackEverythingAndStoreKeepsWorking() throws Exception {
    Path db = dir.resolve("rollback.db");
    SqliteDedupStore.open(db).close();
    // A trigger makes SQLite fail on one event, in the middle of the batch's inserts.
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement s = c.createStatement()) {
      s.executeUpdate(
          "CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.event_id = 'poison'"
              + " BEGIN SELECT RAISE(ABORT, 'poisoned event'); END");
    }
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      store.append(List.of(event("old", "x")));
      StoreException e =
          assertThrows(
              StoreException.class,
              () ->
                  store.append(
                      List.of(event("new-topic", "a"), event("old", "b"), event("old", "poison"))));
      assertTrue(e.getMessage().contains(db.toString()), e.getMessage());
      assertTrue(e.getMessage().contains("poisoned event"), e.getMessage());
      StoreStats after = store.stats();
      assertEquals(1, after.received());
      assertEquals(List.of("old"), List.copyOf(after.topicCounts().keySet()));
      // Nothing of the failed batch went into the index: the same keys are new now.
      assertEquals(
          List.of(Outcome.ACCEPTED, Outcome.ACCEPTED),
          store.append(List.of(event("new-topic", "a"), event("old", "b"))));
    }
    try (SqliteDedupStore reopened = SqliteDedupStore.open(db);
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM events")) {
      rs.next();
      assertEquals(3, rs.getLong(1));
      assertEquals(3, reopened.stats().uniqueProcessed());
      assertEquals(
          List.of("old", "new-topic"), List.copyOf(reopened.stats().topicCounts().keySet()));
    }
  }

  @Test
  void reopen_indexRebuiltFromKeyBlocks_dedupsAcrossManyBatches() {
    Path db = dir.resolve("index.db");
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      for (int b = 0; b < 30; b++) {
        List<PendingEvent> batch = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
          batch.add(event("t" + (i % 3), "k-" + (b * 100 + i)));
        }
        store.append(batch);
      }
    }
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      for (int b = 0; b < 30; b++) {
        List<PendingEvent> batch = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
          batch.add(event("t" + (i % 3), "k-" + (b * 100 + i)));
        }
        assertTrue(store.append(batch).stream().allMatch(o -> o == Outcome.DUPLICATE));
      }
      assertEquals(3000, store.stats().uniqueProcessed());
      assertTrue(
          store.indexBytes() / 3000 < 64, "index bytes per key: " + store.indexBytes() / 3000);
    }
  }

  @Test
  void collidingHash_manyKeys_noFalseDuplicate() {
    // Every key hashes alike: each new key is compared against every stored key of the chain.
    try (SqliteDedupStore store =
        SqliteDedupStore.builder(dir.resolve("collide.db")).keyHasher((t, id) -> 7L).open()) {
      List<PendingEvent> batch = new ArrayList<>();
      for (int i = 0; i < 500; i++) {
        batch.add(event("t", "key-" + i));
      }
      assertTrue(store.append(batch).stream().allMatch(o -> o == Outcome.ACCEPTED));
      assertEquals(
          List.of(Outcome.DUPLICATE, Outcome.ACCEPTED),
          store.append(List.of(event("t", "key-250"), event("t", "key-500"))));
    }
  }

  @Test
  void probe_databaseFileDeleted_failsNamingTheFile_succeedsOnceItIsBack() throws Exception {
    Path db = dir.resolve("probed.db");
    Path rescue = dir.resolve("rescue.db");
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      store.append(List.of(event("t", "1")));
      store.probe();
      Files.createLink(rescue, db);
      Files.delete(db);
      StoreException e = assertThrows(StoreException.class, store::probe);
      assertTrue(
          e.getMessage().contains("probed.db") && e.getMessage().contains("deleted"),
          e.getMessage());
      Files.createLink(db, rescue);
      store.probe();
    }
  }

  @Test
  void lockFile_besideTheDatabaseWhileOpen_deletedOnClose() {
    Path db = dir.resolve("x.db");
    Path lock = dir.resolve("x.db.lock");
    SqliteDedupStore store = SqliteDedupStore.open(db);
    assertTrue(Files.exists(lock));
    store.close();
    assertFalse(Files.exists(lock), "close() left the lock file behind");
    store.close(); // idempotent: nothing to delete, nothing thrown
    SqliteDedupStore.open(db).close(); // and a later open takes the lock again
    assertFalse(Files.exists(lock));
  }

  @Test
  void lockFile_leftByACrash_isTakenOver_andDeletedOnClose() throws Exception {
    Path db = dir.resolve("crashed.db");
    Path lock = dir.resolve("crashed.db.lock");
    Files.writeString(lock, "pid 1 left behind\n"); // unlocked: its owner is gone
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      assertEquals(List.of(Outcome.ACCEPTED), store.append(List.of(event("t", "1"))));
      assertTrue(Files.readString(lock).startsWith("pid " + ProcessHandle.current().pid()));
    }
    assertFalse(Files.exists(lock));
  }

  @Test
  void lockFile_openFails_isDeletedToo() throws Exception {
    Path db = dir.resolve("notadb.db");
    Files.writeString(db, "this is not an SQLite database, but long enough to be read as one");
    assertThrows(StoreException.class, () -> SqliteDedupStore.open(db));
    assertFalse(Files.exists(dir.resolve("notadb.db.lock")));
  }

  @Test
  void walCheckpointer_copiesCommitsIntoTheFileWhileOpen_andStopsAtClose() throws Exception {
    Path db = dir.resolve("checkpoint.db");
    long threadsBefore = checkpointThreads();
    String payload = "{\"pad\":\"" + "x".repeat(1_000) + "\"}";
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      long sizeAtOpen = Files.size(db);
      for (int b = 0; b < 20; b++) { // ~2 MB: far below the writer's own 10,000-page threshold
        List<PendingEvent> batch = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
          batch.add(new PendingEvent("t", b + "-" + i, T0, "", payload, T0));
        }
        store.append(batch);
      }
      assertEquals(threadsBefore + 1, checkpointThreads());
      // Only a checkpoint moves pages from the WAL into the database file; the writer's own
      // automatic one would not run before 40 MB, so this is the background thread's doing.
      Await.value(
          "the WAL checkpointed into the database file (its size)",
          Duration.ofSeconds(10),
          () -> Files.size(db),
          size -> size >= sizeAtOpen + 1_500_000);
    }
    assertEquals(threadsBefore, checkpointThreads(), "close() left the checkpoint thread running");
  }

  private static long checkpointThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().equals("aggregator-checkpoint") && t.isAlive())
        .count();
  }
}
