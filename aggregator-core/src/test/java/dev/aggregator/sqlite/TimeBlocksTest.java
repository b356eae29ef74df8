package dev.aggregator.sqlite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.EventQuery;
import dev.aggregator.StoredEvent;
import dev.aggregator.store.PendingEvent;
import dev.aggregator.store.Retention;
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
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The time_blocks summary behind range queries: its shape on disk, upgrades and expiry. */
class TimeBlocksTest {
  private static final Instant T0 = Instant.parse("2025-10-23T10:00:00Z");

  @TempDir Path dir;

  /** Events e{from}.. of topic t, one second apart from T0 + from seconds, received at r. */
  private static List<PendingEvent> batch(int from, int count, Instant receivedAt) {
    List<PendingEvent> batch = new ArrayList<>(count);
    for (int i = from; i < from + count; i++) {
      batch.add(new PendingEvent("t", "e" + i, T0.plusSeconds(i), "", "{}", receivedAt));
    }
    return batch;
  }

  private static List<long[]> blocks(Path db) throws Exception {
    List<long[]> rows = new ArrayList<>();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT first_seq, end_seq, min_ns, max_ns FROM time_blocks ORDER BY first_seq")) {
      while (rs.next()) {
        rows.add(new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)});
      }
    }
    return rows;
  }

  private static List<String> ids(SqliteDedupStore store, Instant from, Instant to) {
    return store.events(EventQuery.topic("t").limit(1000).between(from, to)).events().stream()
        .map(StoredEvent::event)
        .map(e -> e.eventId())
        .collect(Collectors.toList());
  }

  private static long nanos(int second) {
    return T0.plusSeconds(second).getEpochSecond() * 1_000_000_000L;
  }

  @Test
  void append_smallBatches_extendOneBlockUntilItIsFull_boundsExact() throws Exception {
    Path db = dir.resolve("blocks.db");
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      for (int i = 0; i < 3000; i += 30) {
        store.append(batch(i, 30, T0));
      }
      assertEquals(
          List.of("e1500", "e1501"), ids(store, T0.plusSeconds(1500), T0.plusSeconds(1502)));
    }
    List<long[]> blocks = blocks(db);
    // 30-event commits extend a block until it covers 1,024 events or more: 35 commits each.
    assertEquals(3, blocks.size());
    long seq = 1;
    for (long[] b : blocks) {
      assertEquals(seq, b[0], "blocks follow each other without a gap");
      seq = b[1];
      assertEquals(nanos((int) b[0] - 1), b[2], "min of block " + b[0]);
      assertEquals(nanos((int) b[1] - 2), b[3], "max of block " + b[0]);
    }
    assertEquals(3001, seq);
  }

  @Test
  void lateEvents_listedAsOutliers_coresStayTight_rangesAndTimestampOrderExact() throws Exception {
    Path db = dir.resolve("late.db");
    List<String[]> model = new ArrayList<>(); // id, instant
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      List<PendingEvent> batch = new ArrayList<>();
      for (int i = 0; i < 5000; i++) {
        // Every 100th event ten minutes late, the others a second apart.
        Instant ts = T0.plusSeconds(i - (i % 100 == 99 ? 600 : 0));
        batch.add(new PendingEvent(i % 2 == 0 ? "t" : "u", "e" + i, ts, "", "{}", T0));
        if (i % 2 == 0) {
          model.add(new String[] {"e" + i, ts.toString()});
        }
        if (batch.size() == 50) {
          store.append(batch);
          batch.clear();
        }
      }
      for (int k = 0; k < 30; k++) {
        Instant from = T0.plusSeconds(97L * k + 300);
        Instant to = from.plusSeconds(60);
        for (EventQuery.OrderBy by : EventQuery.OrderBy.values()) {
          for (EventQuery.Order order : EventQuery.Order.values()) {
            List<String[]> expected = new ArrayList<>();
            for (String[] e : model) {
              Instant t = Instant.parse(e[1]);
              if (!t.isBefore(from) && t.isBefore(to)) {
                expected.add(e);
              }
            }
            if (by == EventQuery.OrderBy.TIMESTAMP) {
              expected.sort((a, b) -> Instant.parse(a[1]).compareTo(Instant.parse(b[1])));
            }
            if (order == EventQuery.Order.DESC) {
              java.util.Collections.reverse(expected);
            }
            List<String> ids = new ArrayList<>();
            EventQuery q =
                EventQuery.topic("t").limit(7).between(from, to).orderBy(by).order(order);
            while (true) {
              var page = store.events(q);
              page.events().forEach(e -> ids.add(e.event().eventId()));
              if (page.next() == null) {
                break;
              }
              q = q.after(page.next());
            }
            assertEquals(
                expected.stream().map(e -> e[0]).collect(Collectors.toList()),
                ids,
                from + " " + by + " " + order);
          }
        }
      }
    }
    for (long[] b : blocks(db)) {
      // The late events are outliers: the cores span the block's own seconds, not ten minutes more.
      assertTrue(b[3] - b[2] >= 600_000_000_000L, "bounds include the late events");
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT max(core_max_ns - core_min_ns), sum(length(outliers)) / 20"
                    + " FROM time_blocks")) {
      rs.next();
      assertTrue(rs.getLong(1) < 1100_000_000_000L, "core span " + rs.getLong(1));
      // A late event whose time falls inside its own block's seconds is in the core; the 50 late
      // events land outside it unless they come in the last 590 s of a block's 1,050.
      assertTrue(
          rs.getLong(2) >= 25 && rs.getLong(2) <= 50, "late events listed: " + rs.getLong(2));
    }
  }

  @Test
  void open_version2File_oneUnboundedBlockForOldEvents_rangesSeeOldAndNew() throws Exception {
    Path db = dir.resolve("v2.db");
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      store.append(batch(0, 300, T0));
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement s = c.createStatement()) {
      s.executeUpdate("DROP TABLE time_blocks");
      s.executeUpdate("PRAGMA user_version = 2");
    }
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      assertEquals(
          List.of(List.of(1L, 301L, Long.MIN_VALUE, Long.MAX_VALUE)),
          blocks(db).stream()
              .map(b -> List.of(b[0], b[1], b[2], b[3]))
              .collect(Collectors.toList()));
      assertEquals(List.of("e100", "e101"), ids(store, T0.plusSeconds(100), T0.plusSeconds(102)));
      store.append(batch(300, 10, T0));
      assertEquals(List.of("e299", "e300"), ids(store, T0.plusSeconds(299), T0.plusSeconds(301)));
    }
    List<long[]> blocks = blocks(db);
    assertEquals(2, blocks.size(), "a block of unknown bounds is not extended");
    assertEquals(
        List.of(301L, 311L, T0.plusSeconds(300).getEpochSecond() * 1_000_000_000L),
        List.of(blocks.get(1)[0], blocks.get(1)[1], blocks.get(1)[2]));
  }

  @Test
  void timeBlocksOff_rangesScanEverything_reopenedOn_untimedEventsGetOneBlock() throws Exception {
    Path db = dir.resolve("off.db");
    try (SqliteDedupStore store = SqliteDedupStore.builder(db).timeBlocks(false).open()) {
      store.append(batch(0, 100, T0));
      assertEquals(List.of("e50"), ids(store, T0.plusSeconds(50), T0.plusSeconds(51)));
    }
    assertEquals(0, blocks(db).size());
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      store.append(batch(100, 2000, T0));
      assertEquals(List.of("e50"), ids(store, T0.plusSeconds(50), T0.plusSeconds(51)));
    }
    try (SqliteDedupStore store = SqliteDedupStore.builder(db).timeBlocks(false).open()) {
      store.append(batch(2100, 10, T0)); // after the last block: read as one of unknown bounds
      assertEquals(List.of("e1500"), ids(store, T0.plusSeconds(1500), T0.plusSeconds(1501)));
      assertEquals(List.of("e2105"), ids(store, T0.plusSeconds(2105), T0.plusSeconds(2106)));
    }
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      assertEquals(List.of("e2105"), ids(store, T0.plusSeconds(2105), T0.plusSeconds(2106)));
      assertEquals(List.of("e1500"), ids(store, T0.plusSeconds(1500), T0.plusSeconds(1501)));
    }
    List<long[]> blocks = blocks(db);
    assertEquals(
        List.of(1L, 101L, Long.MIN_VALUE),
        List.of(blocks.get(0)[0], blocks.get(0)[1], blocks.get(0)[2]));
    long seq = 1;
    for (long[] b : blocks) {
      assertEquals(seq, b[0], "blocks follow each other without a gap");
      seq = b[1];
    }
    assertEquals(2111, seq);
  }

  @Test
  void expiry_removesTheBlocksOfRemovedEvents_rangesStayExact() throws Exception {
    Path db = dir.resolve("expiry.db");
    TestClock clock = new TestClock(T0);
    try (SqliteDedupStore store = SqliteDedupStore.open(db)) {
      store.retain(new Retention(Duration.ofHours(1), Long.MAX_VALUE, clock));
      store.append(batch(0, 1500, clock.instant()));
      clock.advance(Duration.ofMinutes(40));
      store.append(batch(1500, 1500, clock.instant()));
      clock.advance(Duration.ofMinutes(30)); // the first 1,500 expired, the others not
      for (int appends = 0;
          store.nextExpiry().isPresent()
              && !store.nextExpiry().get().isAfter(clock.instant())
              && appends < 100;
          appends++) {
        store.append(List.of());
      }
      assertEquals(1500, store.stats().stored());
      assertEquals(List.of("e1500"), ids(store, T0.plusSeconds(1000), T0.plusSeconds(1501)));
    }
    List<long[]> blocks = blocks(db);
    assertEquals(1, blocks.size());
    assertEquals(1501, blocks.get(0)[0]);
    assertTrue(blocks.get(0)[1] == 3001);
  }
}
