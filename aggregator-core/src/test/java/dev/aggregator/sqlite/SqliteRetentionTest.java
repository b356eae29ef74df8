package dev.aggregator.sqlite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.EventQuery;
import dev.aggregator.Outcome;
import dev.aggregator.StoreException;
import dev.aggregator.store.AppendResult;
import dev.aggregator.store.PendingEvent;
import dev.aggregator.store.Retention;
import dev.aggregator.store.StoreStats;
import dev.aggregator.store.TestClock;
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

/**
 * What is particular to retention in the SQLite store: bounded steps, flat file and index, the
 * check of counters against rows at open, seqs past 32 bits, the upgrade of a version 1 file.
 */
class SqliteRetentionTest {
  private static final Instant T0 = Instant.parse("2026-11-22T00:00:00Z");
  private static final String PAYLOAD = "{\"note\":\"" + "x".repeat(400) + "\"}";

  @TempDir Path dir;

  private final TestClock clock = new TestClock(T0);

  private static PendingEvent event(String topic, String id, Instant receivedAt) {
    return new PendingEvent(topic, id, T0, "test", PAYLOAD, receivedAt);
  }

  private static List<PendingEvent> batch(String prefix, int from, int count, Instant receivedAt) {
    List<PendingEvent> batch = new ArrayList<>(count);
    for (int i = from; i < from + count; i++) {
      batch.add(event("t" + (i % 3), prefix + i, receivedAt));
    }
    return batch;
  }

