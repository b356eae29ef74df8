package dev.aggregator.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.aggregator.Claim;
import dev.aggregator.ClaimStats;
import dev.aggregator.Event;
import dev.aggregator.EventJson;
import dev.aggregator.EventPage;
import dev.aggregator.EventQuery;
import dev.aggregator.Outcome;
import dev.aggregator.PublishResult;
import dev.aggregator.StoreException;
import dev.aggregator.StoredEvent;
import dev.aggregator.store.AppendResult;
import dev.aggregator.store.ClaimState;
import dev.aggregator.store.DedupStore;
import dev.aggregator.store.EventRows;
import dev.aggregator.store.PendingEvent;
import dev.aggregator.store.Retention;
import dev.aggregator.store.StoreStats;
import dev.aggregator.store.TimestampPage;
import dev.aggregator.store.TimestampPage.Position;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Design of the PostgreSQL store: several aggregator processes, one database, exact dedup.
 *
 * Tables, all in one schema of their own (default "aggregator"):
 *
 *   aggregator_meta(key, value)     application = dev.aggregator, schema_version = 3
 *   counters(id = 1, received, unique_processed, duplicate_dropped, expired, payload_conflicts,
 *            last_received_ns, expired_below)
 *   topics(id IDENTITY, name UNIQUE, event_count)            id order is first-seen order
 *   events(seq IDENTITY, topic_id, event_id, timestamp, source, payload, received_at, received_ns,
 *          ts_s, ts_n, UNIQUE (topic_id, event_id))  + INDEX (topic_id, seq) for paging
 *                                                     + INDEX (topic_id, ts_s, ts_n, seq) for time
 *
 * Time ranges and timestamp order use the second index: the event's instant as (seconds, nanos),
 * exact over the whole Instant range. Unlike the claim's unique index, its inserts land at each
 * topic's right edge as long as timestamps arrive roughly in order, and the store already pays a
 * random-order index for the claim, so its write cost is a fraction of the insert.
 *
 * The claim. The unique constraint is what makes a key stored once, whatever the number of nodes:
 * a batch's new keys go in with one INSERT ... SELECT FROM unnest(arrays) ON CONFLICT (topic_id,
 * event_id) DO NOTHING RETURNING topic_id, event_id, and an event is ACCEPTED exactly when its key
 * comes back. There is no check-then-insert anywhere. Duplicates inside a batch are removed in Java
 * first (the first occurrence wins) because one INSERT may not touch the same key twice.
 *
 * One transaction per batch: the events, the new topics, the topic counts and the counters commit
 * together or not at all, so on every node stats() (read from the database, not from memory, since
 * other nodes write too) equals what is stored.
 *
 * Writers serialize on the counters row. Every batch begins with SELECT ... FROM counters FOR
 * UPDATE, so the batches of all nodes run one after the other. Three things follow, and they are
 * why: (1) seq values are allocated in commit order, so an ascending cursor ("seq > last") never
 * skips a row that commits later with a smaller seq: a reader that saw seq s saw every committed
 * seq below it, and any batch still running draws seqs above s. (2) No deadlock is possible: each
 * transaction takes the counters row first, and only the holder inserts, so ON CONFLICT never waits
 * on another node's uncommitted key in the opposite order. (3) Topic ids follow commit order, which
 * is first-seen order across nodes. The price: the insert phases of different nodes do not
 * overlap. Every batch updates the counters row anyway, so commits were serialized on that row in
 * any design with exact global counters in one row; taking it first only extends the hold over the
 * inserts. Each node still batches (group commit), so one lock round covers up to a whole batch.
 * The claim stays correct even without the lock (a writer that skipped it would still be deduped by
 * the constraint); the lock buys the cursor and deadlock guarantees. Measured on the 2-core dev
 * machine (3 stores on one schema, batches of 1,000, 20% duplicates, interleaved runs in one JVM):
 * serialized 28-46k events/s against 48-64k with overlapping inserts, a ratio of 0.52-0.72.
 * PostgresMultiNodeTest and PostgresCursorOrderTest fail without the lock (a tailing reader
 * skips rows). If multi-node insert throughput ever matters more, the way out that keeps the
 * cursor exact is a read horizon: each batch draws a contiguous seq block and holds a
 * transaction advisory lock named by it, inserts its rows sorted by key (ordered locking, so no
 * deadlock), and ascending readers stop below the lowest block still locked. Its costs: a guard
 * so that a reader never looks between a writer's nextval and its lock, plpgsql and pg_locks
 * decoding, and readers that may not yet see a committed batch while an older one is in flight
 * (no read-your-writes across nodes for that long). Not worth it until a benchmark says so.
 *
 * One case no client-server database can close: the connection breaks during COMMIT, so the
 * outcome is unknown. append() then throws (the batch's publishers see a failure) although the
 * batch may have committed; a retry is harmless, its keys come back DUPLICATE. The counters stay
 * exact either way, since they commit or not together with the rows.
 *
 * Retention: batched deletes by receive order, not time partitions dropped whole. received_ns is
 * the receive time raised to last_received_ns (kept in the counters row, so across nodes) where
 * that is later; seqs are drawn under the counters lock too, so received_ns never decreases with
 * seq and the expired events are always the oldest rows. Each transaction deletes at most a step,
 * max(4,096, 2 x batch), of them: DELETE ... WHERE seq IN (SELECT seq ... WHERE seq >=
 * expired_below ORDER BY seq LIMIT step) AND received_ns <= cutoff, an index range at the left
 * edge of the primary key, starting above the rows already deleted (expired_below) so that the
 * scan does not wade through dead tuples that vacuum has not yet removed; the oldest beyond
 * maxEvents go the same way after the inserts. Topic counts and counters change in the same
 * transaction. Autovacuum makes the freed space reusable, so the table stops growing in steady
 * state. Why not partitions by receive time, which expire by DROP TABLE with no dead tuples and
 * give the disk back at once: (1) the claim needs UNIQUE (topic_id, event_id) over all stored
 * events, and PostgreSQL only allows a unique index on a partitioned table if it includes the
 * partition key, so a key could be stored once per partition (or a separate key table would need
 * the same row-by-row deletes); (2) a partition can go only once its newest event expired, so
 * the counters (stored, expired, topic counts) would lag by up to a partition's width, or need the
 * per-event bookkeeping that deleting rows gives anyway; (3) maxEvents counts events, not
 * partitions. What partitions would do better, returning the disk to the OS at once and leaving no
 * dead tuples to vacuum, matters less than exact dedup and counters.
 *
 * Exactness does not wait for the deletes: reads skip rows with received_ns <= cutoff, and a
 * duplicate whose stored row has expired but is not deleted yet (a backlog larger than a step) has
 * that row deleted and is inserted again, ACCEPTED. The duplicates' stored rows are read anyway
 * (one probe of the unique index each, duplicates only) to compare their payloads: a different
 * JSON value is a conflict, counted in payload_conflicts.
 *
 * Timestamps are stored as ISO-8601 text, not timestamptz: PostgreSQL keeps microseconds and no
 * offset, and the contract is a round trip of the spelling (offset, fraction digits). Payloads are json (validated, kept verbatim, so
 * numbers and key order come back as sent; jsonb would reject \u0000 escapes and rewrite numbers).
 *
 * Connections come from a HikariCP pool: the writer borrows one per batch (the borrow is a
 * thread-local fast path; pgjdbc caches the server-side prepared statements per connection), and
 * readers borrow theirs, so a connection broken by a database restart is replaced, not reused.
 *
 * The application's transaction. Built on the application's DataSource, the store opens no pool
 * and borrows its connections there. append(Connection, events) runs the batch's statements (the
 * same ones, counters row first) on the caller's connection and neither commits nor rolls back:
 * the keys, the counters and the caller's business rows commit together or not at all. Nothing of
 * such a batch is cached (topic ids, the expiry view), since the caller may still roll back. The
 * price is the counters row lock, held until the caller ends its transaction: other writers wait
 * that long, which the javadoc tells the caller (append last, commit soon).
 *
 * Claims (ConsumerGuard) are rows of claims(topic, event_id, token, lease_until_ns), keyed by the
 * topic's name so that a claim creates no topic, with claim_counters(confirmed, released,
 * leases_expired); append() never touches them. A claim is one transaction that writes first and
 * reads second: INSERT ... ON CONFLICT DO UPDATE ... WHERE the lease has run out, then a probe of
 * the events for the key. The insert decides between nodes (the primary key; an ON CONFLICT row is
 * locked even when the WHERE refuses the update, so the holder's lease can be read in the same
 * transaction), and because the events are probed after it, a confirmation that committed its
 * event and then ended its claim cannot be missed: while the claim row exists the key is in
 * progress, once it is gone the event is visible. A stored key rolls the claim back: DUPLICATE.
 * The tables are created if missing at open, also in a schema of version 2 written before they
 * existed; older code ignores them, so the schema version stays.
 *
 * The schema is created by the first store that opens it, under a transaction-scoped advisory lock
 * so that several nodes starting at once do not race; a schema holding other tables, another
 * application's marker or a newer schema_version fails open() with a message that says which.
 */
