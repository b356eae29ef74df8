package dev.aggregator.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.EventQuery;
import dev.aggregator.Outcome;
import dev.aggregator.StoreException;
import dev.aggregator.store.PendingEvent;
import dev.aggregator.store.Retention;
import dev.aggregator.store.StoreStats;
import dev.aggregator.store.TestClock;
import dev.aggregator.testing.RequiresPostgres;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What is particular to retention on PostgreSQL: bounded steps, several nodes sharing the work, the
 * check of counters against rows at open, the upgrade of a version 1 schema.
 */
@RequiresPostgres
class PostgresRetentionTest {
  private static final Instant T0 = Instant.parse("2026-11-22T00:00:00Z");
  private final String schema = PostgresTestDatabase.freshSchema();
  private final String s = "\"" + schema + "\".";
  private final TestClock clock = new TestClock(T0);
  private final List<PostgresDedupStore> opened = new ArrayList<>();

  @AfterEach
  void closeAndDrop() {
    opened.forEach(PostgresDedupStore::close);
    PostgresTestDatabase.drop(schema);
  }

  private PostgresDedupStore open() {
    PostgresDedupStore store =
        PostgresDedupStore.builder(PostgresTestDatabase.URL).schema(schema).open();
    opened.add(store);
    return store;
  }

  private static List<PendingEvent> batch(String prefix, int from, int count, Instant receivedAt) {
    List<PendingEvent> batch = new ArrayList<>(count);
    for (int i = from; i < from + count; i++) {
      batch.add(new PendingEvent("t" + (i % 3), prefix + i, T0, "test", "{}", receivedAt));
    }
    return batch;
  }

  @Test
  void expiry_backlog_eachTransactionRemovesABoundedStep() {
    PostgresDedupStore store = open();
    store.retain(new Retention(Duration.ofHours(1), Long.MAX_VALUE, clock));
    for (int b = 0; b < 10; b++) {
      store.append(batch("old-", b * 1_000, 1_000, T0));
    }
    clock.advance(Duration.ofHours(2));
    store.append(List.of());
    assertEquals(PostgresDedupStore.MIN_EXPIRY_STEP, store.stats().expired(), "an empty append");
    store.append(batch("new-", 0, 3_000, clock.instant()));
    assertEquals(10_000, store.stats().expired(), "a batch of 3,000 removes up to 6,000");
    assertEquals(3_000, store.stats().stored());
    assertEquals(3_000, PostgresTestDatabase.queryLong("SELECT count(*) FROM " + s + "events"));
  }

  @Test
  void retention_twoNodesOnOneSchema_eitherRemovesWhatExpired_countersExactOnBoth() {
    Retention retention = new Retention(Duration.ofHours(1), Long.MAX_VALUE, clock);
    PostgresDedupStore a = open();
    PostgresDedupStore b = open();
    a.retain(retention);
    b.retain(retention);
    a.append(batch("a-", 0, 500, T0));
    b.append(batch("b-", 0, 500, T0.plusSeconds(60)));
    assertEquals(Instant.parse("2026-11-22T01:00:00Z"), b.nextExpiry().get(), "a's events");

    clock.set(T0.plus(Duration.ofHours(1)));
    b.append(List.of()); // b removes a's events
    assertEquals(500, a.stats().expired());
    assertEquals(500, a.stats().stored());
    assertEquals(
        0,
        a.events(EventQuery.topic("t0").limit(1000)).events().stream()
            .filter(e -> e.event().eventId().startsWith("a-"))
            .count());
    // a's keys are new again on a; b's are still duplicates on a.
    List<Outcome> outcomes =
        a.append(
            List.of(
                batch("a-", 0, 1, clock.instant()).get(0),
                batch("b-", 0, 1, clock.instant()).get(0)));
    assertEquals(List.of(Outcome.ACCEPTED, Outcome.DUPLICATE), outcomes);

    clock.set(T0.plusSeconds(60).plus(Duration.ofHours(1)));
    assertFalse(a.nextExpiry().get().isAfter(clock.instant()), "a sees b's events due");
    a.append(List.of());
    StoreStats sa = a.stats();
    StoreStats sb = b.stats();
    assertEquals(sa, sb);
    assertEquals(1_000, sa.expired());
    assertEquals(1, sa.stored());
    assertEquals(sa.uniqueProcessed() - sa.expired(), sa.stored());
    assertEquals(1, PostgresTestDatabase.queryLong("SELECT count(*) FROM " + s + "events"));
  }

