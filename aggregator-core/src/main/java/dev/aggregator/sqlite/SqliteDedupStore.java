package dev.aggregator.sqlite;

import dev.aggregator.Claim;
import dev.aggregator.ClaimStats;
import dev.aggregator.EventPage;
import dev.aggregator.EventQuery;
import dev.aggregator.Outcome;
import dev.aggregator.StoreException;
import dev.aggregator.StoredEvent;
import dev.aggregator.internal.IsoTimestamps;
import dev.aggregator.store.AppendResult;
import dev.aggregator.store.ClaimState;
import dev.aggregator.store.DedupStore;
import dev.aggregator.store.EventRows;
import dev.aggregator.store.PendingEvent;
import dev.aggregator.store.Retention;
import dev.aggregator.store.StoreStats;
import dev.aggregator.store.TimestampPage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/*
 * Design of the SQLite store: why it is fast and why dedup stays exact.
 *
 * The obvious design, a table with UNIQUE(topic, event_id), is an order of magnitude slower
 * (baseline (a) of aggregator-bench/RESULTS.md) and slows as the store grows: each new key lands on
 * a random page of the unique index, so a batch of n events dirties about n index pages, and the
 * index outgrows the page cache. This store keeps
 * every B-tree write at the right edge instead, and decides dedup outside SQLite:
 *
 *   events(seq INTEGER PRIMARY KEY, topic_id, received_ns, event_id, ...)   append-only,
 *                                                              seq ascending
 *   INDEX events_by_topic(topic_id)                            = (topic_id, seq): appends per topic
 *   key_blocks(first_seq INTEGER PRIMARY KEY, received_ns,     per batch, the received_ns of its
 *              hashes BLOB, topics BLOB)                       last new event, the 64-bit key
 *                                                              hashes of its new events, 8 bytes
 *                                                              each, and their topic ids, 4 each
 *   time_blocks(first_seq INTEGER PRIMARY KEY, end_seq,        the min and max event timestamp
 *               min_ns, max_ns, core_min_ns, core_max_ns,      of the events [first_seq, end_seq),
 *               outliers BLOB)                                 the range of all but a few late or
 *                                                              early ones, and those few (TimeBlock)
 *   topics(id, name, event_count), meta,
 *   counters(received, unique_processed, duplicate_dropped, expired, payload_conflicts)
 *
 * Time ranges without a random-order index. An index on the event timestamp would cost every
 * insert a B-tree write wherever its timestamp sorts, which is what this design avoids. Event
 * timestamps mostly arrive roughly in order, so instead each commit widens the newest time block
 * (one UPDATE, or one INSERT once the block covers TIME_BLOCK_EVENTS events) at the end of a table
 * of about a thousandth of the events. A range query reads the blocks, visits only those whose
 * core overlaps the range, reads the topic's (seq, timestamp) rows there through events_by_topic,
 * checks each instant, looks up the other blocks' outliers in the range by seq, and reads only the
 * page's rows whole. In timestamp order it visits block cores by core_min_ns and outliers by their
 * own time (newest first: reversed) into a heap of one page, and stops at the first visit that
 * cannot change the page; the cursor is (instant, seq). Beyond 32 outliers a
 * block, out-of-order events widen its core: correct, slower.
 *
 * Dedup index. KeyIndex, an open-addressing table on the heap, maps the 64-bit hash of every
 * stored key to its seq, in 8 bytes per entry (a 32-bit fingerprint of the hash and 32 bits of
 * the seq). A hash is only a hint: for a new event the writer looks
 * up every entry with the same hash and reads that row by its primary key (seq) to compare the
 * real topic and event_id. The rows a batch must compare are read together, 64 seqs per
 * SELECT ... WHERE seq IN (...), before the batch is decided (a query per duplicate cost 12% of the
 * writer's time in JFR). So a duplicate costs a share of one read, a new key almost never costs
 * one, and a hash collision between two different keys is detected and both are stored:
 * dedup is exact by construction, not by probability. Duplicates inside one batch are found the
 * same way in a per-batch table compared against the batch's own events.
 *
 * Atomicity and durability. A batch is one BEGIN IMMEDIATE transaction: the events, their key
 * block, the topic counts and the counters commit together or not at all. The heap index is
 * updated only after COMMIT; after a crash it is rebuilt at open from key_blocks, which are exactly
 * the committed keys (a sequential read of 8 bytes per event, no scan of the events). Counters are
 * therefore always consistent with the stored rows, and open() checks that they are: against the
 * number of rows (a row deleted by hand would leave its key in the index, a duplicate with no event
 * to show) and against the first and last seq.
 *
 * Retention. Rows are in receive order, so expiry removes a prefix of the seqs: the store always
 * holds the seqs [floor, nextSeq), with floor - 1 == expired and nextSeq - 1 == unique_processed.
 * received_ns is the receive time raised to the previous row's where that was later, so it never
 * decreases with seq and the events expired by age are exactly the first rows. Each transaction
 * (an empty one too) removes a step of at most max(4,096, 2 x batch) expired rows, all with the
 * batch: the key blocks at the head say which (a block goes by age once its last event expired;
 * the oldest beyond maxEvents go one by one), give their hashes for the index and their topics for
 * the topic counts, so no row is read before the DELETE of the seq range; then the key blocks now
 * wholly expired go, and topic counts and counters change (reading the rows first would add
 * JDBC calls per row). Steady ingest removes about what it
 * inserts, so no transaction grows; a backlog (after a long stop, or a lower maxEvents) shrinks by
 * a step per transaction, and nextExpiry() makes the aggregator's idle writer run empty ones.
 * Deleted pages go to SQLite's freelist and are reused by later inserts, so the file stops growing
 * once expiry keeps pace; the key index removes the keys after COMMIT and reuses their slots, or
 * shrinks.
 *
 * Exactness does not wait for removal: an event whose received_ns has passed the retention is
 * hidden from reads (received_ns > cutoff in the query) and is no duplicate (the verify read of a
 * hash match also reads received_ns), from the instant it expires, whether its row is gone yet or
 * not. Removal only frees space and moves the counters (so an event expired by age stays counted
 * in stored until the batch it came with has expired too, a batch's receive times being apart by
 * its queueing time). Conflicts cost only on duplicates: the
 * verify read also reads the stored payload, and equal texts, the usual retry, compare without
 * parsing.
 *
 * One writer. The index lives in this process, so a second writer on the same file would make it
 * stale. A lock file (<db>.lock, FileChannel.tryLock) makes a second opener, in this or another
 * process, fail with a clear error instead. close() deletes it while still holding the lock, so a
 * clean stop leaves nothing behind; an opener that got the lock checks that the path still names
 * the file it locked (the owner's token, written after locking, is in it), and tries again if the
 * owner deleted it meanwhile, so two openers can never each lock a different file of the same
 * name. Readers use their own connections (WAL lets them read
 * beside the writer) and see committed data only; in-memory mirrors of the counters and topic ids
 * are also updated only after COMMIT.
 *
 * Pragmas: journal_mode=WAL (readers beside the writer, one fsync-free append per commit; the WAL
 * is copied into the database by WalCheckpointer on its own thread, not inside the writer's COMMIT);
 * synchronous=NORMAL by default (survives a process crash, an OS crash may lose the last commits)
 * or FULL (fsync per commit, survives power loss); busy_timeout so a checkpoint by another
 * connection waits instead of failing; a 64 MiB page cache for the B-tree interiors of large stores.
 *
 * Claims (ConsumerGuard) live in a table of their own, claims(topic, event_id, token,
 * lease_until_ns) WITHOUT ROWID, with claim_counters(confirmed, released, leases_expired): append()
 * never reads or writes them, so publishing pays nothing for claims. A claim is decided on the
 * writer thread like an append: first whether the key is stored (the same index probe and verify
 * read as a batch), then the claim row, in a BEGIN IMMEDIATE transaction of its own, committed
 * before the guard runs its handler. Both tables are created if missing at open, also in a file of
 * schema version 2 written before they existed; a reader that does not know them ignores them, so
 * the schema version stays.
 *
 * Schema versioning: application_id marks the file as ours, user_version is the schema version;
 * a foreign database, a newer schema or a file that is not a database fails open() with a message
 * naming the file and the reason. Version 2 (before time blocks) is upgraded at open with one
 * block of unknown bounds over the events stored so far, so no event is read; range queries read
 * those until they expire. Version 1 (before retention) is upgraded in place at open: three
 * columns with constant defaults, which SQLite adds without rewriting a row; its events count their
 * retention from the upgrade, so none expires earlier than its own receive time allows.
 */
/**
 * The embedded default store: one SQLite file, WAL mode, exact dedup with a heap index of key
 * hashes. See the design notes above for why it is shaped this way.
 *
 * <pre>{@code
 * DedupStore store = SqliteDedupStore.builder(Path.of("data/aggregator.db"))
 *     .synchronous(SqliteDedupStore.Synchronous.FULL)
 *     .open();
 * }</pre>
 */
public final class SqliteDedupStore implements DedupStore {
  private static final Logger log = LoggerFactory.getLogger(SqliteDedupStore.class);

  /** SQLite's {@code synchronous} setting: what a commit survives. */
  public enum Synchronous {
    /** Survives a crash of the process; an OS crash or power loss may lose the last commits. */
    NORMAL,
    /** Also survives power loss: an fsync per commit. */
    FULL
  }

  /** "EVAG": marks a database file as this store's. */
  static final int APPLICATION_ID = 0x45564147;

  /** The schema this code reads and writes. */
  static final int SCHEMA_VERSION = 3;

  /** A time block is extended by later transactions until it covers this many events. */
  static final int TIME_BLOCK_EVENTS = 1024;

  private static final int MAX_READERS = 4;

  /** Keys put into the index at a time when it is rebuilt at open: 8 MiB of hashes. */
  private static final int LOAD_CHUNK_KEYS = 1 << 20;

