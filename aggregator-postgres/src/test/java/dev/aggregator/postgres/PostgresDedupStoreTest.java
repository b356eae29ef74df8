package dev.aggregator.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.EventQuery;
import dev.aggregator.Outcome;
import dev.aggregator.StoreException;
import dev.aggregator.store.PendingEvent;
import dev.aggregator.store.StoreStats;
import dev.aggregator.testing.RequiresPostgres;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Opening, schema checks, persistence, URLs and errors of the PostgreSQL store. */
@RequiresPostgres
class PostgresDedupStoreTest {
  private static final Instant T0 = Instant.parse("2025-10-23T10:00:00Z");
  private String schema;

  @BeforeEach
  void freshSchema() {
    schema = PostgresTestDatabase.freshSchema();
  }

  @AfterEach
  void dropSchema() {
    PostgresTestDatabase.drop(schema);
  }

  private static PendingEvent event(String topic, String id) {
    return new PendingEvent(topic, id, T0, "test", "{}", T0);
  }

  private PostgresDedupStore open() {
    return PostgresDedupStore.builder(PostgresTestDatabase.URL).schema(schema).open();
  }

  @Test
  void open_again_keepsEventsCountersAndDedup() {
    try (PostgresDedupStore store = open()) {
      store.append(List.of(event("b", "1"), event("a", "1"), event("b", "1")));
    }
    try (PostgresDedupStore store = open()) {
      assertEquals(
          List.of(Outcome.DUPLICATE, Outcome.ACCEPTED),
          store.append(List.of(event("a", "1"), event("a", "2"))));
      StoreStats stats = store.stats();
      assertEquals(5, stats.received());
      assertEquals(3, stats.uniqueProcessed());
      assertEquals(2, stats.duplicateDropped());
      assertEquals(List.of("b", "a"), List.copyOf(stats.topicCounts().keySet()));
      assertEquals(Map.of("b", 1L, "a", 2L), stats.topicCounts());
    }
  }

  @Test
  void open_jdbcUrlAndSchemaParameter_reachTheSameStore() {
    try (PostgresDedupStore store =
        PostgresDedupStore.open(PostgresTestDatabase.URL + "?schema=" + schema)) {
      assertEquals(schema, store.schema());
      store.append(List.of(event("t", "x")));
    }
    PostgresUrl parsed = PostgresUrl.parse(PostgresTestDatabase.URL);
    String jdbc =
        parsed.jdbcUrl()
            + (parsed.jdbcUrl().contains("?") ? "&" : "?")
            + "user="
            + parsed.user()
            + (parsed.password() != null ? "&password=" + parsed.password() : "");
    try (PostgresDedupStore store = PostgresDedupStore.builder(jdbc).schema(schema).open()) {
      assertEquals(List.of(Outcome.DUPLICATE), store.append(List.of(event("t", "x"))));
      assertEquals(1, store.events(EventQuery.topic("t")).events().size());
    }
  }

  @Test
  void open_unreachableServer_failsNamingUrlAndSqlStateWithoutPassword() {
    StoreException e =
        assertThrows(
            StoreException.class,
            () ->
                PostgresDedupStore.builder("postgres://agg:s3cr%40t@127.0.0.1:1/test")
                    .schema(schema)
                    .connectTimeout(Duration.ofSeconds(1))
                    .open());
    assertTrue(e.getMessage().contains("postgres://agg@127.0.0.1:1/test"), e.getMessage());
    assertTrue(e.getMessage().contains("SQLState 08001"), e.getMessage());
    assertFalse(e.getMessage().contains("s3cr"), e.getMessage());
  }

  @Test
  void open_unknownDatabase_failsWithItsSqlState() {
    StoreException e =
        assertThrows(
            StoreException.class,
            () ->
                PostgresDedupStore.builder(
                        PostgresTestDatabase.URL.replaceFirst(
                            "/[^/?]*(\\?.*)?$", "/no_such_db_4711"))
                    .schema(schema)
                    .connectTimeout(Duration.ofSeconds(2))
                    .open());
    assertTrue(e.getMessage().contains("no_such_db_4711"), e.getMessage());
    assertTrue(e.getMessage().contains("SQLState 3D000"), e.getMessage());
  }

  @Test
  void open_schemaWithForeignTables_failsNamingThem() {
    PostgresTestDatabase.execute("CREATE SCHEMA \"" + schema + "\"");
    PostgresTestDatabase.execute("CREATE TABLE \"" + schema + "\".orders (id int)");
    StoreException e = assertThrows(StoreException.class, this::open);
    assertTrue(e.getMessage().contains("another application [orders]"), e.getMessage());
    assertTrue(e.getMessage().contains(schema), e.getMessage());
  }