  private static long query(Path db, String sql) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static void execute(Path db, String... sql) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement s = c.createStatement()) {
      for (String statement : sql) {
        s.executeUpdate(statement);
      }
    }
  }

  @Test
  void expiry_steadyState_fileAndKeyIndexStopGrowing() throws Exception {
    Path db = dir.resolve("steady.db");
    // 2,000 events a minute kept for ten minutes: about 20,000 stored at any time, 200,000 in all.
    try (SqliteDedupStore store = SqliteDedupStore.open(db);
        Connection reader = DriverManager.getConnection("jdbc:sqlite:" + db)) {
      store.retain(new Retention(Duration.ofMinutes(10), Long.MAX_VALUE, clock));
      long pagesAtWarm = 0;
      long indexAtWarm = 0;
      for (int minute = 0; minute < 100; minute++) {
        for (int b = 0; b < 4; b++) {
          clock.advance(Duration.ofSeconds(15));
          store.append(batch("k", (minute * 4 + b) * 500, 500, clock.instant()));
        }
        StoreStats s = store.stats();
        assertEquals(s.stored(), store.indexedKeys(), "keys in the index vs stored events");
        if (minute >= 10) {
          assertEquals(20_000, s.stored(), "minute " + minute);
        }
        if (minute == 30) {
          pagesAtWarm = pages(reader);
          indexAtWarm = store.indexBytes();
        }
      }
      assertEquals(180_000, store.stats().expired());
      long pages = pages(reader);
      // Freed pages are reused: the file holds about what the 20,000 stored events need, while
      // the 200,000 ingested would take ten times that.
      assertTrue(pages <= pagesAtWarm * 11 / 10, pages + " pages now, " + pagesAtWarm + " before");
      assertEquals(indexAtWarm, store.indexBytes(), "the key index grew");
    }
  }

  private static long pages(Connection c) throws Exception {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("PRAGMA page_count")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void expiry_backlog_eachTransactionRemovesABoundedStep() {
    try (SqliteDedupStore store = SqliteDedupStore.open(dir.resolve("steps.db"))) {
      store.retain(new Retention(Duration.ofHours(1), Long.MAX_VALUE, clock));
      for (int b = 0; b < 20; b++) {
        store.append(batch("old-", b * 1_000, 1_000, T0));
      }
      clock.advance(Duration.ofHours(2));
      store.append(List.of());
      assertEquals(SqliteDedupStore.MIN_EXPIRY_STEP, store.stats().expired(), "an empty append");
      store.append(batch("new-", 0, 3_000, clock.instant()));
      assertEquals(
          SqliteDedupStore.MIN_EXPIRY_STEP + 6_000,
          store.stats().expired(),
          "a batch of 3,000 removes up to twice its size");
      assertFalse(store.nextExpiry().get().isAfter(clock.instant()), "more is due");
      while (!store.nextExpiry().get().isAfter(clock.instant())) {
        store.append(List.of());
      }
      StoreStats s = store.stats();
      assertEquals(20_000, s.expired());
      assertEquals(3_000, s.stored());
      assertEquals(3_000, store.indexedKeys());
    }
  }

  @Test
  void expiry_fewOrManyTopicsInAStep_topicCountsEqualRowsEitherWay() throws Exception {
    // Up to 16 topics a step deletes topic by topic, beyond that by one seq range.
    Path db = dir.resolve("topics.db");
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      store.retain(new Retention(null, 500, clock));
      for (int b = 0; b < 20; b++) {
        int topics = b % 2 == 0 ? 3 : 40;
        List<PendingEvent> batch = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
          batch.add(event("topic-" + (i % topics), "k" + (b * 300 + i), T0));
        }
        store.append(batch);
        StoreStats s = store.stats();
        assertEquals(Math.min(500, (b + 1) * 300), s.stored());
        for (var t : s.topicCounts().entrySet()) {
          assertEquals(
              t.getValue().longValue(),
              query(
                  db,
                  "SELECT count(*) FROM events e JOIN topics t ON t.id = e.topic_id"
                      + " WHERE t.name = '"
                      + t.getKey()
                      + "'"),
              t.getKey() + " after batch " + b);
        }
      }
    }
  }

  @Test
  void open_rowsDeletedByHand_refusesNamingBothFigures() throws Exception {
    Path db = dir.resolve("tampered.db");
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      store.append(batch("k", 0, 1_000, T0));
    }
    execute(db, "DELETE FROM events WHERE seq BETWEEN 400 AND 499");
    StoreException e = assertThrows(StoreException.class, () -> SqliteDedupStore.open(db));
    assertTrue(e.getMessage().contains("1000 events are stored"), e.getMessage());
    assertTrue(e.getMessage().contains("holds 900"), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
  }

  @Test
  void open_lastRowsDeletedAndCountersAdjustedByHand_refusesNamingTheSeqs() throws Exception {
    Path db = dir.resolve("cut.db");
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      store.append(batch("k", 0, 100, T0));
    }
    execute(
        db,
        "DELETE FROM events WHERE seq <= 10",
        "UPDATE counters SET received = 90, unique_processed = 90",
        "UPDATE topics SET event_count = event_count - 4 WHERE id = 0",
        "UPDATE topics SET event_count = event_count - 3 WHERE id > 0");
    StoreException e = assertThrows(StoreException.class, () -> SqliteDedupStore.open(db));
    assertTrue(e.getMessage().contains("events 1 to 90 are stored"), e.getMessage());
    assertTrue(e.getMessage().contains("holds 11 to 100"), e.getMessage());
  }

  @Test
  void seqsPast32Bits_keysStayExactAcrossExpiryAndReopen() throws Exception {
    Path db = dir.resolve("old.db");
    SqliteDedupStore.open(db).close();
    // A store that has taken and expired 2^32 - 3 events: the next seqs pass 2^32.
    long taken = (1L << 32) - 3;
    execute(
        db,
        "UPDATE counters SET received = "
            + taken
            + ", unique_processed = "
            + taken
            + ", expired = "
            + taken);
    Retention retention = new Retention(Duration.ofHours(1), Long.MAX_VALUE, clock);
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      store.retain(retention);
      assertTrue(store.append(batch("a", 0, 10, T0)).stream().allMatch(o -> o == Outcome.ACCEPTED));
      assertTrue(
          store.append(batch("a", 0, 10, T0)).stream().allMatch(o -> o == Outcome.DUPLICATE));
    }
    assertEquals((1L << 32) + 7, query(db, "SELECT max(seq) FROM events"));
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      store.retain(retention);
      assertTrue(
          store.append(batch("a", 5, 10, T0)).stream()
              .limit(5)
              .allMatch(o -> o == Outcome.DUPLICATE));
      clock.advance(Duration.ofHours(2));
      assertTrue(
          store.append(batch("a", 0, 15, clock.instant())).stream()
              .allMatch(o -> o == Outcome.ACCEPTED));
      while (!store.nextExpiry().get().isAfter(clock.instant())) {
        store.append(List.of());
      }
      assertEquals(15, store.stats().stored());
      assertEquals(15, store.indexedKeys());
    }
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      assertEquals(15, store.stats().stored());
      assertTrue(
          store.append(batch("a", 0, 15, T0)).stream().allMatch(o -> o == Outcome.DUPLICATE));
    }
  }

  @Test
  void open_version1File_upgradedInPlace_eventsKeptAndCountedFromTheUpgrade() throws Exception {
    Path db = dir.resolve("v1.db");
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      store.append(batch("k", 0, 300, T0));
      store.append(batch("k", 0, 10, T0));
    }
    // What version 1 wrote: the same tables without the columns retention added.
    execute(
        db,
        "ALTER TABLE counters DROP COLUMN expired",
        "ALTER TABLE counters DROP COLUMN payload_conflicts",
        "ALTER TABLE events DROP COLUMN received_ns",
        "ALTER TABLE key_blocks DROP COLUMN topics",
        "ALTER TABLE key_blocks DROP COLUMN received_ns",
        "DROP TABLE time_blocks",
        "PRAGMA user_version = 1");
    Instant beforeUpgrade = Instant.now();
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      assertEquals(SqliteDedupStore.SCHEMA_VERSION, query(db, "PRAGMA user_version"));
      StoreStats s = store.stats();
      assertEquals(310, s.received());
      assertEquals(300, s.stored());
      assertEquals(0, s.expired());
      assertTrue(
          store.append(batch("k", 0, 300, T0)).stream().allMatch(o -> o == Outcome.DUPLICATE));
      // Their retention counts from the upgrade, not from their (older) receive time.
      clock.set(beforeUpgrade.plus(Duration.ofHours(1)).minusSeconds(1));
      store.retain(new Retention(Duration.ofHours(1), Long.MAX_VALUE, clock));
      assertEquals(100, store.events(EventQuery.topic("t0").limit(1000)).events().size());
      clock.set(Instant.now().plus(Duration.ofHours(1)));
      store.append(List.of());
      assertEquals(0, store.events(EventQuery.topic("t0").limit(1000)).events().size());
      assertEquals(300, store.stats().expired());
    }
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      assertEquals(0, store.stats().stored());
    }
  }

  @Test
  void comparePayloadsOff_differentPayload_isDuplicateWithoutConflict() {
    try (SqliteDedupStore store =
        SqliteDedupStore.builder(dir.resolve("nocompare.db")).comparePayloads(false).open()) {
      store.append(List.of(new PendingEvent("t", "a", T0, "", "{\"v\":1}", T0)));
      List<Outcome> outcomes =
          store.append(List.of(new PendingEvent("t", "a", T0, "", "{\"v\":2}", T0)));
      assertEquals(List.of(Outcome.DUPLICATE), outcomes);
      assertEquals(List.of(), AppendResult.conflictsOf(outcomes));
      assertEquals(0, store.stats().payloadConflicts());
    }
  }
}