  /** Stored keys read per statement when a batch verifies its hash matches. */
  private static final int KEYS_PER_READ = 64;

  /** The fewest expired events a transaction removes when that many are due. */
  static final int MIN_EXPIRY_STEP = 4096;

  /** Up to this many topics in a step, its rows are deleted topic by topic (see removeExpired). */
  private static final int PER_TOPIC_DELETES = 16;

  private final Path file;
  private final SQLiteConfig config;
  private final String url;
  private final FileChannel lockChannel;
  private final Object fileKey; // the inode: tells whether the file was deleted or replaced
  private final Connection writer;
  private final Statement transaction;
  private final KeyHasher hasher;
  private final KeyIndex index;
  private final PreparedStatement insertEvent;
  private final PreparedStatement insertTopic;
  private final PreparedStatement insertKeyBlock;
  private final PreparedStatement addToTopic;
  private final PreparedStatement addToCounters;
  private final PreparedStatement selectKeys;
  private final PreparedStatement deleteEvents;
  private final PreparedStatement deleteTopicEvents;
  private final PreparedStatement selectOldestBlocks;
  private final PreparedStatement deleteBlocks;
  private final PreparedStatement insertTimeBlock;
  private final PreparedStatement extendTimeBlock;
  private final PreparedStatement deleteTimeBlocks;
  private final WalCheckpointer checkpointer;
  // Claims: prepared once at open, used by the writer thread only.
  private PreparedStatement selectClaim;
  private PreparedStatement upsertClaim;
  private PreparedStatement deleteClaim;
  private PreparedStatement addToClaimCounters;
  private volatile ClaimStats claimStats = ClaimStats.NONE; // as of the last commit
  private final boolean comparePayloads;
  private final boolean timeBlocksOn;
  private volatile Retention retention;

  // Writer thread only: include topics of the batch in flight.
  private final Map<String, Integer> topicIds = new HashMap<>();
  private int nextTopicId;
  private long nextSeq;
  private long floor; // the oldest seq not removed; == nextSeq when no event is stored
  private long headBlockNs; // received_ns of the last event of the key block holding floor
  private long lastReceivedNs = Long.MIN_VALUE; // of the event at nextSeq - 1, if there is one
  private final Map<Integer, String> topicNames = new HashMap<>();
  private int matchedPosition; // set by isEarlier: the batch position of the key's first event
  private StoredKey matchedStored; // set by isLive: the stored event of the key
  private int[] removedOfTopic = new int[0]; // removeExpired's counts per topic id
  private TimeBlock lastTimeBlock; // the newest row of time_blocks, or null

  // Committed state, for readers. Counters are guarded by `committed`.
  private final Map<String, Integer> committedTopicIds = new ConcurrentHashMap<>();
  private final Object committed = new Object();
  private long received;
  private long uniqueProcessed;
  private long duplicateDropped;
  private long expired;
  private long payloadConflicts;
  private long committedHeadBlockNs; // headBlockNs as of the last commit
  private final Map<String, Long> topicCounts = new LinkedHashMap<>();

  private final LinkedBlockingQueue<Reader> idleReaders = new LinkedBlockingQueue<>();
  private final AtomicInteger openedReaders = new AtomicInteger();
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * Opens (or creates) the store in {@code file} with {@code synchronous=NORMAL}.
   *
   * @throws StoreException naming the file and the reason if it cannot be used
   */
  public static SqliteDedupStore open(Path file) {
    return builder(file).open();
  }

  /** A builder for a store in {@code file}, to set options before opening it. */
  public static Builder builder(Path file) {
    return new Builder(file);
  }

  /** Options of a {@link SqliteDedupStore}. */
  public static final class Builder {
    private final Path file;
    private Synchronous synchronous = Synchronous.NORMAL;
    private boolean comparePayloads = true;
    private KeyHasher hasher;
    // A measurement knob, not an option: off, commits write no time blocks and range queries read
    // every event of the topic, the baseline the benchmarks compare against.
    private boolean timeBlocks =
        Boolean.parseBoolean(System.getProperty("dev.aggregator.sqlite.timeBlocks", "true"));

    private Builder(Path file) {
      this.file = Objects.requireNonNull(file, "file");
    }

    /** What a commit survives; default {@link Synchronous#NORMAL}. */
    public Builder synchronous(Synchronous synchronous) {
      this.synchronous = Objects.requireNonNull(synchronous, "synchronous");
      return this;
    }

    /**
     * Whether a duplicate's payload is compared with the stored event's, to report a conflict (see
     * {@link dev.aggregator.PublishResult#conflict}). Default {@code true}. Off, a duplicate does
     * not read the stored payload, and no duplicate is reported as a conflict.
     */
    public Builder comparePayloads(boolean compare) {
      this.comparePayloads = compare;
      return this;
    }

    /** Tests only: a hash function that collides on purpose. */
    /** Benchmarks and tests only: whether commits write time blocks and ranges read them. */
    Builder timeBlocks(boolean on) {
      this.timeBlocks = on;
      return this;
    }

    Builder keyHasher(KeyHasher hasher) {
      this.hasher = hasher;
      return this;
    }

    /**
     * Opens (or creates) the store; the parent directory is created when missing.
     *
     * @throws StoreException naming the file and the reason if it cannot be used
     */
    public SqliteDedupStore open() {
      return new SqliteDedupStore(
          file.toAbsolutePath(), synchronous, comparePayloads, hasher, timeBlocks);
    }
  }

  private SqliteDedupStore(
      Path file,
      Synchronous synchronous,
      boolean comparePayloads,
      KeyHasher hasherOverride,
      boolean timeBlocks) {
    this.file = file;
    this.timeBlocksOn = timeBlocks;
    this.comparePayloads = comparePayloads;
    this.url = "jdbc:sqlite:" + file;
    this.config = new SQLiteConfig();
    config.setJournalMode(SQLiteConfig.JournalMode.WAL);
    config.setSynchronous(
        synchronous == Synchronous.FULL
            ? SQLiteConfig.SynchronousMode.FULL
            : SQLiteConfig.SynchronousMode.NORMAL);
    config.setBusyTimeout(10_000);
    config.setCacheSize(-65_536); // KiB
    config.setTempStore(SQLiteConfig.TempStore.MEMORY);
    // The driver otherwise prepares and runs "SELECT last_insert_rowid()" after every INSERT,
    // for getGeneratedKeys(), which nothing here calls: 10% of the writer's CPU per commit of
    // 6 events, what 16 single-event HTTP clients make (AppendCost, three interleaved pairs).
    config.setGetGeneratedKeys(false);

    this.lockChannel = lock(file);
    Connection c = null;
    try {
      // JDBC autocommit stays on and the writer says BEGIN IMMEDIATE / COMMIT / ROLLBACK itself:
      // after some errors (SQLITE_FULL, SQLITE_IOERR) SQLite rolls back on its own, and the
      // driver's implicit transactions would then lose track and fail every later batch.
      c = config.createConnection(url);
      this.transaction = c.createStatement();
      long seed = openSchema(c);
      this.hasher = hasherOverride != null ? hasherOverride : KeyHasher.seeded(seed);
      this.fileKey = fileKey(file);
      this.writer = c;
      this.index = loadState();
      this.insertEvent =
          c.prepareStatement(
              "INSERT INTO events(seq, topic_id, event_id, timestamp, source, payload, received_at,"
                  + " received_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
      this.insertTopic =
          c.prepareStatement("INSERT INTO topics(id, name, event_count) VALUES (?, ?, 0)");
      this.insertKeyBlock =
          c.prepareStatement(
              "INSERT INTO key_blocks(first_seq, hashes, topics, received_ns) VALUES (?, ?, ?, ?)");
      this.addToTopic =
          c.prepareStatement("UPDATE topics SET event_count = event_count + ? WHERE id = ?");
      this.addToCounters =
          c.prepareStatement(
              "UPDATE counters SET received = received + ?,"
                  + " unique_processed = unique_processed + ?,"
                  + " duplicate_dropped = duplicate_dropped + ?, expired = expired + ?,"
                  + " payload_conflicts = payload_conflicts + ?");
      this.selectKeys =
          c.prepareStatement(
              "SELECT seq, topic_id, event_id, received_ns"
                  + (comparePayloads ? ", payload" : "")
                  + " FROM events WHERE seq IN ("
                  + "?, ".repeat(KEYS_PER_READ - 1)
                  + "?)");
      this.deleteEvents = c.prepareStatement("DELETE FROM events WHERE seq >= ? AND seq < ?");
      this.deleteTopicEvents =
          c.prepareStatement("DELETE FROM events WHERE topic_id = ? AND seq >= ? AND seq < ?");
      this.selectOldestBlocks =
          c.prepareStatement(
              "SELECT first_seq, received_ns, hashes, topics FROM key_blocks ORDER BY first_seq");
      this.deleteBlocks = c.prepareStatement("DELETE FROM key_blocks WHERE first_seq < ?");
      this.insertTimeBlock =
          c.prepareStatement(
              "INSERT INTO time_blocks(first_seq, end_seq, min_ns, max_ns, core_min_ns,"
                  + " core_max_ns, outliers) VALUES (?, ?, ?, ?, ?, ?, ?)");
      this.extendTimeBlock =
          c.prepareStatement(
              "UPDATE time_blocks SET end_seq = ?, min_ns = ?, max_ns = ?, core_min_ns = ?,"
                  + " core_max_ns = ?, outliers = ? WHERE first_seq = ?");
      this.deleteTimeBlocks = c.prepareStatement("DELETE FROM time_blocks WHERE end_seq <= ?");
      try (Statement s = c.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT "
                      + TIME_BLOCK_COLUMNS
                      + " FROM time_blocks ORDER BY first_seq DESC LIMIT 1")) {
        this.lastTimeBlock = rs.next() ? timeBlock(rs) : null;
      }
      coverUntimedEvents();
      transaction.execute("PRAGMA wal_autocheckpoint = " + WalCheckpointer.WRITER_THRESHOLD_PAGES);
      openClaims(c);
      this.checkpointer = new WalCheckpointer(config.createConnection(url), describe());
    } catch (SQLException | IOException | RuntimeException e) {
      closeQuietly(c);
      unlock(file, lockChannel);
      throw e instanceof StoreException se ? se : failure("cannot open", e);
    }
  }