/**
 * A {@link DedupStore} on PostgreSQL that several aggregator processes share: each {@code (topic,
 * eventId)} is stored once across all of them, and every node's {@link #stats()} gives the global,
 * exact counters. See the design notes at the top of the source for how.
 *
 * <pre>{@code
 * DedupStore store = PostgresDedupStore.open("postgres://aggregator@db.internal:5432/events");
 * DedupStore other = PostgresDedupStore.builder("jdbc:postgresql://db:5432/events?user=agg")
 *     .schema("tenant_a")
 *     .open();
 * }</pre>
 */
public final class PostgresDedupStore implements DedupStore {
  private static final Logger log = LoggerFactory.getLogger(PostgresDedupStore.class);

  /** Marks a schema as this store's, in its {@code aggregator_meta} table. */
  static final String APPLICATION = "dev.aggregator";

  /** The schema version this code reads and writes. */
  static final int SCHEMA_VERSION = 3;

  /** Event rows whose time columns one statement fills when a version 2 schema is upgraded. */
  private static final int BACKFILL_ROWS = 10_000;

  /** The fewest expired events a transaction removes when that many are due. */
  static final int MIN_EXPIRY_STEP = 4096;

  /** How long nextExpiry() trusts what this node last saw; other nodes change the store too. */
  private static final long EXPIRY_VIEW_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** The schema used when neither the URL nor the builder names one. */
  public static final String DEFAULT_SCHEMA = "aggregator";

  /** How long a probe's query may take. */
  private static final int PROBE_TIMEOUT_SECONDS = 2;

  /** Rows per INSERT statement: bounds the size of one parameter array, not the transaction. */
  private static final int INSERT_CHUNK = 1000;

  private static final Pattern SCHEMA_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  private final PostgresUrl url;
  private final String schema;
  private final DataSource pool;
  private final HikariDataSource ownPool; // null on the application's DataSource
  private final AtomicBoolean closed = new AtomicBoolean();

  /** Tests only: runs inside the batch transaction after its inserts, before the counters. */
  volatile Runnable beforeCountersForTest = () -> {};

  /** Ids of committed topics; ids never change once committed, so caching them is safe. */
  private final Map<String, Long> topicIds = new ConcurrentHashMap<>();

  private final String lockCounters;
  private final String insertTopics;
  private final String selectTopics;
  private final String insertEvents;
  private final String selectStoredKeys;
  private final String deleteStoredKeys;
  private final String deleteOldest;
  private final String selectExpiryView;
  private final String addToTopics;
  private final String addToCounters;
  private final String selectAscending;
  private final String selectDescending;
  private final String selectColumns; // with the time columns, for eventsInTime
  private final String selectStats;
  private final String upsertClaim;
  private final String selectClaimLease;
  private final String selectLiveEvent;
  private final String deleteClaim;
  private final String addToClaimCounters;
  private final String selectClaimStats;

  private volatile Retention retention;

  /** What this node last saw of the oldest stored event, for nextExpiry(). */
  private record ExpiryView(long stored, long oldestReceivedNs, long seenAtNanos) {}

  private volatile ExpiryView expiryView;

  /**
   * Opens the store at {@code url}, creating its schema if missing.
   *
   * @param url {@code postgres://user:password@host:port/db[?schema=name]} or {@code
   *     jdbc:postgresql://host:port/db?user=...}
   * @throws IllegalArgumentException if the URL is malformed
   * @throws StoreException naming the URL (without password), the reason and the SQLState if the
   *     database cannot be reached or its schema is not this store's
   */
  public static PostgresDedupStore open(String url) {
    return builder(url).open();
  }

  /** A builder for a store at {@code url} (same forms as {@link #open(String)}). */
  public static Builder builder(String url) {
    return new Builder(url);
  }

  /**
   * A builder for a store on the application's own {@link DataSource}: the store opens no pool of
   * its own, borrows its connections from {@code dataSource} and never closes it. Use it with
   * {@link #append(Connection, List)} to record keys in the application's transactions.
   *
   * <p>The store's own pool sets, per connection, a {@code lock_timeout} and an {@code
   * idle_in_transaction_session_timeout} so that a frozen writer cannot hold the counters row for
   * ever; on an application's DataSource, set them there (for example in its connection init SQL).
   */
  public static Builder builder(DataSource dataSource) {
    return new Builder(dataSource);
  }

  /** Options of a {@link PostgresDedupStore}. */
  public static final class Builder {
    private final PostgresUrl url; // null on a DataSource
    private final DataSource dataSource; // null on a URL
    private String schema;
    private int poolSize; // 0: not set, 4
    private Duration connectTimeout; // null: not set, 10 seconds

    private Builder(String url) {
      this.url = PostgresUrl.parse(url);
      this.dataSource = null;
      this.schema = this.url.schema();
    }

    private Builder(DataSource dataSource) {
      this.url = null;
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * The PostgreSQL schema holding the tables: lower-case letters, digits and underscores, at most
     * 63. Default: the URL's {@code schema} parameter, else {@value
     * PostgresDedupStore#DEFAULT_SCHEMA}.
     */
    public Builder schema(String schema) {
      this.schema = Objects.requireNonNull(schema, "schema");
      checkSchemaName(schema);
      return this;
    }

    /** The most connections this store opens (one writer plus readers). Default 4. */
    public Builder poolSize(int connections) {
      if (connections < 2) {
        throw new IllegalArgumentException(
            "poolSize must be at least 2 (a writer and a reader), was " + connections);
      }
      this.poolSize = connections;
      return this;
    }

    /**
     * How long to wait for a connection, at open and later. Default 10 seconds. Also sets how long
     * a writer waits for its turn (3 times this) and how long the server lets a frozen writer hold
     * its turn before ending its transaction (6 times this).
     */
    public Builder connectTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "connectTimeout");
      if (timeout.toMillis() < 250) {
        throw new IllegalArgumentException(
            "connectTimeout must be at least 250 ms, was " + timeout);
      }
      this.connectTimeout = timeout;
      return this;
    }