  @Test
  void open_rowsDeletedByHand_refusesNamingBothFigures() {
    try (PostgresDedupStore store = open()) {
      store.append(batch("k", 0, 1_000, T0));
    }
    PostgresTestDatabase.execute(
        "DELETE FROM " + s + "events WHERE seq IN (SELECT seq FROM " + s + "events LIMIT 100)");
    StoreException e = assertThrows(StoreException.class, this::open);
    assertTrue(e.getMessage().contains("1000 events are stored"), e.getMessage());
    assertTrue(e.getMessage().contains("holds 900"), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
  }

  @Test
  void open_version2Schema_timeColumnsFilledFromTheStoredTimestamps_rangesWork() {
    try (PostgresDedupStore store = open()) {
      List<PendingEvent> batch = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        batch.add(
            new PendingEvent("t", "e" + i, T0.plusMillis(1500L * i), "", "{}", T0)); // UTC text
      }
      store.append(batch);
    }
    // What version 2 created: the same tables without the time columns and their index.
    PostgresTestDatabase.execute("ALTER TABLE " + s + "events DROP COLUMN ts_s, DROP COLUMN ts_n");
    PostgresTestDatabase.execute(
        "UPDATE " + s + "aggregator_meta SET value = '2' WHERE key = 'schema_version'");
    try (PostgresDedupStore store = open()) {
      List<String> ids =
          store
              .events(
                  EventQuery.topic("t")
                      .between(T0.plusMillis(3000), T0.plusMillis(7500))
                      .orderBy(EventQuery.OrderBy.TIMESTAMP)
                      .newestFirst())
              .events()
              .stream()
              .map(e -> e.event().eventId())
              .collect(Collectors.toList());
      assertEquals(List.of("e4", "e3", "e2"), ids);
    }
  }

  @Test
  void open_version1Schema_upgradedInPlace_eventsKeptAndCountedFromTheUpgrade() {
    try (PostgresDedupStore store = open()) {
      store.append(batch("k", 0, 300, T0));
    }
    // What version 1 created: the same tables without the columns retention added.
    PostgresTestDatabase.execute(
        "ALTER TABLE "
            + s
            + "counters DROP COLUMN expired, DROP COLUMN payload_conflicts,"
            + " DROP COLUMN last_received_ns, DROP COLUMN expired_below");
    PostgresTestDatabase.execute(
        "ALTER TABLE " + s + "events DROP COLUMN received_ns, DROP COLUMN ts_s, DROP COLUMN ts_n");
    PostgresTestDatabase.execute(
        "UPDATE " + s + "aggregator_meta SET value = '1' WHERE key = 'schema_version'");
    Instant beforeUpgrade = Instant.now();
    try (PostgresDedupStore store = open()) {
      assertEquals(
          PostgresDedupStore.SCHEMA_VERSION,
          PostgresTestDatabase.queryLong(
              "SELECT value::int FROM " + s + "aggregator_meta WHERE key = 'schema_version'"));
      assertEquals(300, store.stats().stored());
      assertTrue(
          store.append(batch("k", 0, 300, T0)).stream().allMatch(o -> o == Outcome.DUPLICATE));
      clock.set(beforeUpgrade.plus(Duration.ofHours(1)).minusSeconds(1));
      store.retain(new Retention(Duration.ofHours(1), Long.MAX_VALUE, clock));
      store.append(List.of());
      assertEquals(100, store.events(EventQuery.topic("t0").limit(1000)).events().size());
      clock.set(Instant.now().plus(Duration.ofHours(1)));
      store.append(List.of());
      assertEquals(300, store.stats().expired());
      assertEquals(0, store.events(EventQuery.topic("t0").limit(1000)).events().size());
    }
  }
}
