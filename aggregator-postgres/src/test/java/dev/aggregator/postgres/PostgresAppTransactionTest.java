package dev.aggregator.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.aggregator.Event;
import dev.aggregator.EventQuery;
import dev.aggregator.Outcome;
import dev.aggregator.PublishResult;
import dev.aggregator.store.StoreStats;
import dev.aggregator.testing.Await;
import dev.aggregator.testing.RequiresPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A {@link PostgresDedupStore} on the application's own DataSource, recording keys in the
 * application's JDBC transaction: the key and the business row commit or roll back together.
 */
@RequiresPostgres
class PostgresAppTransactionTest {
  private final String schema = PostgresTestDatabase.freshSchema();
  private HikariDataSource app;
  private PostgresDedupStore store;

  @BeforeEach
  void open() {
    PostgresUrl url = PostgresUrl.parse(PostgresTestDatabase.URL);
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url.jdbcUrl());
    config.setUsername(url.user());
    config.setPassword(url.password());
    config.setPoolName("the-application");
    config.setMaximumPoolSize(4);
    app = new HikariDataSource(config);
    store = PostgresDedupStore.builder(app).schema(schema).open();
    PostgresTestDatabase.execute(
        "CREATE TABLE \"" + schema + "\".payments (id text PRIMARY KEY, amount int NOT NULL)");
  }

  @AfterEach
  void close() {
    store.close();
    app.close();
    PostgresTestDatabase.drop(schema);
  }

  /**
   * In one transaction of the application: record the key, write the payment, then commit or not.
   */
  private PublishResult pay(String id, boolean commit) throws SQLException {
    try (Connection c = app.getConnection()) {
      c.setAutoCommit(false);
      PublishResult result = store.append(c, List.of(Event.of("payments", id)));
      try (PreparedStatement ps =
          c.prepareStatement("INSERT INTO \"" + schema + "\".payments VALUES (?, 100)")) {
        ps.setString(1, id);
        ps.executeUpdate();
      }
      if (commit) {
        c.commit();
      } else {
        c.rollback();
      }
      return result;
    }
  }

  private long payments() {
    return PostgresTestDatabase.queryLong("SELECT count(*) FROM \"" + schema + "\".payments");
  }

  @Test
  void appTransactionRolledBack_keyNotKept_norCounted_nextDeliveryAcceptedAgain() throws Exception {
    assertEquals(Outcome.ACCEPTED, pay("p-1", false).outcome(0));

    assertEquals(0, payments());
    assertEquals(StoreStats.EMPTY, store.stats());
    assertEquals(List.of(), store.events(EventQuery.topic("payments")).events());
    assertEquals(Outcome.ACCEPTED, pay("p-1", true).outcome(0), "the key was kept after rollback");
    assertEquals(1, payments());
  }

  @Test
  void appTransactionCommitted_keyKeptWithTheBusinessRow_laterDeliveriesDuplicate()
      throws Exception {
    assertEquals(Outcome.ACCEPTED, pay("p-2", true).outcome(0));

    assertEquals(1, payments());
    StoreStats stats = store.stats();
    assertEquals(1, stats.received());
    assertEquals(1, stats.stored());
    assertEquals(
        "p-2", store.events(EventQuery.topic("payments")).events().get(0).event().eventId());
    try (Connection c = app.getConnection()) {
      c.setAutoCommit(false);
      assertEquals(
          Outcome.DUPLICATE, store.append(c, List.of(Event.of("payments", "p-2"))).outcome(0));
      c.commit();
    }
    assertEquals(2, store.stats().received());
    assertEquals(1, store.stats().duplicateDropped());
  }

  @Test
  void sameKeyInTwoAppTransactions_secondWaitsForTheFirst_thenDuplicate() throws Exception {
    ExecutorService other = Executors.newSingleThreadExecutor();
    try (Connection first = app.getConnection()) {
      first.setAutoCommit(false);
      assertEquals(
          Outcome.ACCEPTED, store.append(first, List.of(Event.of("payments", "p-3"))).outcome(0));
      Future<PublishResult> second = other.submit(() -> pay("p-3", true));
      Await.until(
          "the second transaction waiting for the first",
          Duration.ofSeconds(30),
          () ->
              // This test's schema only: other tests may share the database.
              PostgresTestDatabase.queryLong(
                      "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                          + " AND query LIKE '%\""
                          + schema
                          + "\".counters%'")
                  > 0);
      assertFalse(second.isDone());
      first.commit();
      assertEquals(Outcome.DUPLICATE, second.get(30, TimeUnit.SECONDS).outcome(0));
    } finally {
      other.shutdownNow();
    }
  }

  @Test
  void autocommitConnection_isRejected_nothingStored() throws Exception {
    try (Connection c = app.getConnection()) {
      assertThrows(
          IllegalStateException.class, () -> store.append(c, List.of(Event.of("payments", "p-4"))));
    }
    assertEquals(StoreStats.EMPTY, store.stats());
  }

  @Test
  void storeOnTheAppsDataSource_doesNotCloseIt_andHasNoPoolOptions() throws Exception {
    store.close();
    try (Connection c = app.getConnection()) {
      assertFalse(c.isClosed(), "closing the store closed the application's DataSource");
    }
    store = PostgresDedupStore.builder(app).schema(schema).open(); // reopens on the same data
    assertThrows(
        IllegalStateException.class,
        () -> PostgresDedupStore.builder(app).schema(schema).poolSize(8).open());
  }
}