  private static Path lockFile(Path file) {
    return file.resolveSibling(file.getFileName() + ".lock");
  }

  /** Takes the single-writer lock, or fails naming who may hold it. */
  private static FileChannel lock(Path file) {
    Path lockFile = lockFile(file);
    FileChannel channel = null;
    try {
      if (file.getParent() != null) {
        Files.createDirectories(file.getParent());
      }
      if (Files.isDirectory(file)) {
        throw new StoreException("cannot open " + file + ": it is a directory");
      }
      // A few rounds at most: each retry means an owner deleted the file while we waited.
      for (int attempt = 0; attempt < 10; attempt++) {
        channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = channel.tryLock();
        if (lock == null) {
          throw new StoreException(
              "cannot open "
                  + file
                  + ": it is in use by another process ("
                  + lockFile
                  + " is locked)");
        }
        byte[] token =
            ("pid " + ProcessHandle.current().pid() + " " + new SecureRandom().nextLong() + "\n")
                .getBytes(StandardCharsets.US_ASCII);
        channel.truncate(0);
        channel.write(ByteBuffer.wrap(token), 0);
        if (namesLockedFile(lockFile, token)) {
          return channel;
        }
        closeQuietly(channel); // locked a file its owner deleted: lock the current one
        channel = null;
      }
      throw new StoreException("cannot open " + file + ": " + lockFile + " keeps being replaced");
    } catch (OverlappingFileLockException e) {
      closeQuietly(channel);
      throw new StoreException("cannot open " + file + ": it is already open in this process");
    } catch (IOException e) {
      closeQuietly(channel);
      throw new StoreException("cannot open " + file + ": " + e, e);
    } catch (StoreException e) {
      closeQuietly(channel);
      throw e;
    }
  }

  /** Whether {@code lockFile} still names the file holding {@code token}, the one just locked. */
  private static boolean namesLockedFile(Path lockFile, byte[] token) throws IOException {
    try {
      return Arrays.equals(Files.readAllBytes(lockFile), token);
    } catch (NoSuchFileException e) {
      return false;
    }
  }