    /**
     * Connects, creates the schema if missing, and checks it.
     *
     * @throws StoreException naming the URL (without password), the reason and the SQLState
     */
    public PostgresDedupStore open() {
      String s = schema != null ? schema : DEFAULT_SCHEMA;
      checkSchemaName(s);
      if (dataSource != null && (poolSize != 0 || connectTimeout != null)) {
        throw new IllegalStateException(
            "poolSize and connectTimeout configure the store's own pool; a store on an"
                + " application's DataSource has none (configure that DataSource instead)");
      }
      return new PostgresDedupStore(
          url,
          dataSource,
          s,
          poolSize != 0 ? poolSize : 4,
          connectTimeout != null ? connectTimeout : Duration.ofSeconds(10));
    }
  }

  private static void checkSchemaName(String schema) {
    if (!SCHEMA_NAME.matcher(schema).matches()) {
      throw new IllegalArgumentException(
          "schema must be 1..63 lower-case letters, digits or underscores, not starting with a"
              + " digit, was '"
              + schema
              + "'");
    }
  }

  private PostgresDedupStore(
      PostgresUrl url, DataSource external, String schema, int poolSize, Duration timeout) {
    this.url = url;
    this.schema = schema;
    String s = "\"" + schema + "\".";
    this.lockCounters =
        "SELECT unique_processed - expired, last_received_ns, expired_below FROM "
            + s
            + "counters WHERE id = 1 FOR UPDATE";
    this.insertTopics =
        "INSERT INTO "
            + s
            + "topics(name) SELECT name FROM unnest(?::text[]) WITH ORDINALITY AS t(name, ord)"
            + " ORDER BY ord ON CONFLICT (name) DO NOTHING";
    this.selectTopics = "SELECT id, name FROM " + s + "topics WHERE name = ANY(?::text[])";
    this.insertEvents =
        "INSERT INTO "
            + s
            + "events(topic_id, event_id, timestamp, source, payload, received_at, received_ns,"
            + " ts_s, ts_n)"
            + " SELECT t, e, ts, src, p::json, r, rn, tss, tsn FROM unnest(?::bigint[], ?::text[],"
            + " ?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::int[])"
            + " WITH ORDINALITY AS b(t, e, ts, src, p, r, rn, tss, tsn, ord)"
            + " ORDER BY ord ON CONFLICT (topic_id, event_id) DO NOTHING"
            + " RETURNING topic_id, event_id";
    String keys =
        " JOIN unnest(?::bigint[], ?::text[]) AS k(t, id) ON e.topic_id = k.t AND e.event_id = k.id";
    this.selectStoredKeys =
        "SELECT e.topic_id, e.event_id, e.received_ns, e.payload::text FROM "
            + s
            + "events e"
            + keys;
    this.deleteStoredKeys =
        "DELETE FROM "
            + s
            + "events e USING unnest(?::bigint[], ?::text[]) AS k(t, id)"
            + " WHERE e.topic_id = k.t AND e.event_id = k.id RETURNING e.topic_id";
    this.deleteOldest =
        "DELETE FROM "
            + s
            + "events WHERE seq IN (SELECT seq FROM "
            + s
            + "events WHERE seq >= ? ORDER BY seq LIMIT ?) AND received_ns <= ?"
            + " RETURNING seq, topic_id";
    this.selectExpiryView =
        "SELECT c.unique_processed - c.expired, (SELECT received_ns FROM "
            + s
            + "events WHERE seq >= c.expired_below ORDER BY seq LIMIT 1) FROM "
            + s
            + "counters c WHERE id = 1";
    this.addToTopics =
        "UPDATE "
            + s
            + "topics SET event_count = event_count + d.n"
            + " FROM unnest(?::bigint[], ?::bigint[]) AS d(id, n) WHERE topics.id = d.id";
    this.addToCounters =
        "UPDATE "
            + s
            + "counters SET received = received + ?, unique_processed = unique_processed + ?,"
            + " duplicate_dropped = duplicate_dropped + ?, expired = expired + ?,"
            + " payload_conflicts = payload_conflicts + ?, last_received_ns = ?,"
            + " expired_below = ? WHERE id = 1";
    String columns =
        "SELECT "
            + EventRows.PAGE_COLUMNS
            + " FROM "
            + s
            + "events WHERE topic_id = (SELECT id FROM "
            + s
            + "topics WHERE name = ?)";
    this.selectColumns =
        "SELECT seq, event_id, timestamp, source, payload, received_at, ts_s, ts_n FROM "
            + s
            + "events WHERE topic_id = (SELECT id FROM "
            + s
            + "topics WHERE name = ?)";
    // received_ns > cutoff: events expired by age are hidden before they are deleted.
    this.selectAscending = columns + " AND seq > ? AND received_ns > ? ORDER BY seq LIMIT ?";
    this.selectDescending = columns + " AND seq < ? AND received_ns > ? ORDER BY seq DESC LIMIT ?";
    // One statement, so counters and topic counts come from one snapshot. Topics whose events
    // all expired stay, with 0.
    this.selectStats =
        "SELECT c.received, c.unique_processed, c.duplicate_dropped, c.expired,"
            + " c.payload_conflicts, t.name, t.event_count FROM "
            + s
            + "counters c LEFT JOIN "
            + s
            + "topics t ON true ORDER BY t.id";

    this.upsertClaim =
        "INSERT INTO "
            + s
            + "claims AS c (topic, event_id, token, lease_until_ns) VALUES (?, ?, ?, ?)"
            + " ON CONFLICT (topic, event_id) DO UPDATE SET token = excluded.token,"
            + " lease_until_ns = excluded.lease_until_ns WHERE c.lease_until_ns <= ?"
            + " RETURNING (xmax::text <> '0')"; // true: an expired claim was taken over
    this.selectClaimLease =
        "SELECT lease_until_ns FROM " + s + "claims WHERE topic = ? AND event_id = ?";
    this.selectLiveEvent =
        "SELECT 1 FROM "
            + s
            + "events WHERE topic_id = (SELECT id FROM "
            + s
            + "topics WHERE name = ?) AND event_id = ? AND received_ns > ?";
    this.deleteClaim = "DELETE FROM " + s + "claims WHERE topic = ? AND event_id = ? AND token = ?";
    this.addToClaimCounters =
        "UPDATE "
            + s
            + "claim_counters SET confirmed = confirmed + ?, released = released + ?,"
            + " leases_expired = leases_expired + ? WHERE id = 1";
    this.selectClaimStats =
        "SELECT (SELECT count(*) FROM "
            + s
            + "claims), confirmed, released, leases_expired FROM "
            + s
            + "claim_counters WHERE id = 1";

    if (external != null) {
      this.ownPool = null;
      this.pool = external;
    } else {
      HikariConfig config = new HikariConfig();
      config.setJdbcUrl(url.jdbcUrl());
      if (url.user() != null) {
        config.setUsername(url.user());
      }
      if (url.password() != null) {
        config.setPassword(url.password());
      }
      config.setPoolName("aggregator-postgres-" + schema);
      config.setMaximumPoolSize(poolSize);
      config.setMinimumIdle(1);
      config.setConnectionTimeout(timeout.toMillis());
      config.setInitializationFailTimeout(timeout.toMillis());
      config.addDataSourceProperty("ApplicationName", "event-aggregator");
      config.addDataSourceProperty("tcpKeepAlive", "true");
      // Writers queue on the counters row: a node that froze inside its transaction (a long GC, a
      // network partition) must not stall the others forever. The server ends such a transaction
      // (rolled back, nothing half-stored), and a writer gives up waiting for the row with SQLState
      // 55P03 instead of hanging; its batch fails and its publishers may retry.
      config.setConnectionInitSql(
          "SET idle_in_transaction_session_timeout = '"
              + Math.max(1, timeout.toMillis()) * 6
              + "ms'; SET lock_timeout = '"
              + Math.max(1, timeout.toMillis()) * 3
              + "ms'");
      try {
        this.ownPool = new HikariDataSource(config);
      } catch (RuntimeException e) {
        throw failure("cannot connect to", e);
      }
      this.pool = ownPool;
    }
    try {
      openSchema();
    } catch (RuntimeException e) {
      if (ownPool != null) {
        ownPool.close();
      }
      throw e;
    }
    log.info("{} - opened", describe());
  }

  /** Creates the schema when it is missing or empty; checks it is ours and current otherwise. */
  private void openSchema() {
    try (Connection c = pool.getConnection()) {
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        // Serializes concurrent openers of this schema (several nodes starting at once).
        try (PreparedStatement lock =
            c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext(?))")) {
          lock.setString(1, "dev.aggregator.schema:" + schema);
          lock.execute();
        }
        st.execute("CREATE SCHEMA IF NOT EXISTS \"" + schema + "\"");
        List<String> tables = new ArrayList<>();
        try (PreparedStatement q =
            c.prepareStatement(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ?"
                    + " ORDER BY table_name")) {
          q.setString(1, schema);
          try (ResultSet rs = q.executeQuery()) {
            while (rs.next()) {
              tables.add(rs.getString(1));
            }
          }
        }
        if (tables.isEmpty()) {
          createTables(st);
          createClaimTables(st);
          c.commit();
          log.info("{} - created schema version {}", describe(), SCHEMA_VERSION);
          return;
        }
        int version = checkSchema(st, tables);
        if (version == 1) {
          upgradeFromVersion1(st);
        }
        if (version <= 2) {
          upgradeFromVersion2(c, st);
          log.info("{} - upgraded schema version {} to {}", describe(), version, SCHEMA_VERSION);
        }
        checkCounters(st);
        createClaimTables(st);
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw failure("cannot open", e);
    }
  }

  private void createTables(Statement st) throws SQLException {
    String s = "\"" + schema + "\".";
    st.execute("CREATE TABLE " + s + "aggregator_meta (key text PRIMARY KEY, value text NOT NULL)");
    st.execute(
        "INSERT INTO "
            + s
            + "aggregator_meta VALUES ('application', '"
            + APPLICATION
            + "'), ('schema_version', '"
            + SCHEMA_VERSION
            + "')");
    st.execute(
        "CREATE TABLE "
            + s
            + "counters (id int PRIMARY KEY CHECK (id = 1), received bigint NOT NULL,"
            + " unique_processed bigint NOT NULL, duplicate_dropped bigint NOT NULL,"
            + " expired bigint NOT NULL, payload_conflicts bigint NOT NULL,"
            + " last_received_ns bigint, expired_below bigint NOT NULL)");
    st.execute("INSERT INTO " + s + "counters VALUES (1, 0, 0, 0, 0, 0, NULL, 0)");
    st.execute(
        "CREATE TABLE "
            + s
            + "topics (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            + " name text NOT NULL UNIQUE, event_count bigint NOT NULL DEFAULT 0)");
    st.execute(
        "CREATE TABLE "
            + s
            + "events (seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            + " topic_id bigint NOT NULL REFERENCES "
            + s
            + "topics (id), event_id text NOT NULL, timestamp text NOT NULL,"
            + " source text NOT NULL, payload json NOT NULL, received_at text NOT NULL,"
            + " received_ns bigint NOT NULL, ts_s bigint NOT NULL, ts_n int NOT NULL,"
            + " UNIQUE (topic_id, event_id))");
    st.execute("CREATE INDEX events_by_topic ON " + s + "events (topic_id, seq)");
    createTimeIndex(st);
    st.execute(
        "COMMENT ON SCHEMA \""
            + schema
            + "\" IS 'Event Aggregator store, schema version "
            + SCHEMA_VERSION
            + "; see table aggregator_meta'");
  }

  /** The claim tables, if missing; see the design notes. */
  private void createClaimTables(Statement st) throws SQLException {
    String s = "\"" + schema + "\".";
    st.execute(
        "CREATE TABLE IF NOT EXISTS "
            + s
            + "claims (topic text NOT NULL, event_id text NOT NULL, token text NOT NULL,"
            + " lease_until_ns bigint NOT NULL, PRIMARY KEY (topic, event_id))");
    st.execute(
        "CREATE TABLE IF NOT EXISTS "
            + s
            + "claim_counters (id int PRIMARY KEY CHECK (id = 1), confirmed bigint NOT NULL,"
            + " released bigint NOT NULL, leases_expired bigint NOT NULL)");
    st.execute(
        "INSERT INTO " + s + "claim_counters VALUES (1, 0, 0, 0) ON CONFLICT (id) DO NOTHING");
  }

  @Override
  public ClaimState claim(
      String topic, String eventId, String token, Instant now, Instant leaseExpiresAt) {
    if (closed.get()) {
      throw new StoreException(describe() + " is closed");
    }
    try (Connection c = pool.getConnection()) {
      c.setAutoCommit(false);
      try {
        Boolean tookOver = null; // null: another holder's live claim stays
        try (PreparedStatement ps = c.prepareStatement(upsertClaim)) {
          ps.setString(1, topic);
          ps.setString(2, eventId);
          ps.setString(3, token);
          ps.setLong(4, EventRows.epochNanos(leaseExpiresAt));
          ps.setLong(5, EventRows.epochNanos(now));
          try (ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
              tookOver = rs.getBoolean(1);
            }
          }
        }
        // After the claim row is written or locked: see the design notes.
        try (PreparedStatement ps = c.prepareStatement(selectLiveEvent)) {
          ps.setString(1, topic);
          ps.setString(2, eventId);
          ps.setLong(3, cutoff(retention));
          try (ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
              if (Boolean.TRUE.equals(tookOver)) {
                // The claim whose lease ran out was a confirmation whose holder died before
                // ending it: end it as confirmed instead of taking it over.
                endClaimRow(c, topic, eventId, token, true);
                c.commit();
              } else {
                c.rollback();
              }
              return ClaimState.DUPLICATE;
            }
          }
        }
        if (tookOver == null) {
          try (PreparedStatement ps = c.prepareStatement(selectClaimLease)) {
            ps.setString(1, topic);
            ps.setString(2, eventId);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                throw new StoreException(describe() + ": a locked claim vanished: " + eventId);
              }
              long until = rs.getLong(1);
              c.rollback();
              return new ClaimState(Claim.Status.IN_PROGRESS, EventRows.ofEpochNanos(until));
            }
          }
        }
        if (tookOver) {
          addClaimCounters(c, 0, 0, 1);
        }
        c.commit();
        return new ClaimState(Claim.Status.ACQUIRED, leaseExpiresAt);
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(c);
        throw e;
      }
    } catch (SQLException e) {
      throw failure("cannot claim a key in", e);
    }
  }

  @Override
  public boolean endClaim(String topic, String eventId, String token, boolean confirmed) {
    if (closed.get()) {
      throw new StoreException(describe() + " is closed");
    }
    try (Connection c = pool.getConnection()) {
      c.setAutoCommit(false);
      try {
        if (!endClaimRow(c, topic, eventId, token, confirmed)) {
          c.rollback();
          return false;
        }
        c.commit();
        return true;
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(c);
        throw e;
      }
    } catch (SQLException e) {
      throw failure("cannot end a claim in", e);
    }
  }

  /** Deletes the claim if {@code token} holds it and counts how it ended; whether it did. */
  private boolean endClaimRow(
      Connection c, String topic, String eventId, String token, boolean confirmed)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(deleteClaim)) {
      ps.setString(1, topic);
      ps.setString(2, eventId);
      ps.setString(3, token);
      if (ps.executeUpdate() == 0) {
        return false;
      }
    }
    addClaimCounters(c, confirmed ? 1 : 0, confirmed ? 0 : 1, 0);
    return true;
  }

  private void addClaimCounters(Connection c, long confirmed, long released, long expired)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(addToClaimCounters)) {
      ps.setLong(1, confirmed);
      ps.setLong(2, released);
      ps.setLong(3, expired);
      ps.executeUpdate();
    }
  }

  /** Read from the database on every call: other nodes claim too. */
  @Override
  public ClaimStats claimStats() {
    try (Connection c = pool.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(selectClaimStats)) {
      rs.next();
      return new ClaimStats(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4));
    } catch (SQLException e) {
      throw failure("cannot read the claim counters of", e);
    }
  }

  /** Checks the schema is this store's, in a version this code reads; returns the version. */
  private int checkSchema(Statement st, List<String> tables) throws SQLException {
    if (!tables.contains("aggregator_meta")) {
      throw new StoreException(
          "cannot open "
              + describe()
              + ": the schema holds tables of another application "
              + tables
              + "; choose another schema");
    }
    Map<String, String> meta = new HashMap<>();
    try (ResultSet rs =
        st.executeQuery("SELECT key, value FROM \"" + schema + "\".aggregator_meta")) {
      while (rs.next()) {
        meta.put(rs.getString(1), rs.getString(2));
      }
    }
    if (!APPLICATION.equals(meta.get("application"))) {
      throw new StoreException(
          "cannot open "
              + describe()
              + ": its aggregator_meta says application '"
              + meta.get("application")
              + "', not '"
              + APPLICATION
              + "'");
    }
    int version;
    try {
      version = Integer.parseInt(String.valueOf(meta.get("schema_version")));
    } catch (NumberFormatException e) {
      throw new StoreException(
          "cannot open "
              + describe()
              + ": schema_version '"
              + meta.get("schema_version")
              + "' is not a number");
    }
    if (version > SCHEMA_VERSION) {
      throw new StoreException(
          "cannot open "
              + describe()
              + ": its schema version "
              + version
              + " is newer than this version supports ("
              + SCHEMA_VERSION
              + "); upgrade the aggregator");
    }
    if (version < 1) {
      throw new StoreException("cannot open " + describe() + ": unknown schema version " + version);
    }
    for (String table : List.of("counters", "topics", "events")) {
      if (!tables.contains(table)) {
        throw new StoreException(
            "cannot open "
                + describe()
                + ": table "
                + table
                + " is missing (found "
                + tables
                + ")");
      }
    }
    return version;
  }

  /**
   * Version 1 had no retention: adds the counters and the events' received_ns. Constant defaults,
   * which PostgreSQL adds without rewriting a row; the events stored so far count their retention
   * from now, so none expires earlier than its own receive time allows.
   */
  private void upgradeFromVersion1(Statement st) throws SQLException {
    String s = "\"" + schema + "\".";
    st.execute(
        "ALTER TABLE "
            + s
            + "counters ADD COLUMN expired bigint NOT NULL DEFAULT 0,"
            + " ADD COLUMN payload_conflicts bigint NOT NULL DEFAULT 0,"
            + " ADD COLUMN last_received_ns bigint,"
            + " ADD COLUMN expired_below bigint NOT NULL DEFAULT 0");
    st.execute(
        "ALTER TABLE "
            + s
            + "events ADD COLUMN received_ns bigint NOT NULL DEFAULT "
            + EventRows.epochNanos(Instant.now()));
    st.execute(
        "UPDATE "
            + s
            + "aggregator_meta SET value = '"
            + SCHEMA_VERSION
            + "' WHERE key = 'schema_version'");
  }

  /**
   * The events' timestamps as instants, (seconds, nanoseconds) exact over the whole Instant range,
   * indexed per topic for time ranges and timestamp order. Timestamps mostly arrive in order, so
   * each topic's inserts land at the right edge of this index, not on random pages.
   */
  private void createTimeIndex(Statement st) throws SQLException {
    st.execute(
        "CREATE INDEX events_by_time ON \"" + schema + "\".events (topic_id, ts_s, ts_n, seq)");
  }

  /**
   * Version 2 had no time columns: adds them, fills them from the stored timestamps (which version
   * 2 wrote in UTC), a chunk of rows per statement, and indexes them.
   */
  private void upgradeFromVersion2(Connection c, Statement st) throws SQLException {
    String s = "\"" + schema + "\".";
    st.execute("ALTER TABLE " + s + "events ADD COLUMN ts_s bigint, ADD COLUMN ts_n int");
    try (PreparedStatement read =
            c.prepareStatement(
                "SELECT seq, timestamp FROM "
                    + s
                    + "events WHERE seq > ? ORDER BY seq LIMIT "
                    + BACKFILL_ROWS);
        PreparedStatement write =
            c.prepareStatement(
                "UPDATE "
                    + s
                    + "events e SET ts_s = u.ts_s, ts_n = u.ts_n"
                    + " FROM unnest(?::bigint[], ?::bigint[], ?::int[]) AS u(seq, ts_s, ts_n)"
                    + " WHERE e.seq = u.seq")) {
      long after = 0;
      while (true) {
        List<Long> seqs = new ArrayList<>();
        List<Long> seconds = new ArrayList<>();
        List<Integer> nanos = new ArrayList<>();
        read.setLong(1, after);
        try (ResultSet rs = read.executeQuery()) {
          while (rs.next()) {
            Instant t = EventJson.parseTimestamp(rs.getString(2));
            seqs.add(rs.getLong(1));
            seconds.add(t.getEpochSecond());
            nanos.add(t.getNano());
          }
        }
        if (seqs.isEmpty()) {
          break;
        }
        write.setArray(1, c.createArrayOf("bigint", seqs.toArray()));
        write.setArray(2, c.createArrayOf("bigint", seconds.toArray()));
        write.setArray(3, c.createArrayOf("int", nanos.toArray()));
        write.executeUpdate();
        after = seqs.get(seqs.size() - 1);
      }
    }
    st.execute(
        "ALTER TABLE "
            + s
            + "events ALTER COLUMN ts_s SET NOT NULL,"
            + " ALTER COLUMN ts_n SET NOT NULL");
    createTimeIndex(st);
    st.execute(
        "UPDATE "
            + s
            + "aggregator_meta SET value = '"
            + SCHEMA_VERSION
            + "' WHERE key = 'schema_version'");
  }

  /**
   * The counters must add up, and agree with the rows: a count of the events, in the same snapshot
   * as the counters (one statement), so that writers of other nodes cannot come between.
   */
  private void checkCounters(Statement st) throws SQLException {
    String s = "\"" + schema + "\".";
    try (ResultSet rs =
        st.executeQuery(
            "SELECT c.received, c.unique_processed, c.duplicate_dropped, c.expired,"
                + " c.payload_conflicts, (SELECT coalesce(sum(event_count), 0) FROM "
                + s
                + "topics), (SELECT count(*) FROM "
                + s
                + "events) FROM "
                + s
                + "counters c WHERE id = 1")) {
      if (!rs.next()) {
        throw new StoreException("cannot open " + describe() + ": its counters row is missing");
      }
      long received = rs.getLong(1);
      long unique = rs.getLong(2);
      long duplicates = rs.getLong(3);
      long expired = rs.getLong(4);
      long conflicts = rs.getLong(5);
      long topicSum = rs.getLong(6);
      long rows = rs.getLong(7);
      long stored = unique - expired;
      if (received != unique + duplicates
          || expired < 0
          || stored < 0
          || conflicts < 0
          || conflicts > duplicates
          || topicSum != stored) {
        throw new StoreException(
            "cannot open "
                + describe()
                + ": the store is inconsistent: received "
                + received
                + ", unique_processed "
                + unique
                + ", duplicate_dropped "
                + duplicates
                + ", expired "
                + expired
                + ", payload_conflicts "
                + conflicts
                + ", sum of topic counts "
                + topicSum);
      }
      if (rows != stored) {
        throw new StoreException(
            "cannot open "
                + describe()
                + ": the store is inconsistent: its counters say "
                + stored
                + " events are stored (unique_processed "
                + unique
                + " - expired "
                + expired
                + ") but the events table holds "
                + rows
                + "; refusing to serve counters that disagree with the data");
      }
    }
  }

  @Override
  public void retain(Retention retention) {
    this.retention = Objects.requireNonNull(retention, "retention");
    this.expiryView = null; // read afresh by the next nextExpiry()
  }

  /** Events whose received_ns is at or below this have expired by age; MIN_VALUE: none. */
  private static long cutoff(Retention r) {
    return EventRows.expiredUpToNanos(r);
  }

  /** The state of one append's transaction, shared by its steps. */
  private static final class Work {
    long expiredBelow; // every row below this seq is deleted
    long lastReceivedNs; // received_ns of the newest claim
    int stepLeft; // how many more expired rows this transaction may delete
    int accepted;
    int removed;
    final Map<Long, Integer> topicDeltas = new LinkedHashMap<>();

    Work(long expiredBelow, long lastReceivedNs, int step) {
      this.expiredBelow = expiredBelow;
      this.lastReceivedNs = lastReceivedNs;
      this.stepLeft = step;
    }
  }

  @Override
  public List<Outcome> append(List<PendingEvent> batch) {
    return append(batch, null);
  }

  /**
   * Stores {@code events} inside the caller's open transaction on {@code connection}, so that they
   * commit or roll back together with the caller's own writes: the key and the business row are
   * kept both or neither (an exactly-once effect). Nothing is committed, rolled back or closed
   * here.
   *
   * <pre>{@code
   * try (Connection c = dataSource.getConnection()) {
   *   c.setAutoCommit(false);
   *   PublishResult r = store.append(c, List.of(Event.of("payments", paymentId)));
   *   if (r.outcome(0) == Outcome.ACCEPTED) {
   *     insertPayment(c, paymentId); // the business write, in the same transaction
   *     c.commit();                  // key and payment are stored together
   *   } else {
   *     c.rollback();                // handled before: do nothing
   *   }
   * }
   * }</pre>
   *
   * <p>The outcomes hold once the caller commits: an {@link Outcome#ACCEPTED} key is stored then,
   * and gone again if the caller rolls back. Like every batch, the call takes this store's counters
   * row for the rest of the transaction, so writers of other nodes and other transactions wait
   * until the caller commits: append last, just before the commit, and keep the transaction short.
   * A concurrent transaction appending the same key waits for this one, then finds the key {@link
   * Outcome#DUPLICATE} if it committed. Events are validated as {@link
   * dev.aggregator.EventAggregator#publish} does (payloads up to 1 MiB); their receive time is the
   * retention's clock, or the system clock without a retention. The transaction must be {@code READ
   * COMMITTED} (PostgreSQL's default).
   *
   * @return one outcome per event, in order, valid once the caller commits
   * @throws dev.aggregator.EventValidationException if an event breaks a rule; nothing is written
   * @throws IllegalStateException if {@code connection} is in autocommit mode
   * @throws StoreException if a statement failed: the caller's transaction is aborted and must be
   *     rolled back
   */
  public PublishResult append(Connection connection, List<Event> events) {
    Objects.requireNonNull(connection, "connection");
    Retention r = retention;
    List<PendingEvent> pending =
        PendingEvent.prepare(events, r != null ? r.clock().instant() : Instant.now());
    try {
      if (connection.getAutoCommit()) {
        throw new IllegalStateException(
            "the connection is in autocommit mode: call setAutoCommit(false) so that the events"
                + " commit with the rest of the transaction");
      }
    } catch (SQLException e) {
      throw failure("cannot use the caller's connection to", e);
    }
    List<Outcome> outcomes = append(pending, connection);
    return new PublishResult(outcomes, AppendResult.conflictsOf(outcomes));
  }

  /**
   * Appends {@code batch} in a transaction of its own on a pooled connection, or, when {@code
   * callers} is given, inside the caller's transaction without committing it; then nothing learnt
   * in it (topic ids, the expiry view) is cached, since the caller may still roll back.
   */
  private List<Outcome> append(List<PendingEvent> batch, Connection callers) {
    if (closed.get()) {
      throw new StoreException(describe() + " is closed");
    }
    int n = batch.size();
    Retention r = retention;
    if (n == 0 && r == null) {
      return List.of();
    }
    long cutoff = cutoff(r);
    Outcome[] outcomes = new Outcome[n];
    List<Integer> conflicts = new ArrayList<>(0);
    // First occurrence of each key in the batch; later ones are duplicates without asking.
    Map<Key, Integer> firstIndex = new HashMap<>(n * 2);
    List<Integer> candidates = new ArrayList<>(n);
    List<String> newTopics = new ArrayList<>(0);
    for (int i = 0; i < n; i++) {
      PendingEvent e = batch.get(i);
      Integer first = firstIndex.putIfAbsent(new Key(e.topic(), e.eventId()), i);
      if (first != null) {
        outcomes[i] = Outcome.DUPLICATE;
        if (!e.samePayload(batch.get(first).payloadJson())) {
          conflicts.add(i);
        }
      } else {
        candidates.add(i);
        if (!topicIds.containsKey(e.topic()) && !newTopics.contains(e.topic())) {
          newTopics.add(e.topic());
        }
      }
    }
    Map<String, Long> batchTopicIds = new HashMap<>();
    ExpiryView view = null;
    Connection own = null;
    try {
      Connection c = callers != null ? callers : (own = pool.getConnection());
      if (own != null) {
        own.setAutoCommit(false);
      }
      try {
        Work w;
        long stored;
        try (Statement st = c.createStatement();
            ResultSet rs = st.executeQuery(lockCounters)) {
          rs.next();
          stored = rs.getLong(1);
          long last = rs.getLong(2);
          boolean none = rs.wasNull(); // no event was ever claimed
          w =
              new Work(
                  rs.getLong(3),
                  none ? Long.MIN_VALUE : last,
                  r == null ? 0 : Math.max(MIN_EXPIRY_STEP, 2 * n));
        }
        if (r != null && r.limitsAge()) {
          // Before the claim: a key whose event expired must find its row gone.
          removeOldest(c, w, w.stepLeft, cutoff);
        }
        if (!newTopics.isEmpty()) {
          resolveTopics(c, newTopics, batchTopicIds);
        }
        for (int from = 0; from < candidates.size(); from += INSERT_CHUNK) {
          List<Integer> chunk =
              candidates.subList(from, Math.min(from + INSERT_CHUNK, candidates.size()));
          insertChunk(c, batch, chunk, batchTopicIds, firstIndex, outcomes, w);
        }
        List<Integer> storedDuplicates = new ArrayList<>(0);
        for (int i : candidates) {
          if (outcomes[i] == Outcome.DUPLICATE) {
            storedDuplicates.add(i);
          }
        }
        if (!storedDuplicates.isEmpty()) {
          checkStoredDuplicates(
              c,
              batch,
              storedDuplicates,
              cutoff,
              batchTopicIds,
              firstIndex,
              outcomes,
              conflicts,
              w);
        }
        if (r != null && r.limitsCount()) {
          long excess = stored + w.accepted - w.removed - r.maxEvents();
          if (excess > 0 && w.stepLeft > 0) {
            removeOldest(c, w, (int) Math.min(excess, w.stepLeft), Long.MAX_VALUE);
          }
        }
        List<Long> topics = new ArrayList<>();
        List<Long> deltas = new ArrayList<>();
        w.topicDeltas.forEach(
            (tid, delta) -> {
              if (delta != 0) {
                topics.add(tid);
                deltas.add((long) delta);
              }
            });
        if (!topics.isEmpty()) {
          try (PreparedStatement ps = c.prepareStatement(addToTopics)) {
            ps.setArray(1, c.createArrayOf("bigint", topics.toArray(new Long[0])));
            ps.setArray(2, c.createArrayOf("bigint", deltas.toArray(new Long[0])));
            ps.executeUpdate();
          }
        }
        beforeCountersForTest.run();
        try (PreparedStatement ps = c.prepareStatement(addToCounters)) {
          ps.setLong(1, n);
          ps.setLong(2, w.accepted);
          ps.setLong(3, n - w.accepted);
          ps.setLong(4, w.removed);
          ps.setLong(5, conflicts.size());
          if (w.lastReceivedNs == Long.MIN_VALUE) {
            ps.setNull(6, java.sql.Types.BIGINT);
          } else {
            ps.setLong(6, w.lastReceivedNs);
          }
          ps.setLong(7, w.expiredBelow);
          ps.executeUpdate();
        }
        if (own == null) {
          return new AppendResult(Arrays.asList(outcomes), conflicts); // the caller commits
        }
        if (r != null) {
          view = readExpiryView(c);
        }
        c.commit();
      } catch (SQLException | RuntimeException e) {
        if (own != null) {
          rollbackQuietly(own);
        }
        throw e;
      }
    } catch (SQLException e) {
      throw failure("cannot append a batch of " + n + " events to", e);
    } finally {
      if (own != null) {
        try {
          own.close();
        } catch (SQLException e) {
          // returning it to the pool failed: the pool replaces it; the outcome stands
        }
      }
    }
    topicIds.putAll(batchTopicIds); // committed now
    if (view != null) {
      expiryView = view;
    }
    return new AppendResult(Arrays.asList(outcomes), conflicts);
  }

  /**
   * Deletes up to {@code limit} of the oldest rows, those with received_ns at or below {@code
   * cutoff} (all of them for MAX_VALUE): a prefix, since received_ns never decreases with seq.
   */
  private void removeOldest(Connection c, Work w, int limit, long cutoff) throws SQLException {
    if (limit <= 0) {
      return;
    }
    int count = 0;
    long last = -1;
    try (PreparedStatement ps = c.prepareStatement(deleteOldest)) {
      ps.setLong(1, w.expiredBelow);
      ps.setInt(2, limit);
      ps.setLong(3, cutoff);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          last = Math.max(last, rs.getLong(1));
          w.topicDeltas.merge(rs.getLong(2), -1, Integer::sum);
          count++;
        }
      }
    }
    if (count > 0) {
      w.removed += count;
      w.stepLeft -= count;
      w.expiredBelow = last + 1;
    }
  }

  /**
   * The batch's keys that the claim found stored: reads their rows (one probe of the unique index
   * each) to compare payloads; a row that expired by age but was not deleted yet is deleted now and
   * its key claimed again, so that it is accepted as the retention says.
   */
  private void checkStoredDuplicates(
      Connection c,
      List<PendingEvent> batch,
      List<Integer> duplicates,
      long cutoff,
      Map<String, Long> batchTopicIds,
      Map<Key, Integer> firstIndex,
      Outcome[] outcomes,
      List<Integer> conflicts,
      Work w)
      throws SQLException {
    Long[] topic = new Long[duplicates.size()];
    String[] id = new String[duplicates.size()];
    Map<Long, String> namesById = new HashMap<>();
    for (int k = 0; k < duplicates.size(); k++) {
      PendingEvent e = batch.get(duplicates.get(k));
      topic[k] = topicId(e.topic(), batchTopicIds);
      namesById.put(topic[k], e.topic());
      id[k] = e.eventId();
    }
    Map<Key, Long> receivedNs = new HashMap<>();
    Map<Key, String> payloads = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(selectStoredKeys)) {
      ps.setArray(1, c.createArrayOf("bigint", topic));
      ps.setArray(2, c.createArrayOf("text", id));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Key key = new Key(namesById.get(rs.getLong(1)), rs.getString(2));
          receivedNs.put(key, rs.getLong(3));
          payloads.put(key, rs.getString(4));
        }
      }
    }
    List<Integer> expired = new ArrayList<>(0);
    for (int i : duplicates) {
      PendingEvent e = batch.get(i);
      Key key = new Key(e.topic(), e.eventId());
      Long stored = receivedNs.get(key);
      if (stored == null) {
        throw new StoreException(
            describe() + ": the claim refused a key that is not stored: " + key);
      }
      if (stored <= cutoff) {
        expired.add(i);
      } else if (!e.samePayload(payloads.get(key))) {
        conflicts.add(i);
      }
    }
    if (expired.isEmpty()) {
      return;
    }
    Long[] expiredTopic = new Long[expired.size()];
    String[] expiredId = new String[expired.size()];
    for (int k = 0; k < expired.size(); k++) {
      PendingEvent e = batch.get(expired.get(k));
      expiredTopic[k] = topicId(e.topic(), batchTopicIds);
      expiredId[k] = e.eventId();
    }
    try (PreparedStatement ps = c.prepareStatement(deleteStoredKeys)) {
      ps.setArray(1, c.createArrayOf("bigint", expiredTopic));
      ps.setArray(2, c.createArrayOf("text", expiredId));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          w.topicDeltas.merge(rs.getLong(1), -1, Integer::sum);
          w.removed++;
        }
      }
    }
    insertChunk(c, batch, expired, batchTopicIds, firstIndex, outcomes, w);
    for (int i : expired) {
      if (outcomes[i] != Outcome.ACCEPTED) {
        throw new StoreException(describe() + ": an expired key was not claimed again");
      }
    }
  }

  private Long topicId(String topic, Map<String, Long> batchTopicIds) {
    Long tid = topicIds.get(topic);
    return tid != null ? tid : batchTopicIds.get(topic);
  }

  /** The stored count and the received_ns of the oldest stored event, as {@code c} sees them. */
  private ExpiryView readExpiryView(Connection c) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(selectExpiryView)) {
      rs.next();
      return new ExpiryView(rs.getLong(1), rs.getLong(2), System.nanoTime());
    }
  }

  /**
   * As of this node's last transaction, or of a read when that is more than a second old: other
   * nodes store and expire events too.
   */
  @Override
  public Optional<Instant> nextExpiry() {
    Retention r = retention;
    if (r == null) {
      return Optional.empty();
    }
    ExpiryView v = expiryView;
    if (v == null || System.nanoTime() - v.seenAtNanos() > EXPIRY_VIEW_NANOS) {
      try (Connection c = pool.getConnection()) {
        v = readExpiryView(c);
      } catch (SQLException e) {
        throw failure("cannot read the oldest event of", e);
      }
      expiryView = v;
    }
    if (v.stored() == 0) {
      return Optional.empty();
    }
    if (v.stored() > r.maxEvents()) {
      return Optional.of(Instant.MIN);
    }
    if (!r.limitsAge()) {
      return Optional.empty();
    }
    return Optional.of(r.expiresAt(EventRows.ofEpochNanos(v.oldestReceivedNs())));
  }

  /** Inserts the batch's unknown topics in first-seen order and reads back their ids. */
  private void resolveTopics(Connection c, List<String> names, Map<String, Long> into)
      throws SQLException {
    Array array = c.createArrayOf("text", names.toArray(new String[0]));
    try (PreparedStatement ps = c.prepareStatement(insertTopics)) {
      ps.setArray(1, array);
      ps.executeUpdate();
    }
    try (PreparedStatement ps = c.prepareStatement(selectTopics)) {
      ps.setArray(1, array);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          into.put(rs.getString(2), rs.getLong(1));
        }
      }
    }
    if (into.size() != names.size()) {
      throw new StoreException(describe() + ": topics vanished while appending: " + names);
    }
  }

  /** The claim: inserts the chunk's keys, and each key that comes back is ACCEPTED. */
  private void insertChunk(
      Connection c,
      List<PendingEvent> batch,
      List<Integer> chunk,
      Map<String, Long> batchTopicIds,
      Map<Key, Integer> firstIndex,
      Outcome[] outcomes,
      Work w)
      throws SQLException {
    int m = chunk.size();
    Long[] topic = new Long[m];
    String[] id = new String[m];
    String[] ts = new String[m];
    String[] source = new String[m];
    String[] payload = new String[m];
    String[] received = new String[m];
    Long[] receivedNs = new Long[m];
    Long[] tsSeconds = new Long[m];
    Integer[] tsNanos = new Integer[m];
    Map<Long, String> namesById = new HashMap<>();
    for (int k = 0; k < m; k++) {
      PendingEvent e = batch.get(chunk.get(k));
      Long tid = topicId(e.topic(), batchTopicIds);
      topic[k] = tid;
      namesById.put(tid, e.topic());
      id[k] = e.eventId();
      ts[k] = e.timestampText();
      tsSeconds[k] = e.timestamp().getEpochSecond();
      tsNanos[k] = e.timestamp().getNano();
      source[k] = e.source();
      payload[k] = e.payloadJson();
      received[k] = EventRows.timestamp(e.receivedAt());
      // Never below an earlier claim's: the rows expire in seq order (see the design notes).
      w.lastReceivedNs = Math.max(w.lastReceivedNs, EventRows.epochNanos(e.receivedAt()));
      receivedNs[k] = w.lastReceivedNs;
      outcomes[chunk.get(k)] = Outcome.DUPLICATE; // until its key comes back
    }
    try (PreparedStatement ps = c.prepareStatement(insertEvents)) {
      ps.setArray(1, c.createArrayOf("bigint", topic));
      ps.setArray(2, c.createArrayOf("text", id));
      ps.setArray(3, c.createArrayOf("text", ts));
      ps.setArray(4, c.createArrayOf("text", source));
      ps.setArray(5, c.createArrayOf("text", payload));
      ps.setArray(6, c.createArrayOf("text", received));
      ps.setArray(7, c.createArrayOf("bigint", receivedNs));
      ps.setArray(8, c.createArrayOf("bigint", tsSeconds));
      ps.setArray(9, c.createArrayOf("int", tsNanos));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          long tid = rs.getLong(1);
          Integer index = firstIndex.get(new Key(namesById.get(tid), rs.getString(2)));
          if (index == null || outcomes[index] != Outcome.DUPLICATE) {
            throw new StoreException(
                describe() + ": the insert returned a key it was not given: " + rs.getString(2));
          }
          outcomes[index] = Outcome.ACCEPTED;
          w.topicDeltas.merge(tid, 1, Integer::sum);
          w.accepted++;
        }
      }
    }
  }

  private record Key(String topic, String eventId) {}

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException e) {
      // The connection is broken; the pool drops it. Nothing was committed.
    }
  }

  @Override
  public EventPage events(EventQuery query) {
    if (query.orderBy() == EventQuery.OrderBy.TIMESTAMP
        || query.from() != null
        || query.to() != null) {
      return eventsInTime(query);
    }
    long bound = EventRows.seqBound(query);
    boolean asc = query.order() == EventQuery.Order.ASC;
    try (Connection c = pool.getConnection();
        PreparedStatement ps = c.prepareStatement(asc ? selectAscending : selectDescending)) {
      ps.setString(1, query.topic());
      ps.setLong(2, bound);
      ps.setLong(3, cutoff(retention));
      ps.setInt(4, EventRows.rowLimit(query));
      try (ResultSet rs = ps.executeQuery()) {
        return EventRows.readPage(query, rs);
      }
    } catch (SQLException e) {
      throw failure("cannot read events of topic '" + query.topic() + "' from", e);
    }
  }

  /**
   * A page of a time range, or in timestamp order: one statement on the time index, with the range
   * and the cursor as row comparisons on (ts_s, ts_n[, seq]).
   */
  private EventPage eventsInTime(EventQuery query) {
    boolean asc = query.order() == EventQuery.Order.ASC;
    boolean byTimestamp = query.orderBy() == EventQuery.OrderBy.TIMESTAMP;
    Position afterPosition = null;
    long afterSeq = -1;
    if (query.after() != null) {
      if (byTimestamp) {
        afterPosition = TimestampPage.positionOf(query.after());
      } else {
        afterSeq = EventRows.seqOf(query.after());
      }
    }
    StringBuilder sql = new StringBuilder(selectColumns).append(" AND received_ns > ?");
    List<Object> parameters = new ArrayList<>();
    parameters.add(query.topic());
    parameters.add(cutoff(retention));
    if (query.from() != null) {
      sql.append(" AND (ts_s, ts_n) >= (?, ?)");
      parameters.add(query.from().getEpochSecond());
      parameters.add(query.from().getNano());
    }
    if (query.to() != null) {
      sql.append(" AND (ts_s, ts_n) < (?, ?)");
      parameters.add(query.to().getEpochSecond());
      parameters.add(query.to().getNano());
    }
    String direction = asc ? "" : " DESC";
    if (byTimestamp) {
      if (afterPosition != null) {
        sql.append(
            asc ? " AND (ts_s, ts_n, seq) > (?, ?, ?)" : " AND (ts_s, ts_n, seq) < (?, ?, ?)");
        parameters.add(afterPosition.timestamp().getEpochSecond());
        parameters.add(afterPosition.timestamp().getNano());
        parameters.add(afterPosition.seq());
      }
      sql.append(" ORDER BY ts_s").append(direction).append(", ts_n").append(direction);
      sql.append(", seq").append(direction);
    } else {
      if (afterSeq >= 0) {
        sql.append(asc ? " AND seq > ?" : " AND seq < ?");
        parameters.add(afterSeq);
      }
      sql.append(" ORDER BY seq").append(direction);
    }
    sql.append(" LIMIT ?");
    parameters.add(query.limit() + 1); // one more tells whether there is a next page
    try (Connection c = pool.getConnection();
        PreparedStatement ps = c.prepareStatement(sql.toString())) {
      for (int i = 0; i < parameters.size(); i++) {
        ps.setObject(i + 1, parameters.get(i));
      }
      List<StoredEvent> events = new ArrayList<>(query.limit());
      String next = null;
      try (ResultSet rs = ps.executeQuery()) {
        Position last = null;
        while (rs.next()) {
          if (events.size() == query.limit()) {
            next = byTimestamp ? TimestampPage.cursor(last) : EventRows.cursor(last.seq());
            break;
          }
          last = new Position(Instant.ofEpochSecond(rs.getLong(7), rs.getInt(8)), rs.getLong(1));
          events.add(EventRows.storedEvent(query.topic(), rs));
        }
      }
      return new EventPage(events, next);
    } catch (SQLException e) {
      throw failure("cannot read events of topic '" + query.topic() + "' from", e);
    }
  }

  /** Read from the database on every call: other nodes write to it too. */
  @Override
  public StoreStats stats() {
    try (Connection c = pool.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(selectStats)) {
      long received = 0;
      long unique = 0;
      long duplicates = 0;
      long expired = 0;
      long conflicts = 0;
      Map<String, Long> topics = new LinkedHashMap<>();
      while (rs.next()) {
        received = rs.getLong(1);
        unique = rs.getLong(2);
        duplicates = rs.getLong(3);
        expired = rs.getLong(4);
        conflicts = rs.getLong(5);
        String name = rs.getString(6);
        if (name != null) {
          topics.put(name, rs.getLong(7));
        }
      }
      return new StoreStats(received, unique, duplicates, expired, conflicts, topics);
    } catch (SQLException e) {
      throw failure("cannot read the counters of", e);
    }
  }

  /**
   * A round trip to the database on a pooled connection, which the pool has checked or opened:
   * {@code SELECT 1}, cancelled by the driver after {@value #PROBE_TIMEOUT_SECONDS} seconds.
   */
  @Override
  public void probe() {
    if (closed.get()) {
      throw new StoreException(describe() + " is closed");
    }
    try (Connection c = pool.getConnection();
        Statement st = c.createStatement()) {
      st.setQueryTimeout(PROBE_TIMEOUT_SECONDS);
      try (ResultSet rs = st.executeQuery("SELECT 1")) {
        rs.next();
      }
    } catch (SQLException e) {
      throw failure("cannot reach", e);
    }
  }

  /** The schema holding this store's tables. */
  public String schema() {
    return schema;
  }

  @Override
  public String describe() {
    return "postgres:"
        + (url != null ? url.safe() : "application DataSource")
        + " schema "
        + schema;
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      if (ownPool != null) {
        ownPool.close(); // the application's DataSource is the application's to close
      }
      log.info("{} - closed", describe());
    }
  }

  /** A StoreException naming the store, the reason and the SQLState, never the password. */
  private StoreException failure(String what, Throwable e) {
    SQLException sql = null;
    for (Throwable t = e; t != null && sql == null; t = t.getCause()) {
      if (t instanceof SQLException s) {
        sql = s;
      }
    }
    String reason = sql != null ? sql.getMessage() : String.valueOf(e.getMessage());
    String state =
        sql != null && sql.getSQLState() != null ? " (SQLState " + sql.getSQLState() + ")" : "";
    if (url != null && url.password() != null && !url.password().isEmpty()) {
      reason = reason.replace(url.password(), "***");
    }
    return new StoreException(what + " " + describe() + ": " + reason + state, e);
  }
}
