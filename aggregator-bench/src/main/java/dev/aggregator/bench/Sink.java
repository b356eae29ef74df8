package dev.aggregator.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aggregator.Event;
import dev.aggregator.EventAggregator;
import dev.aggregator.PublishResult;
import dev.aggregator.QueueFullException;
import dev.aggregator.sqlite.SqliteDedupStore;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;
import org.apache.camel.processor.idempotent.jdbc.JdbcMessageIdRepository;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * One system under test: this design or a baseline, fed the same publish calls. {@link #ingest}
 * returns once every event of the calls is durable (for the durable ones) and answers how many were
 * new.
 */
abstract class Sink implements AutoCloseable {

  static final String DB_FILE = "store.db";
  static final String CAMEL_PROCESSOR = "aggregator";

  /** Ingests every call; returns how many events were new. */
  abstract long ingest(List<List<Event>> calls) throws Exception;

  /**
   * Starts ingesting one call; the future completes, with how many events were new, once they are
   * durable. A synchronous system has finished the call when this returns.
   */
  CompletableFuture<Long> submit(List<Event> call) throws Exception {
    return CompletableFuture.completedFuture(ingest(List.of(call)));
  }

  @Override
  public abstract void close();

  static Sink open(Impl impl, Path dir, SqliteDedupStore.Synchronous sync, int inFlight)
      throws Exception {
    return switch (impl) {
      case aggregator -> new AggregatorSink(dir, sync, inFlight);
      case autocommit -> new AutocommitSink(dir, new SQLiteConfig());
      case autocommit_wal -> new AutocommitSink(dir, sqliteConfig(sync));
      case camel -> new CamelSink(dir, sync);
      case memory -> new MemorySink();
    };
  }

  static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException e) {
      throw new IllegalStateException("cannot close " + c, e);
    }
  }

  static SQLiteConfig sqliteConfig(SqliteDedupStore.Synchronous sync) {
    SQLiteConfig config = new SQLiteConfig();
    // The same journal, durability and cache as the aggregator's store, so only the design differs.
    config.setJournalMode(SQLiteConfig.JournalMode.WAL);
    config.setSynchronous(
        sync == SqliteDedupStore.Synchronous.FULL
            ? SQLiteConfig.SynchronousMode.FULL
            : SQLiteConfig.SynchronousMode.NORMAL);
    config.setCacheSize(-65_536);
    config.setBusyTimeout(10_000);
    return config;
  }

  /** This design, through its public API. */
  static final class AggregatorSink extends Sink {
    final EventAggregator aggregator;
    private final int inFlight;
    private final Runnable beforeEachCall;
    private final ArrayDeque<CompletableFuture<PublishResult>> window = new ArrayDeque<>();

    AggregatorSink(Path dir, SqliteDedupStore.Synchronous sync, int inFlight) {
      this(
          EventAggregator.builder()
              .store(SqliteDedupStore.builder(dir.resolve(DB_FILE)).synchronous(sync).open())
              .build(),
          inFlight,
          () -> {});
    }

    /** Publishes into {@code aggregator}, running {@code beforeEachCall} before each call. */
    AggregatorSink(EventAggregator aggregator, int inFlight, Runnable beforeEachCall) {
      this.aggregator = aggregator;
      this.inFlight = inFlight;
      this.beforeEachCall = beforeEachCall;
    }

    @Override
    long ingest(List<List<Event>> calls) {
      long accepted = 0;
      for (List<Event> call : calls) {
        beforeEachCall.run();
        while (window.size() >= inFlight) {
          accepted += window.poll().join().accepted();
        }
        while (true) {
          try {
            window.add(aggregator.publish(call));
            break;
          } catch (QueueFullException e) {
            accepted += window.poll().join().accepted(); // backpressure: wait for the oldest
          }
        }
      }
      while (!window.isEmpty()) {
        accepted += window.poll().join().accepted();
      }
      return accepted;
    }

    @Override
    CompletableFuture<Long> submit(List<Event> call) {
      return aggregator.publish(call).thenApply(r -> (long) r.accepted());
    }

    @Override
    public void close() {
      aggregator.close();
    }
  }

  /** Baseline (a), as the course-project aggregators do it or on this design's settings. */
  static final class AutocommitSink extends Sink {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private final Connection connection;
    private final PreparedStatement insert;

    AutocommitSink(Path dir, SQLiteConfig config) throws SQLException {
      connection = config.createConnection("jdbc:sqlite:" + dir.resolve(DB_FILE));
      connection.setAutoCommit(true);
      try (Statement s = connection.createStatement()) {
        s.executeUpdate(createTable());
      }
      insert =
          connection.prepareStatement(
              "INSERT OR IGNORE INTO events(topic, event_id, timestamp, source, payload,"
                  + " received_at) VALUES (?, ?, ?, ?, ?, ?)");
    }

    static String createTable() {
      return "CREATE TABLE IF NOT EXISTS events (topic TEXT NOT NULL, event_id TEXT NOT NULL,"
          + " timestamp TEXT NOT NULL, source TEXT NOT NULL, payload TEXT NOT NULL,"
          + " received_at TEXT NOT NULL, PRIMARY KEY (topic, event_id))";
    }

    @Override
    long ingest(List<List<Event>> calls) throws SQLException {
      long accepted = 0;
      for (List<Event> call : calls) {
        String receivedAt = Instant.now().toString();
        for (Event e : call) {
          insert.setString(1, e.topic());
          insert.setString(2, e.eventId());
          insert.setString(3, e.timestamp().toString());
          insert.setString(4, e.source());
          insert.setString(5, json(e));
          insert.setString(6, receivedAt);
          accepted += insert.executeUpdate();
        }
      }
      return accepted;
    }

    private static String json(Event e) {
      try {
        return MAPPER.writeValueAsString(e.payload());
      } catch (JsonProcessingException x) {
        throw new UncheckedIOException(x);
      }
    }

    @Override
    public void close() {
      closeQuietly(connection);
    }
  }

  /**
   * Baseline (b): Camel's JDBC idempotent repository. One pooled connection (Spring's
   * SingleConnectionDataSource) instead of a new SQLite connection per transaction, and a primary
   * key on (processorName, messageId): Camel's default table has no index at all, which would make
   * every add a full scan. Both choices favour the baseline. It stores only the key, no payload.
   */
  static final class CamelSink extends Sink {
    private final Connection connection;
    private final JdbcMessageIdRepository repository;

    CamelSink(Path dir, SqliteDedupStore.Synchronous sync) throws Exception {
      SQLiteDataSource sqlite = new SQLiteDataSource(sqliteConfig(sync));
      sqlite.setUrl("jdbc:sqlite:" + dir.resolve(DB_FILE));
      connection = sqlite.getConnection();
      try (Statement s = connection.createStatement()) {
        s.executeUpdate(createTable());
      }
      DataSource single = new SingleConnectionDataSource(connection, true);
      repository = new JdbcMessageIdRepository(single, CAMEL_PROCESSOR);
      repository.start();
    }

    static String createTable() {
      return "CREATE TABLE IF NOT EXISTS CAMEL_MESSAGEPROCESSED (processorName VARCHAR(255) NOT"
          + " NULL, messageId VARCHAR(100) NOT NULL, createdAt TIMESTAMP,"
          + " PRIMARY KEY (processorName, messageId))";
    }

    static String key(String topic, String eventId) {
      return topic + "/" + eventId;
    }

    @Override
    long ingest(List<List<Event>> calls) {
      long accepted = 0;
      for (List<Event> call : calls) {
        for (Event e : call) {
          if (repository.add(key(e.topic(), e.eventId()))) {
            accepted++;
          }
        }
      }
      return accepted;
    }

    @Override
    public void close() {
      repository.stop();
      closeQuietly(connection);
    }
  }

  /** Baseline (c): the in-memory ceiling. */
  static final class MemorySink extends Sink {
    record Key(String topic, String eventId) {}

    final Set<Key> keys = ConcurrentHashMap.newKeySet();

    @Override
    long ingest(List<List<Event>> calls) {
      long accepted = 0;
      for (List<Event> call : calls) {
        for (Event e : call) {
          if (keys.add(new Key(e.topic(), e.eventId()))) {
            accepted++;
          }
        }
      }
      return accepted;
    }

    @Override
    public void close() {
      keys.clear();
    }
  }
}