  @Test
  void open_newerSchemaVersion_failsAskingForUpgrade() {
    open().close();
    int newer = PostgresDedupStore.SCHEMA_VERSION + 1;
    PostgresTestDatabase.execute(
        "UPDATE \""
            + schema
            + "\".aggregator_meta SET value = '"
            + newer
            + "' WHERE key = 'schema_version'");
    StoreException e = assertThrows(StoreException.class, this::open);
    assertTrue(e.getMessage().contains("schema version " + newer + " is newer"), e.getMessage());
  }

  @Test
  void open_countersThatDoNotAddUp_failsAsInconsistent() {
    try (PostgresDedupStore store = open()) {
      store.append(List.of(event("t", "1")));
    }
    PostgresTestDatabase.execute("UPDATE \"" + schema + "\".counters SET received = 7");
    StoreException e = assertThrows(StoreException.class, this::open);
    assertTrue(e.getMessage().contains("inconsistent: received 7"), e.getMessage());
  }

  @Test
  void append_failingBatch_rollsBackEventsTopicsAndCounters() {
    try (PostgresDedupStore store = open()) {
      store.append(List.of(event("t", "1")));
      // Invalid JSON makes the database reject the batch after other rows went in.
      PendingEvent bad = new PendingEvent("new-topic", "2", T0, "", "{not json", T0);
      StoreException e =
          assertThrows(
              StoreException.class, () -> store.append(List.of(event("new-topic", "1"), bad)));
      assertTrue(e.getMessage().contains("SQLState 22P02"), e.getMessage());
      StoreStats stats = store.stats();
      assertEquals(1, stats.received());
      assertEquals(Map.of("t", 1L), stats.topicCounts());
      assertEquals(List.of(Outcome.ACCEPTED), store.append(List.of(event("new-topic", "1"))));
      assertEquals(List.of("t", "new-topic"), List.copyOf(store.stats().topicCounts().keySet()));
    }
  }

  @Test
  void append_afterClose_failsNamingTheStore() {
    PostgresDedupStore store = open();
    store.close();
    store.close(); // idempotent
    StoreException e =
        assertThrows(StoreException.class, () -> store.append(List.of(event("t", "1"))));
    assertTrue(
        e.getMessage().contains(schema) && e.getMessage().contains("closed"), e.getMessage());
  }

  @Test
  void append_batchLargerThanOneInsertChunk_isOneTransaction() {
    try (PostgresDedupStore store = open()) {
      List<PendingEvent> batch = new java.util.ArrayList<>();
      for (int i = 0; i < 2500; i++) {
        batch.add(event("t", "k" + (i % 2200)));
      }
      List<Outcome> outcomes = store.append(batch);
      assertEquals(2200, outcomes.stream().filter(o -> o == Outcome.ACCEPTED).count());
      assertEquals(Outcome.DUPLICATE, outcomes.get(2200));
      StoreStats stats = store.stats();
      assertEquals(2500, stats.received());
      assertEquals(2200, stats.uniqueProcessed());
      assertEquals(
          2200, PostgresTestDatabase.queryLong("SELECT count(*) FROM \"" + schema + "\".events"));
    }
  }

  @Test
  void builder_badSchemaName_isRejectedWithTheName() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> PostgresDedupStore.builder(PostgresTestDatabase.URL).schema("Bad-Name"));
    assertTrue(e.getMessage().contains("'Bad-Name'"), e.getMessage());
  }

  @Test
  void parse_libpqUrl_becomesJdbcUrlWithCredentialsApart() {
    PostgresUrl url =
        PostgresUrl.parse(
            "postgres://agg:p%40ss@db.internal:6543/events?sslmode=require&schema=s1");
    assertEquals("jdbc:postgresql://db.internal:6543/events?sslmode=require", url.jdbcUrl());
    assertEquals("agg", url.user());
    assertEquals("p@ss", url.password());
    assertEquals("s1", url.schema());
    assertFalse(url.safe().contains("p%40ss"), url.safe());
    assertFalse(url.toString().contains("ss@"), url.toString());
  }

  @Test
  void parse_jdbcUrl_isKeptAndItsPasswordHiddenInTheSafeForm() {
    PostgresUrl url =
        PostgresUrl.parse("jdbc:postgresql://h:5432/db?user=u&password=secret&ssl=true");
    assertEquals("jdbc:postgresql://h:5432/db?user=u&password=secret&ssl=true", url.jdbcUrl());
    assertEquals("jdbc:postgresql://h:5432/db?user=u&password=***&ssl=true", url.safe());
    assertNull(url.schema());
  }

  @Test
  void parse_otherScheme_isRejectedWithoutEchoingThePassword() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> PostgresUrl.parse("mysql://u:pw@h/db"));
    assertTrue(e.getMessage().contains("mysql://***@h/db"), e.getMessage());
  }
}
