package dev.aggregator.postgres;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.UUID;

/**
 * The PostgreSQL the tests run on: {@code AGGREGATOR_TEST_POSTGRES_URL}, default the local server
 * ({@code postgres://postgres@127.0.0.1:5432/test}). Every test works in a fresh schema of its own,
 * so parallel runs and other users of the database never collide, and drops it afterwards.
 */
public final class PostgresTestDatabase {
  /** Where the tests' database is. */
  public static final String URL =
      System.getenv()
          .getOrDefault("AGGREGATOR_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test");

  private PostgresTestDatabase() {}

  /** A schema name no other test uses. */
  public static String freshSchema() {
    return "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
  }

  /** Drops {@code schema} and everything in it. */
  public static void drop(String schema) {
    execute("DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
  }

  /** Runs one statement on a connection of its own (autocommit). */
  public static void execute(String sql) {
    try (Connection c = connect();
        Statement st = c.createStatement()) {
      st.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }

  /** A single number from {@code sql}. */
  public static long queryLong(String sql) {
    try (Connection c = connect();
        Statement st = c.createStatement();
        var rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }

  /** A plain connection to the test database. */
  public static Connection connect() throws SQLException {
    PostgresUrl url = PostgresUrl.parse(URL);
    Properties props = new Properties();
    if (url.user() != null) {
      props.setProperty("user", url.user());
    }
    if (url.password() != null) {
      props.setProperty("password", url.password());
    }
    return DriverManager.getConnection(url.jdbcUrl(), props);
  }
}