  /** Checks the file is ours and current, or creates the schema in an empty file; the seed. */
  private long openSchema(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      int applicationId = intPragma(s, "application_id");
      int version = intPragma(s, "user_version");
      List<String> tables = new ArrayList<>();
      try (ResultSet rs = s.executeQuery("SELECT name FROM sqlite_schema WHERE type = 'table'")) {
        while (rs.next()) {
          tables.add(rs.getString(1));
        }
      }
      if (applicationId == 0 && version == 0 && tables.isEmpty()) {
        long seed = new SecureRandom().nextLong();
        s.execute("BEGIN IMMEDIATE");
        createSchema(s, seed);
        s.execute("COMMIT");
        return seed;
      }
      if (applicationId != APPLICATION_ID) {
        throw new StoreException(
            "cannot open "
                + file
                + ": it is an SQLite database of another application (application_id "
                + applicationId
                + ", tables "
                + tables
                + ")");
      }
      if (version > SCHEMA_VERSION) {
        throw new StoreException(
            "cannot open "
                + file
                + ": its schema version "
                + version
                + " is newer than this version supports ("
                + SCHEMA_VERSION
                + "); upgrade the aggregator");
      }
      if (version < 1) {
        throw new StoreException("cannot open " + file + ": unknown schema version " + version);
      }
      if (version < SCHEMA_VERSION) {
        s.execute("BEGIN IMMEDIATE");
        if (version == 1) {
          upgradeFromVersion1(s);
        }
        upgradeFromVersion2(s);
        log.info("{} - upgraded schema version {} to {}", describe(), version, SCHEMA_VERSION);
        s.execute("COMMIT");
      }
      try (ResultSet rs = s.executeQuery("SELECT value FROM meta WHERE key = 'hash_seed'")) {
        if (!rs.next()) {
          throw new StoreException("cannot open " + file + ": its hash seed is missing");
        }
        return rs.getLong(1);
      }
    }
  }

  private static void createSchema(Statement s, long seed) throws SQLException {
    s.executeUpdate("PRAGMA application_id = " + APPLICATION_ID);
    s.executeUpdate("PRAGMA user_version = " + SCHEMA_VERSION);
    s.executeUpdate("CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID");
    s.executeUpdate("INSERT INTO meta(key, value) VALUES ('hash_seed', " + seed + ")");
    s.executeUpdate(
        "CREATE TABLE counters (id INTEGER PRIMARY KEY CHECK (id = 1),"
            + " received INTEGER NOT NULL, unique_processed INTEGER NOT NULL,"
            + " duplicate_dropped INTEGER NOT NULL, expired INTEGER NOT NULL,"
            + " payload_conflicts INTEGER NOT NULL)");
    s.executeUpdate("INSERT INTO counters VALUES (1, 0, 0, 0, 0, 0)");
    // id order is first-seen order.
    s.executeUpdate(
        "CREATE TABLE topics (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
            + " event_count INTEGER NOT NULL)");
    // received_ns before the payload: expiry reads it from the oldest rows, and a column after a
    // large payload would sit on its overflow pages.
    s.executeUpdate(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY, topic_id INTEGER NOT NULL,"
            + " received_ns INTEGER NOT NULL, event_id TEXT NOT NULL, timestamp TEXT NOT NULL,"
            + " source TEXT NOT NULL, payload TEXT NOT NULL, received_at TEXT NOT NULL)");
    // An index on topic_id holds (topic_id, seq): each append lands at the end of its topic.
    s.executeUpdate("CREATE INDEX events_by_topic ON events (topic_id)");
    // A column after a blob long enough to spill is read through the blob's overflow pages: so
    // received_ns first (the expiry step decides by it alone whether it needs a block), then the
    // hashes (all the index rebuild at open reads), then the topics.
    s.executeUpdate(
        "CREATE TABLE key_blocks (first_seq INTEGER PRIMARY KEY, received_ns INTEGER NOT NULL,"
            + " hashes BLOB NOT NULL, topics BLOB NOT NULL)");
    createTimeBlocks(s);
  }

  /**
   * The events [first_seq, end_seq) have timestamps in [min_ns, max_ns] (nanoseconds since the
   * epoch, saturated at the ends of the long range): a range query reads only the blocks that
   * overlap it. Rows are appended, and the newest is extended until it covers TIME_BLOCK_EVENTS
   * events, so the table stays about a thousandth of the events and each commit writes at its end.
   */
  private static void createTimeBlocks(Statement s) throws SQLException {
    s.executeUpdate(
        "CREATE TABLE time_blocks (first_seq INTEGER PRIMARY KEY, end_seq INTEGER NOT NULL,"
            + " min_ns INTEGER NOT NULL, max_ns INTEGER NOT NULL, core_min_ns INTEGER NOT NULL,"
            + " core_max_ns INTEGER NOT NULL, outliers BLOB NOT NULL)");
  }

  /**
   * Version 2 had no time blocks: one block covers every event stored so far, with unknown bounds,
   * so range queries read those events (and filter them) until they expire; no event is read now.
   */
  private void upgradeFromVersion2(Statement s) throws SQLException {
    createTimeBlocks(s);
    s.executeUpdate(
        "INSERT INTO time_blocks(first_seq, end_seq, min_ns, max_ns, core_min_ns, core_max_ns,"
            + " outliers) SELECT min(seq), max(seq) + 1, "
            + Long.MIN_VALUE
            + ", "
            + Long.MAX_VALUE
            + ", "
            + Long.MIN_VALUE
            + ", "
            + Long.MAX_VALUE
            + ", x'' FROM events HAVING count(*) > 0");
    s.executeUpdate("PRAGMA user_version = " + SCHEMA_VERSION);
  }

  /**
   * Version 1 had no retention: adds the counters, the events' received_ns and the key blocks'
   * topics and received_ns. Constant defaults, so SQLite adds the columns without rewriting a row;
   * the events stored so far count their retention from now. The key blocks' topics are filled from
   * the events, a block at a time: one read of the table, once.
   */
  private void upgradeFromVersion1(Statement s) throws SQLException {
    long now = EventRows.epochNanos(Instant.now());
    s.executeUpdate("ALTER TABLE counters ADD COLUMN expired INTEGER NOT NULL DEFAULT 0");
    s.executeUpdate("ALTER TABLE counters ADD COLUMN payload_conflicts INTEGER NOT NULL DEFAULT 0");
    s.executeUpdate("ALTER TABLE events ADD COLUMN received_ns INTEGER NOT NULL DEFAULT " + now);
    s.executeUpdate("ALTER TABLE key_blocks ADD COLUMN topics BLOB");
    s.executeUpdate(
        "ALTER TABLE key_blocks ADD COLUMN received_ns INTEGER NOT NULL DEFAULT " + now);
    List<long[]> blocks = new ArrayList<>(); // first_seq, events
    try (ResultSet rs = s.executeQuery("SELECT first_seq, length(hashes) / 8 FROM key_blocks")) {
      while (rs.next()) {
        blocks.add(new long[] {rs.getLong(1), rs.getLong(2)});
      }
    }
    Connection c = s.getConnection();
    try (PreparedStatement read =
            c.prepareStatement(
                "SELECT topic_id FROM events WHERE seq >= ? AND seq < ? ORDER BY seq");
        PreparedStatement write =
            c.prepareStatement("UPDATE key_blocks SET topics = ? WHERE first_seq = ?")) {
      for (long[] block : blocks) {
        ByteBuffer topics = ByteBuffer.allocate(4 * (int) block[1]).order(ByteOrder.LITTLE_ENDIAN);
        read.setLong(1, block[0]);
        read.setLong(2, block[0] + block[1]);
        try (ResultSet rs = read.executeQuery()) {
          while (rs.next()) {
            topics.putInt(rs.getInt(1));
          }
        }
        if (topics.hasRemaining()) {
          throw inconsistent("the events of key block " + block[0] + " are missing");
        }
        write.setBytes(1, topics.array());
        write.setLong(2, block[0]);
        write.executeUpdate();
      }
    }
  }

  private static int intPragma(Statement s, String pragma) throws SQLException {
    try (ResultSet rs = s.executeQuery("PRAGMA " + pragma)) {
      return rs.next() ? rs.getInt(1) : 0;
    }
  }

  /** Loads counters, topics and the dedup index, and checks that they agree with the events. */
  private KeyIndex loadState() throws SQLException {
    try (Statement s = writer.createStatement()) {
      try (ResultSet rs =
          s.executeQuery(
              "SELECT received, unique_processed, duplicate_dropped, expired, payload_conflicts"
                  + " FROM counters")) {
        if (!rs.next()) {
          throw new StoreException("cannot open " + file + ": its counters row is missing");
        }
        received = rs.getLong(1);
        uniqueProcessed = rs.getLong(2);
        duplicateDropped = rs.getLong(3);
        expired = rs.getLong(4);
        payloadConflicts = rs.getLong(5);
      }
      if (received != uniqueProcessed + duplicateDropped
          || expired < 0
          || expired > uniqueProcessed
          || payloadConflicts < 0
          || payloadConflicts > duplicateDropped) {
        throw inconsistent(
            "received "
                + received
                + ", unique_processed "
                + uniqueProcessed
                + ", duplicate_dropped "
                + duplicateDropped
                + ", expired "
                + expired
                + ", payload_conflicts "
                + payloadConflicts);
      }
      long stored = uniqueProcessed - expired;
      floor = expired + 1;
      nextSeq = uniqueProcessed + 1;
      // count(*) walks the smallest index; min and max are one B-tree descent each.
      long rows = longQuery(s, "SELECT count(*) FROM events");
      if (rows != stored) {
        throw inconsistent(
            "its counters say "
                + stored
                + " events are stored (unique_processed "
                + uniqueProcessed
                + " - expired "
                + expired
                + ") but the events table holds "
                + rows
                + "; refusing to serve counters that disagree with the data");
      }
      if (stored > 0) {
        long first = longQuery(s, "SELECT min(seq) FROM events");
        long last = longQuery(s, "SELECT max(seq) FROM events");
        if (first != floor || last != nextSeq - 1) {
          throw inconsistent(
              "its counters say events "
                  + floor
                  + " to "
                  + (nextSeq - 1)
                  + " are stored but the events table holds "
                  + first
                  + " to "
                  + last);
        }
        lastReceivedNs = longQuery(s, "SELECT received_ns FROM events WHERE seq = " + last);
        headBlockNs = longQuery(s, "SELECT received_ns FROM key_blocks ORDER BY first_seq LIMIT 1");
        committedHeadBlockNs = headBlockNs;
      }
      long topicSum = 0;
      try (ResultSet rs = s.executeQuery("SELECT id, name, event_count FROM topics ORDER BY id")) {
        while (rs.next()) {
          int id = rs.getInt(1);
          String name = rs.getString(2);
          topicIds.put(name, id);
          topicNames.put(id, name);
          committedTopicIds.put(name, id);
          topicCounts.put(name, rs.getLong(3));
          topicSum += rs.getLong(3);
          nextTopicId = Math.max(nextTopicId, id + 1);
        }
      }
      if (topicSum != stored) {
        throw inconsistent(
            "its counters say " + stored + " events are stored, its topics " + topicSum);
      }
      return loadIndex(s, stored);
    }
  }

  /**
   * The dedup index, from the key blocks of the stored seqs [floor, nextSeq): the first block may
   * begin before floor (its first events expired), the others follow each other without a gap.
   */
  private KeyIndex loadIndex(Statement s, long stored) throws SQLException {
    KeyIndex loaded = new KeyIndex(stored);
    loaded.floor(floor);
    long seq = floor; // the seq of the next hash to index
    // Keys are added a chunk at a time, each chunk in slot order (see KeyIndex.putAll).
    long[] chunk = new long[(int) Math.min(LOAD_CHUNK_KEYS, Math.max(stored, 1))];
    int inChunk = 0;
    boolean firstBlock = true;
    try (ResultSet rs =
        s.executeQuery("SELECT first_seq, hashes FROM key_blocks ORDER BY first_seq")) {
      while (rs.next()) {
        long blockSeq = rs.getLong(1);
        if (firstBlock ? blockSeq > floor : blockSeq != seq + inChunk) {
          throw inconsistent("key block at seq " + blockSeq + ", expected " + (seq + inChunk));
        }
        ByteBuffer hashes = ByteBuffer.wrap(rs.getBytes(2)).order(ByteOrder.LITTLE_ENDIAN);
        if (firstBlock) {
          long skip = floor - blockSeq; // hashes of expired events
          if (skip >= hashes.remaining() / 8) {
            throw inconsistent("key block at seq " + blockSeq + " holds no stored event");
          }
          hashes.position((int) (8 * skip));
          firstBlock = false;
        }
        while (hashes.hasRemaining()) {
          if (inChunk == chunk.length) {
            loaded.putAll(chunk, inChunk, seq);
            seq += inChunk;
            inChunk = 0;
          }
          chunk[inChunk++] = hashes.getLong();
        }
      }
    }
    loaded.putAll(chunk, inChunk, seq);
    seq += inChunk;
    if (seq != nextSeq || loaded.size() != stored) {
      throw inconsistent(
          "its key blocks end before seq "
              + seq
              + " and index "
              + loaded.size()
              + " keys, but the counters say "
              + stored
              + " events up to seq "
              + (nextSeq - 1));
    }
    return loaded;
  }

  private static long longQuery(Statement s, String sql) throws SQLException {
    try (ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private StoreException inconsistent(String detail) {
    return new StoreException("cannot open " + file + ": the store is inconsistent: " + detail);
  }

  @Override
  public void retain(Retention retention) {
    this.retention = Objects.requireNonNull(retention, "retention");
  }

  /** Events whose received_ns is at or below this have expired by age; MIN_VALUE: none. */
  private static long cutoff(Retention r) {
    return EventRows.expiredUpToNanos(r);
  }

  @Override
  public List<Outcome> append(List<PendingEvent> batch) {
    if (closed.get()) {
      throw new StoreException(describe() + " is closed");
    }
    int n = batch.size();
    Retention r = retention;
    long cutoff = cutoff(r);
    Outcome[] outcomes = new Outcome[n];
    long[] hashes = new long[n]; // of the accepted events, in seq order
    int[] topicsOfAccepted = new int[n];
    int accepted = 0;
    List<Integer> conflicts = new ArrayList<>(0);
    Map<Integer, Integer> topicDeltas = new HashMap<>();
    List<String> newTopics = new ArrayList<>(0);
    int nextTopicIdBefore = nextTopicId;
    long lastReceivedNsBefore = lastReceivedNs;
    Removal removal = null;
    TimeBlock lastTimeBlockBefore = lastTimeBlock;
    long[] timestampsNs = new long[n]; // of the accepted events, in seq order
    KeyIndex batchIndex = new KeyIndex(n); // sized to the batch: clearing a big one cost more
    // Before anything is written: after COMMIT, publishCommitted must not fail, or the index and
    // nextSeq would disagree with the file and every later batch would reuse committed seqs (the
    // soak found exactly that: an OutOfMemoryError while the index doubled after a commit, then
    // SQLITE_CONSTRAINT_PRIMARYKEY on every append, for good). An OutOfMemoryError here fails
    // only this batch, with nothing written.
    index.trim();
    index.reserve(n);
    if (nextSeq + n - floor > KeyIndex.WINDOW) {
      throw new StoreException(
          describe()
              + " is full: it holds at most "
              + KeyIndex.WINDOW
              + " events, and a batch of "
              + n
              + " would pass that");
    }
    try {
      transaction.execute("BEGIN IMMEDIATE");
      // Every stored row whose hash matches an event of the batch, read in a few statements
      // rather than one query per match: a duplicate then costs a hash probe, not a round trip.
      long[] batchHashes = new long[n];
      boolean[] matched = new boolean[n]; // a stored hash equals this event's: probe it again
      Set<Long> candidates = new HashSet<>();
      for (int i = 0; i < n; i++) {
        PendingEvent e = batch.get(i);
        batchHashes[i] = hasher.hash(e.topic(), e.eventId());
        int at = i;
        index.anyMatch(
            batchHashes[i],
            seq -> {
              candidates.add(seq);
              matched[at] = true;
              return false; // visit every entry with this hash
            });
      }
      Map<Long, StoredKey> storedKeys = readKeys(candidates);
      for (int i = 0; i < n; i++) {
        PendingEvent e = batch.get(i);
        Integer topicId = topicIds.get(e.topic());
        if (topicId == null) {
          topicId = nextTopicId++;
          topicIds.put(e.topic(), topicId);
          topicNames.put(topicId, e.topic());
          newTopics.add(e.topic());
          insertTopic.setInt(1, topicId);
          insertTopic.setString(2, e.topic());
          insertTopic.executeUpdate();
        }
        long hash = batchHashes[i];
        int tid = topicId;
        boolean inBatch = batchIndex.anyMatch(hash, pos -> isEarlier(batch, (int) pos - 1, e));
        // A stored event expired by age is no duplicate, whether its row is removed yet or not.
        if (inBatch
            || matched[i]
                && index.anyMatch(hash, seq -> isLive(storedKeys.get(seq), tid, e, cutoff))) {
          outcomes[i] = Outcome.DUPLICATE;
          if (comparePayloads) {
            String first =
                inBatch ? batch.get(matchedPosition).payloadJson() : matchedStored.payload();
            if (!e.samePayload(first)) {
              conflicts.add(i);
            }
          }
          continue;
        }
        outcomes[i] = Outcome.ACCEPTED;
        // Never below the previous event's: rows expire in seq order (see the design notes).
        long receivedNs = Math.max(lastReceivedNs, EventRows.epochNanos(e.receivedAt()));
        lastReceivedNs = receivedNs;
        batchIndex.put(hash, i + 1);
        hashes[accepted] = hash;
        topicsOfAccepted[accepted] = tid;
        insertEvent.setLong(1, nextSeq + accepted);
        insertEvent.setInt(2, tid);
        insertEvent.setString(3, e.eventId());
        insertEvent.setString(4, e.timestampText());
        insertEvent.setString(5, e.source());
        insertEvent.setString(6, e.payloadJson());
        insertEvent.setString(7, EventRows.timestamp(e.receivedAt()));
        insertEvent.setLong(8, receivedNs);
        insertEvent.addBatch();
        timestampsNs[accepted] = EventRows.epochNanos(e.timestamp());
        accepted++;
        topicDeltas.merge(tid, 1, Integer::sum);
      }
      if (accepted > 0) {
        insertEvent.executeBatch();
        ByteBuffer block = ByteBuffer.allocate(8 * accepted).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer blockTopics = ByteBuffer.allocate(4 * accepted).order(ByteOrder.LITTLE_ENDIAN);
        for (int k = 0; k < accepted; k++) {
          block.putLong(hashes[k]);
          blockTopics.putInt(topicsOfAccepted[k]);
        }
        insertKeyBlock.setLong(1, nextSeq);
        insertKeyBlock.setBytes(2, block.array());
        insertKeyBlock.setBytes(3, blockTopics.array());
        insertKeyBlock.setLong(4, lastReceivedNs);
        insertKeyBlock.executeUpdate();
        writeTimeBlock(nextSeq, timestampsNs, topicsOfAccepted, accepted);
      }
      if (r != null) {
        removal = removeExpired(r, cutoff, n, accepted);
        if (removal != null) {
          removal.perTopic().forEach((tid, count) -> topicDeltas.merge(tid, -count, Integer::sum));
        }
      }
      for (Map.Entry<Integer, Integer> t : topicDeltas.entrySet()) {
        if (t.getValue() != 0) {
          addToTopic.setInt(1, t.getValue());
          addToTopic.setInt(2, t.getKey());
          addToTopic.addBatch();
        }
      }
      addToTopic.executeBatch();
      addToCounters.setLong(1, n);
      addToCounters.setLong(2, accepted);
      addToCounters.setLong(3, n - accepted);
      addToCounters.setLong(4, removal == null ? 0 : removal.count());
      addToCounters.setLong(5, conflicts.size());
      addToCounters.executeUpdate();
      checkFileIsStillOurs();
      transaction.execute("COMMIT");
      checkpointer.committed();
    } catch (SQLException | RuntimeException e) {
      rollback();
      topicIds.keySet().removeAll(newTopics);
      topicNames.keySet().removeIf(id -> id >= nextTopicIdBefore);
      nextTopicId = nextTopicIdBefore;
      lastReceivedNs = lastReceivedNsBefore;
      lastTimeBlock = lastTimeBlockBefore;
      if (e instanceof StoreException se) {
        throw se;
      }
      throw failure("cannot append a batch of " + n + " events to", e);
    }
    publishCommitted(batch, outcomes, hashes, accepted, newTopics, removal, conflicts.size());
    return new AppendResult(Arrays.asList(outcomes), conflicts);
  }

  /**
   * Events stored after the last time block (by a store with time blocks off) get a block of
   * unknown bounds, so that the blocks written from now on follow them without a gap.
   */
  private void coverUntimedEvents() throws SQLException {
    long start = lastTimeBlock == null ? floor : Math.max(floor, lastTimeBlock.end);
    if (!timeBlocksOn || start >= nextSeq) {
      return;
    }
    inTransaction(() -> insertTimeBlock(TimeBlock.unknown(start, nextSeq)));
  }

  private static final String TIME_BLOCK_COLUMNS =
      "first_seq, end_seq, min_ns, max_ns, core_min_ns, core_max_ns, outliers";

  private static TimeBlock timeBlock(ResultSet rs) throws SQLException {
    return TimeBlock.read(
        rs.getLong(1),
        rs.getLong(2),
        rs.getLong(3),
        rs.getLong(4),
        rs.getLong(5),
        rs.getLong(6),
        rs.getBytes(7));
  }

  /**
   * Records the timestamps of the {@code n} events from seq {@code first}: extends the newest time
   * block while it is small and ends where these begin, else starts one. Either way one statement
   * on the last page of a small table, not an index entry per event.
   */
  private void writeTimeBlock(long first, long[] ns, int[] topics, int n) throws SQLException {
    if (!timeBlocksOn) {
      return;
    }
    TimeBlock last = lastTimeBlock;
    // A block of unknown bounds (events from before time blocks) is not extended: every range
    // query reads it, and would read the new events with it.
    if (last != null
        && !last.isUnknown()
        && last.end == first
        && last.end - last.first < TIME_BLOCK_EVENTS) {
      TimeBlock extended = last.extend(ns, topics, n);
      extendTimeBlock.setLong(1, extended.end);
      extendTimeBlock.setLong(2, extended.minNs);
      extendTimeBlock.setLong(3, extended.maxNs);
      extendTimeBlock.setLong(4, extended.coreMinNs);
      extendTimeBlock.setLong(5, extended.coreMaxNs);
      extendTimeBlock.setBytes(6, extended.outliersBlob());
      extendTimeBlock.setLong(7, extended.first);
      if (extendTimeBlock.executeUpdate() == 1) { // 0: expiry removed it with all its events
        lastTimeBlock = extended;
        return;
      }
    }
    insertTimeBlock(TimeBlock.start(first, last, ns, topics, n));
  }

  private void insertTimeBlock(TimeBlock b) throws SQLException {
    insertTimeBlock.setLong(1, b.first);
    insertTimeBlock.setLong(2, b.end);
    insertTimeBlock.setLong(3, b.minNs);
    insertTimeBlock.setLong(4, b.maxNs);
    insertTimeBlock.setLong(5, b.coreMinNs);
    insertTimeBlock.setLong(6, b.coreMaxNs);
    insertTimeBlock.setBytes(7, b.outliersBlob());
    insertTimeBlock.executeUpdate();
    lastTimeBlock = b;
  }

  /**
   * What one transaction removed: the events [floor, to), the key hash of each, how many of each
   * topic, and the received_ns of the last event of the key block that now holds the oldest event.
   */
  private record Removal(
      long count, long to, long[] hashes, Map<Integer, Integer> perTopic, long headBlockNs) {}

  /**
   * Inside the batch's transaction, after its inserts: removes the oldest events that are due, at
   * most a step of them. Due are the events of the oldest key blocks whose last event expired by
   * age at {@code cutoff}, and the oldest beyond the count. The key blocks tell which, and their
   * hashes and topics; the rows are only deleted. Null if nothing was due.
   */
  private Removal removeExpired(Retention r, long cutoff, int n, int accepted) throws SQLException {
    long end = nextSeq + accepted; // the store holds [floor, end) now
    long excess = end - floor - r.maxEvents(); // how many must go by count
    long oldestBlockNs = floor < nextSeq ? headBlockNs : lastReceivedNs;
    if (end == floor || excess <= 0 && oldestBlockNs > cutoff) {
      return null; // nothing due: not even a read
    }
    long limit = Math.max(MIN_EXPIRY_STEP, 2L * n);
    long to = floor; // the events [floor, to) are due
    long[] removedHashes = null;
    if (removedOfTopic.length < nextTopicId) {
      removedOfTopic = new int[nextTopicId]; // topic ids run from 0; all zero between steps
    }
    Map<Integer, Integer> perTopic = new HashMap<>();
    long nextHeadNs = 0;
    long keepBlocksFrom = Long.MAX_VALUE; // the first block that keeps an event
    try (ResultSet rs = selectOldestBlocks.executeQuery()) {
      while (rs.next()) {
        long first = rs.getLong(1);
        long blockNs = rs.getLong(2);
        if (to == floor + limit || (to - floor >= excess && blockNs > cutoff)) {
          keepBlocksFrom = first;
          nextHeadNs = blockNs;
          break; // without reading its blobs
        }
        byte[] blockHashes = rs.getBytes(3);
        long blockEnd = first + blockHashes.length / 8;
        long dueEnd = blockNs <= cutoff ? blockEnd : Math.min(blockEnd, floor + excess);
        dueEnd = Math.min(dueEnd, floor + limit);
        if (removedHashes == null) {
          removedHashes = new long[(int) Math.min(limit, end - floor)];
        }
        ByteBuffer hashes = ByteBuffer.wrap(blockHashes).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer topics = ByteBuffer.wrap(rs.getBytes(4)).order(ByteOrder.LITTLE_ENDIAN);
        for (long seq = to; seq < dueEnd; seq++) {
          removedHashes[(int) (seq - floor)] = hashes.getLong((int) (8 * (seq - first)));
          int topicId = topics.getInt((int) (4 * (seq - first)));
          if (removedOfTopic[topicId]++ == 0) {
            perTopic.put(topicId, 0); // counted below
          }
        }
        to = dueEnd;
        if (dueEnd < blockEnd) {
          keepBlocksFrom = first;
          nextHeadNs = blockNs;
          break;
        }
      }
    } finally {
      for (Map.Entry<Integer, Integer> t : perTopic.entrySet()) {
        t.setValue(removedOfTopic[t.getKey()]);
        removedOfTopic[t.getKey()] = 0; // all zero again for the next step, even after a failure
      }
    }
    if (to == floor) {
      return null;
    }
    long deleted = 0;
    if (perTopic.size() <= PER_TOPIC_DELETES) {
      // Topic by topic the statement walks the topic index in order instead of seeking it once per
      // row; with many topics, the statements would cost more than the seeks.
      for (int topicId : perTopic.keySet()) {
        deleteTopicEvents.setInt(1, topicId);
        deleteTopicEvents.setLong(2, floor);
        deleteTopicEvents.setLong(3, to);
        deleted += deleteTopicEvents.executeUpdate();
      }
    } else {
      deleteEvents.setLong(1, floor);
      deleteEvents.setLong(2, to);
      deleted = deleteEvents.executeUpdate();
    }
    if (deleted != to - floor) {
      throw new StoreException(
          describe()
              + ": expiring events "
              + floor
              + " to "
              + (to - 1)
              + " deleted "
              + deleted
              + " rows");
    }
    deleteBlocks.setLong(1, keepBlocksFrom);
    deleteBlocks.executeUpdate();
    deleteTimeBlocks.setLong(1, to);
    deleteTimeBlocks.executeUpdate();
    long count = to - floor;
    return new Removal(
        count,
        to,
        count == removedHashes.length ? removedHashes : Arrays.copyOf(removedHashes, (int) count),
        perTopic,
        nextHeadNs);
  }

  /** After COMMIT: the dedup index and the readers' view learn what the batch changed. */
  private void publishCommitted(
      List<PendingEvent> batch,
      Outcome[] outcomes,
      long[] hashes,
      int accepted,
      List<String> newTopics,
      Removal removal,
      int conflicts) {
    // Puts first: the step may have removed some of the batch's own events.
    for (int k = 0; k < accepted; k++) {
      index.put(hashes[k], nextSeq + k);
    }
    if (accepted > 0 && floor == nextSeq) {
      headBlockNs = lastReceivedNs; // the store was empty: the batch's block is the oldest
    }
    nextSeq += accepted;
    if (removal != null) {
      for (int k = 0; k < removal.count(); k++) {
        index.remove(removal.hashes()[k], floor + k);
      }
      floor = removal.to();
      index.floor(floor);
      headBlockNs = removal.headBlockNs();
    }
    for (String topic : newTopics) {
      committedTopicIds.put(topic, topicIds.get(topic));
    }
    synchronized (committed) {
      received += batch.size();
      uniqueProcessed += accepted;
      duplicateDropped += batch.size() - accepted;
      payloadConflicts += conflicts;
      committedHeadBlockNs = headBlockNs;
      for (int i = 0; i < outcomes.length; i++) {
        if (outcomes[i] == Outcome.ACCEPTED) {
          topicCounts.merge(batch.get(i).topic(), 1L, Long::sum);
        }
      }
      if (removal != null) {
        expired += removal.count();
        removal
            .perTopic()
            .forEach(
                (tid, count) -> topicCounts.merge(topicNames.get(tid), -(long) count, Long::sum));
      }
    }
  }

  /** Creates the claim tables if missing, prepares their statements and loads their counters. */
  private void openClaims(Connection c) throws SQLException {
    inTransaction(
        () -> {
          // WITHOUT ROWID: the key is the primary key, so one B-tree holds the claims.
          transaction.executeUpdate(
              "CREATE TABLE IF NOT EXISTS claims (topic TEXT NOT NULL, event_id TEXT NOT NULL,"
                  + " token TEXT NOT NULL, lease_until_ns INTEGER NOT NULL,"
                  + " PRIMARY KEY (topic, event_id)) WITHOUT ROWID");
          transaction.executeUpdate(
              "CREATE TABLE IF NOT EXISTS claim_counters (id INTEGER PRIMARY KEY CHECK (id = 1),"
                  + " confirmed INTEGER NOT NULL, released INTEGER NOT NULL,"
                  + " leases_expired INTEGER NOT NULL)");
          transaction.executeUpdate("INSERT OR IGNORE INTO claim_counters VALUES (1, 0, 0, 0)");
        });
    try (ResultSet rs =
        transaction.executeQuery(
            "SELECT (SELECT count(*) FROM claims), confirmed, released, leases_expired"
                + " FROM claim_counters")) {
      rs.next();
      claimStats = new ClaimStats(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4));
    }
    selectClaim =
        c.prepareStatement(
            "SELECT token, lease_until_ns FROM claims WHERE topic = ? AND event_id = ?");
    upsertClaim =
        c.prepareStatement(
            "INSERT OR REPLACE INTO claims(topic, event_id, token, lease_until_ns)"
                + " VALUES (?, ?, ?, ?)");
    deleteClaim = c.prepareStatement("DELETE FROM claims WHERE topic = ? AND event_id = ?");
    addToClaimCounters =
        c.prepareStatement(
            "UPDATE claim_counters SET confirmed = confirmed + ?, released = released + ?,"
                + " leases_expired = leases_expired + ?");
  }

  @Override
  public ClaimState claim(
      String topic, String eventId, String token, Instant now, Instant leaseExpiresAt) {
    if (closed.get()) {
      throw new StoreException(describe() + " is closed");
    }
    // Only this thread writes: what is read here stays true until the commit below.
    try {
      boolean stored = isStoredNow(topic, eventId, cutoff(retention));
      String heldBy = null;
      long heldUntilNs = 0;
      selectClaim.setString(1, topic);
      selectClaim.setString(2, eventId);
      try (ResultSet rs = selectClaim.executeQuery()) {
        if (rs.next()) {
          heldBy = rs.getString(1);
          heldUntilNs = rs.getLong(2);
        }
      }
      if (stored) {
        if (heldBy != null && heldUntilNs <= EventRows.epochNanos(now)) {
          endLeftoverClaim(topic, eventId);
        }
        return ClaimState.DUPLICATE;
      }
      if (heldBy != null && heldUntilNs > EventRows.epochNanos(now)) {
        return new ClaimState(Claim.Status.IN_PROGRESS, EventRows.ofEpochNanos(heldUntilNs));
      }
      boolean expired = heldBy != null;
      inTransaction(
          () -> {
            upsertClaim.setString(1, topic);
            upsertClaim.setString(2, eventId);
            upsertClaim.setString(3, token);
            upsertClaim.setLong(4, EventRows.epochNanos(leaseExpiresAt));
            upsertClaim.executeUpdate();
            if (expired) {
              addClaimCounters(0, 0, 1);
            }
            checkFileIsStillOurs();
          });
      ClaimStats c = claimStats;
      claimStats =
          new ClaimStats(
              c.pending() + (expired ? 0 : 1),
              c.confirmed(),
              c.released(),
              c.leasesExpired() + (expired ? 1 : 0));
      return new ClaimState(Claim.Status.ACQUIRED, leaseExpiresAt);
    } catch (SQLException e) {
      throw failure("cannot claim a key in", e);
    }
  }

  @Override
  public boolean endClaim(String topic, String eventId, String token, boolean confirmed) {
    if (closed.get()) {
      throw new StoreException(describe() + " is closed");
    }
    try {
      selectClaim.setString(1, topic);
      selectClaim.setString(2, eventId);
      try (ResultSet rs = selectClaim.executeQuery()) {
        if (!rs.next() || !rs.getString(1).equals(token)) {
          return false;
        }
      }
      removeClaim(topic, eventId, confirmed);
      return true;
    } catch (SQLException e) {
      throw failure("cannot end a claim in", e);
    }
  }

  /**
   * The claim of a stored key whose lease ran out: its holder published the event and died before
   * ending the claim. Ends it as the confirmation it was, so that it leaves the pending count.
   */
  private void endLeftoverClaim(String topic, String eventId) throws SQLException {
    removeClaim(topic, eventId, true);
  }

  /** Deletes a claim in a transaction of its own, counted as confirmed or as released. */
  private void removeClaim(String topic, String eventId, boolean confirmed) throws SQLException {
    inTransaction(
        () -> {
          deleteClaim.setString(1, topic);
          deleteClaim.setString(2, eventId);
          deleteClaim.executeUpdate();
          addClaimCounters(confirmed ? 1 : 0, confirmed ? 0 : 1, 0);
          checkFileIsStillOurs();
        });
    ClaimStats c = claimStats;
    claimStats =
        new ClaimStats(
            c.pending() - 1,
            c.confirmed() + (confirmed ? 1 : 0),
            c.released() + (confirmed ? 0 : 1),
            c.leasesExpired());
  }

  private void addClaimCounters(long confirmed, long released, long leasesExpired)
      throws SQLException {
    addToClaimCounters.setLong(1, confirmed);
    addToClaimCounters.setLong(2, released);
    addToClaimCounters.setLong(3, leasesExpired);
    addToClaimCounters.executeUpdate();
  }

  /**
   * Whether {@code (topic, eventId)} is stored and not expired by age at {@code cutoff}: the probe
   * and verify read of an append, for one key.
   */
  private boolean isStoredNow(String topic, String eventId, long cutoff) throws SQLException {
    Integer topicId = topicIds.get(topic);
    if (topicId == null) {
      return false;
    }
    Set<Long> candidates = new HashSet<>();
    index.anyMatch(
        hasher.hash(topic, eventId),
        seq -> {
          candidates.add(seq);
          return false; // visit every entry with this hash
        });
    for (StoredKey k : readKeys(candidates).values()) {
      if (k.topicId() == topicId && k.receivedNs() > cutoff && k.eventId().equals(eventId)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public ClaimStats claimStats() {
    return claimStats;
  }

  @Override
  public Optional<Instant> nextExpiry() {
    Retention r = retention;
    synchronized (committed) {
      long stored = uniqueProcessed - expired;
      if (r == null || stored == 0) {
        return Optional.empty();
      }
      if (stored > r.maxEvents()) {
        return Optional.of(Instant.MIN);
      }
      if (!r.limitsAge()) {
        return Optional.empty();
      }
      return Optional.of(r.expiresAt(EventRows.ofEpochNanos(committedHeadBlockNs)));
    }
  }

  /**
   * A database file deleted (or replaced) while open still takes writes through the open
   * descriptor, and loses them all at the next restart: such a commit must not be acknowledged. One
   * stat per batch.
   */
  private void checkFileIsStillOurs() {
    Object now;
    try {
      now = fileKey(file);
    } catch (IOException e) {
      now = null;
    }
    if (!fileKey.equals(now)) {
      throw new StoreException(
          "database file "
              + file
              + " was deleted or replaced while open; refusing to commit events that would be lost"
              + " at restart (restore the file, or restart the aggregator)");
    }
  }

  private static Object fileKey(Path file) throws IOException {
    Object key =
        Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
    // Without inodes (some file systems) fall back to the path, which only catches deletion.
    return key != null ? key : file;
  }

  /** Whether the event at {@code position} of the batch has the key of {@code e}; remembers it. */
  private boolean isEarlier(List<PendingEvent> batch, int position, PendingEvent e) {
    PendingEvent earlier = batch.get(position);
    if (earlier.eventId().equals(e.eventId()) && earlier.topic().equals(e.topic())) {
      matchedPosition = position;
      return true;
    }
    return false;
  }

  /**
   * The key of a stored event, with its received_ns and (when comparing payloads) its payload, as
   * read to confirm a hash match.
   */
  private record StoredKey(int topicId, String eventId, long receivedNs, String payload) {}

  /**
   * Whether {@code stored} is the event of {@code e}'s key and has not expired by age at {@code
   * cutoff}; remembers it.
   */
  private boolean isLive(StoredKey stored, int topicId, PendingEvent e, long cutoff) {
    if (stored != null
        && stored.topicId() == topicId
        && stored.receivedNs() > cutoff
        && stored.eventId().equals(e.eventId())) {
      matchedStored = stored;
      return true;
    }
    return false;
  }

  /** The keys of the stored events {@code seqs}, by seq. */
  private Map<Long, StoredKey> readKeys(Set<Long> seqs) throws SQLException {
    if (seqs.isEmpty()) {
      return Map.of();
    }
    Map<Long, StoredKey> keys = new HashMap<>(seqs.size() * 2);
    Long[] all = seqs.toArray(new Long[0]);
    for (int from = 0; from < all.length; from += KEYS_PER_READ) {
      for (int k = 0; k < KEYS_PER_READ; k++) {
        // Unused places repeat a seq of this chunk, so no placeholder is left unbound.
        selectKeys.setLong(k + 1, all[from + k < all.length ? from + k : from]);
      }
      try (ResultSet rs = selectKeys.executeQuery()) {
        while (rs.next()) {
          keys.put(
              rs.getLong(1),
              new StoredKey(
                  rs.getInt(2),
                  rs.getString(3),
                  rs.getLong(4),
                  comparePayloads ? rs.getString(5) : null));
        }
      }
    }
    return keys;
  }

  /** SQL that runs in a transaction of its own. */
  @FunctionalInterface
  private interface TransactionWork {
    void run() throws SQLException;
  }

  /**
   * Runs {@code work} in one write transaction: committed if it returns, rolled back if it throws
   * (what it throws is thrown on).
   */
  private void inTransaction(TransactionWork work) throws SQLException {
    transaction.execute("BEGIN IMMEDIATE");
    try {
      work.run();
      transaction.execute("COMMIT");
    } catch (SQLException | RuntimeException e) {
      rollback();
      throw e;
    }
  }

  private void rollback() {
    try {
      insertEvent.clearBatch();
      addToTopic.clearBatch();
      transaction.execute("ROLLBACK");
    } catch (SQLException e) {
      // SQLite already rolled back (it does after SQLITE_FULL and some I/O errors), or the
      // connection is broken and the next batch reports it. Either way nothing was committed.
    }
  }

  @Override
  public EventPage events(EventQuery query) {
    boolean byTimestamp = query.orderBy() == EventQuery.OrderBy.TIMESTAMP;
    TimestampPage<Long> timestampPage = byTimestamp ? new TimestampPage<>(query) : null;
    long bound = byTimestamp ? 0 : EventRows.seqBound(query);
    long after = query.after() == null || byTimestamp ? -1 : bound;
    Integer topicId = committedTopicIds.get(query.topic());
    if (topicId == null) {
      return new EventPage(List.of(), null);
    }
    long cutoff = cutoff(retention); // events expired by age are hidden before they are removed
    Reader reader = borrowReader();
    if (byTimestamp || query.from() != null || query.to() != null) {
      boolean done = false;
      try {
        // One read transaction: the blocks, the candidates and the page's rows are one snapshot.
        reader.connection.setAutoCommit(false);
        EventPage page =
            byTimestamp
                ? timestampOrder(reader, query, topicId, cutoff, timestampPage)
                : ingestOrderInRange(reader, query, topicId, cutoff, after);
        reader.connection.commit();
        reader.connection.setAutoCommit(true);
        done = true;
        return page;
      } catch (SQLException | UncheckedSqlException e) {
        throw failure(
            "cannot read events of topic '" + query.topic() + "' from",
            e instanceof UncheckedSqlException u ? u.getCause() : e);
      } finally {
        reader.broken |= !done; // never hand out a connection left inside a transaction
        returnReader(reader);
      }
    }
    try {
      PreparedStatement q =
          query.order() == EventQuery.Order.ASC ? reader.ascending : reader.descending;
      q.setInt(1, topicId);
      q.setLong(2, bound);
      q.setLong(3, cutoff);
      q.setInt(4, EventRows.rowLimit(query));
      // Autocommit: the read transaction ends with the result set, so checkpoints can progress.
      try (ResultSet rs = q.executeQuery()) {
        return EventRows.readPage(query, rs);
      }
    } catch (SQLException e) {
      reader.broken = true;
      throw failure("cannot read events of topic '" + query.topic() + "' from", e);
    } finally {
      returnReader(reader);
    }
  }

  /**
   * The time blocks that may hold events of [from, to], by first_seq. Bounds are compared
   * inclusively, so saturated nanoseconds still match. Events after the last block (a store with
   * time blocks off wrote them) are one more block of unknown bounds.
   */
  private List<TimeBlock> timeBlocks(Reader reader, long fromNs, long toNs) throws SQLException {
    List<TimeBlock> blocks = new ArrayList<>();
    long untimed = 0;
    if (timeBlocksOn) {
      try (ResultSet rs = reader.lastTimeBlockEnd.executeQuery()) {
        untimed = rs.next() ? rs.getLong(1) : 0;
      }
      reader.timeBlocks.setLong(1, fromNs);
      reader.timeBlocks.setLong(2, toNs);
      try (ResultSet rs = reader.timeBlocks.executeQuery()) {
        while (rs.next()) {
          blocks.add(timeBlock(rs));
        }
      }
    }
    blocks.add(TimeBlock.unknown(untimed, Long.MAX_VALUE));
    return blocks;
  }

  private static long fromNs(Instant from) {
    return from == null ? Long.MIN_VALUE : EventRows.epochNanos(from);
  }

  private static long toNs(Instant to) {
    return to == null ? Long.MAX_VALUE : EventRows.epochNanos(to);
  }

  /**
   * The timestamp of the live event {@code seq} of the topic, or null if it is another topic's or
   * expired by age: an outlier of a time block, looked up by its primary key.
   */
  private static Instant outlierTimestamp(Reader reader, long seq, int topicId, long cutoff)
      throws SQLException {
    reader.timeBySeq.setLong(1, seq);
    reader.timeBySeq.setInt(2, topicId);
    reader.timeBySeq.setLong(3, cutoff);
    try (ResultSet rs = reader.timeBySeq.executeQuery()) {
      return rs.next() ? IsoTimestamps.parse(rs.getString(1)) : null;
    }
  }

  /**
   * A page in ingest order of the events in the query's time range: the blocks that may hold some,
   * in seq order; in a block whose core overlaps the range, the topic's rows by the topic index,
   * each timestamp checked; in another, only its outliers in the range. Only the page's rows are
   * then read whole.
   */
  private EventPage ingestOrderInRange(
      Reader reader, EventQuery query, int topicId, long cutoff, long after) throws SQLException {
    boolean asc = query.order() == EventQuery.Order.ASC;
    long fromNs = fromNs(query.from());
    long toNs = toNs(query.to());
    List<TimeBlock> blocks = timeBlocks(reader, fromNs, toNs);
    if (!asc) {
      Collections.reverse(blocks);
    }
    List<Long> seqs = new ArrayList<>();
    PreparedStatement q = asc ? reader.timesAscending : reader.timesDescending;
    for (TimeBlock block : blocks) {
      long lo = block.first;
      long hi = block.end; // [lo, hi)
      if (after >= 0) {
        lo = asc ? Math.max(lo, after + 1) : lo;
        hi = asc ? hi : Math.min(hi, after);
      }
      if (lo >= hi) {
        continue;
      }
      if (block.coreOverlaps(fromNs, toNs)) {
        q.setInt(1, topicId);
        q.setLong(2, lo);
        q.setLong(3, hi);
        q.setLong(4, cutoff);
        try (ResultSet rs = q.executeQuery()) {
          while (rs.next()) {
            if (query.contains(IsoTimestamps.parse(rs.getString(2)))) {
              seqs.add(rs.getLong(1));
            }
          }
        }
      } else {
        int count = block.outlierSeqs.length;
        for (int k = asc ? 0 : count - 1; asc ? k < count : k >= 0; k += asc ? 1 : -1) {
          long seq = block.outlierSeqs[k];
          if (block.outlierTopics[k] == topicId
              && seq >= lo
              && seq < hi
              && block.outlierNs[k] >= fromNs
              && block.outlierNs[k] <= toNs) {
            Instant t = outlierTimestamp(reader, seq, topicId, cutoff);
            if (t != null && query.contains(t)) {
              seqs.add(seq);
            }
          }
        }
      }
      if (seqs.size() > query.limit()) {
        break;
      }
    }
    int n = Math.min(seqs.size(), query.limit());
    List<StoredEvent> events = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      events.add(readEvent(reader, query.topic(), seqs.get(i)));
    }
    return new EventPage(events, seqs.size() > n ? EventRows.cursor(seqs.get(n - 1)) : null);
  }

  /**
   * A page in timestamp order. What may hold events of the range (narrowed by the cursor) is
   * visited in timestamp order (newest first: reversed): the core of each block, by its earliest
   * timestamp (its latest), and each outlier of the topic, by its own; every row read is offered to
   * a bounded heap of the page, and the visit stops at the first that can no longer change the
   * page, which for timestamps arriving roughly in order is a block or two past the page.
   */
  private EventPage timestampOrder(
      Reader reader, EventQuery query, int topicId, long cutoff, TimestampPage<Long> page)
      throws SQLException {
    boolean asc = query.order() == EventQuery.Order.ASC;
    Instant from = query.from();
    Instant to = query.to();
    if (page.after() != null) {
      Instant at = page.after().timestamp();
      if (asc) {
        from = from == null || from.isBefore(at) ? at : from;
      } else {
        to = to == null || to.isAfter(at) ? at : to;
      }
    }
    long fromNs = fromNs(from);
    long toNs = toNs(to);
    // Each visit: {key, kind (0: a block's core, 1: an outlier), block index, outlier index}.
    List<TimeBlock> blocks = timeBlocks(reader, fromNs, toNs);
    List<long[]> visits = new ArrayList<>();
    for (int b = 0; b < blocks.size(); b++) {
      TimeBlock block = blocks.get(b);
      if (block.coreOverlaps(fromNs, toNs)) {
        visits.add(new long[] {asc ? block.coreMinNs : block.coreMaxNs, 0, b, 0});
      }
      for (int k = 0; k < block.outlierSeqs.length; k++) {
        long ns = block.outlierNs[k];
        if (block.outlierTopics[k] == topicId && ns >= fromNs && ns <= toNs) {
          visits.add(new long[] {ns, 1, b, k});
        }
      }
    }
    visits.sort(
        asc
            ? Comparator.comparingLong((long[] v) -> v[0])
            : Comparator.comparingLong((long[] v) -> v[0]).reversed());
    for (long[] visit : visits) {
      // Saturated keys say nothing beyond the long range: such a visit is never skipped.
      long key = visit[0];
      if (key != Long.MIN_VALUE
          && key != Long.MAX_VALUE
          && page.closedBefore(EventRows.ofEpochNanos(key))) {
        break;
      }
      TimeBlock block = blocks.get((int) visit[2]);
      if (visit[1] == 1) {
        long seq = block.outlierSeqs[(int) visit[3]];
        Instant t = outlierTimestamp(reader, seq, topicId, cutoff);
        if (t != null) {
          page.offer(t, seq, seq);
        }
        continue;
      }
      reader.timesAscending.setInt(1, topicId);
      reader.timesAscending.setLong(2, block.first);
      reader.timesAscending.setLong(3, block.end);
      reader.timesAscending.setLong(4, cutoff);
      try (ResultSet rs = reader.timesAscending.executeQuery()) {
        while (rs.next()) {
          long seq = rs.getLong(1);
          // The block's outliers are visits of their own.
          if (Arrays.binarySearch(block.outlierSeqs, seq) < 0) {
            page.offer(IsoTimestamps.parse(rs.getString(2)), seq, seq);
          }
        }
      }
    }
    return page.page(seq -> readEvent(reader, query.topic(), seq));
  }

  /** An SQLException through a lambda. */
  private static final class UncheckedSqlException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UncheckedSqlException(SQLException cause) {
      super(cause);
    }

    @Override
    public synchronized SQLException getCause() {
      return (SQLException) super.getCause();
    }
  }

  /** The stored event {@code seq}, read inside the caller's read transaction. */
  private StoredEvent readEvent(Reader reader, String topic, long seq) {
    try {
      reader.bySeq.setLong(1, seq);
      try (ResultSet rs = reader.bySeq.executeQuery()) {
        if (!rs.next()) {
          throw inconsistent("event " + seq + " vanished inside a read transaction");
        }
        return EventRows.storedEvent(topic, rs);
      }
    } catch (SQLException e) {
      throw new UncheckedSqlException(e);
    }
  }

  /** A read connection with its statements; used by one thread at a time. */
  private static final class Reader {
    final Connection connection;
    final PreparedStatement ascending;
    final PreparedStatement descending;
    final PreparedStatement timeBlocks;
    final PreparedStatement lastTimeBlockEnd;
    final PreparedStatement timeBySeq;
    final PreparedStatement timesAscending;
    final PreparedStatement timesDescending;
    final PreparedStatement bySeq;
    boolean broken;

    Reader(Connection connection) throws SQLException {
      this.connection = connection;
      String columns = "SELECT " + EventRows.PAGE_COLUMNS + " FROM events";
      this.ascending =
          connection.prepareStatement(
              columns + " WHERE topic_id = ? AND seq > ? AND received_ns > ? ORDER BY seq LIMIT ?");
      this.descending =
          connection.prepareStatement(
              columns
                  + " WHERE topic_id = ? AND seq < ? AND received_ns > ? ORDER BY seq DESC LIMIT ?");
      this.timeBlocks =
          connection.prepareStatement(
              "SELECT "
                  + TIME_BLOCK_COLUMNS
                  + " FROM time_blocks WHERE max_ns >= ? AND min_ns <= ? ORDER BY first_seq");
      this.timeBySeq =
          connection.prepareStatement(
              "SELECT timestamp FROM events WHERE seq = ? AND topic_id = ? AND received_ns > ?");
      this.lastTimeBlockEnd =
          connection.prepareStatement("SELECT coalesce(max(end_seq), 0) FROM time_blocks");
      String times =
          "SELECT seq, timestamp FROM events"
              + " WHERE topic_id = ? AND seq >= ? AND seq < ? AND received_ns > ? ORDER BY seq";
      this.timesAscending = connection.prepareStatement(times);
      this.timesDescending = connection.prepareStatement(times + " DESC");
      this.bySeq = connection.prepareStatement(columns + " WHERE seq = ?");
    }
  }

  private Reader borrowReader() {
    Reader reader = idleReaders.poll();
    if (reader != null) {
      return reader;
    }
    if (openedReaders.incrementAndGet() <= MAX_READERS) {
      try {
        return new Reader(config.createConnection(url));
      } catch (SQLException e) {
        openedReaders.decrementAndGet();
        throw failure("cannot open a read connection to", e);
      }
    }
    openedReaders.decrementAndGet();
    try {
      return idleReaders.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted while waiting for a read connection to " + describe());
    }
  }

  private void returnReader(Reader reader) {
    if (reader.broken || closed.get()) {
      closeQuietly(reader.connection);
      openedReaders.decrementAndGet();
    } else {
      idleReaders.add(reader);
    }
  }

  @Override
  public StoreStats stats() {
    synchronized (committed) {
      return new StoreStats(
          received, uniqueProcessed, duplicateDropped, expired, payloadConflicts, topicCounts);
    }
  }

  /**
   * A read of the counters on the writer's connection, so it goes through the same file and
   * connection as the next batch; and the file must still be the one opened (see
   * checkFileIsStillOurs).
   */
  @Override
  public void probe() {
    if (closed.get()) {
      throw new StoreException(describe() + " is closed");
    }
    checkFileIsStillOurs();
    try (ResultSet rs = transaction.executeQuery("SELECT received FROM counters")) {
      if (!rs.next()) {
        throw new StoreException(describe() + ": its counters row is missing");
      }
    } catch (SQLException e) {
      throw failure("cannot read the counters of", e);
    }
  }

  /** Heap bytes held by the dedup index: for the benchmarks' bytes-per-key figure. */
  long indexBytes() {
    return index.bytes();
  }

  /** Keys in the dedup index, for tests: one per stored event. */
  long indexedKeys() {
    return index.size();
  }

  @Override
  public String describe() {
    return "sqlite:" + file;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    checkpointer.close();
    Reader reader;
    while ((reader = idleReaders.poll()) != null) {
      closeQuietly(reader.connection);
    }
    closeQuietly(writer);
    unlock(file, lockChannel);
  }

  /** Deletes the lock file, while still holding the lock so no other opener has one on it. */
  private static void unlock(Path file, FileChannel lockChannel) {
    try {
      Files.deleteIfExists(lockFile(file));
    } catch (IOException e) {
      log.warn("sqlite:{} - cannot delete {}: {}", file, lockFile(file), e.toString());
    }
    closeQuietly(lockChannel); // releases the lock
  }

  private StoreException failure(String what, Throwable e) {
    String code = "";
    if (e instanceof SQLiteException se) {
      SQLiteErrorCode rc = se.getResultCode();
      code = " (" + rc.name() + ")";
      if (rc == SQLiteErrorCode.SQLITE_NOTADB) {
        return new StoreException(
            "cannot open " + file + ": it is not an SQLite database (SQLITE_NOTADB)", e);
      }
    }
    String detail = e.getMessage() == null ? e.toString() : e.getMessage();
    return new StoreException(what + " " + file + code + ": " + detail, e);
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      // closing on a failure path or at shutdown: the first error is the one that matters
    }
  }
}
