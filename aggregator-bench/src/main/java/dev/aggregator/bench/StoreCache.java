package dev.aggregator.bench;

import dev.aggregator.Event;
import dev.aggregator.sqlite.SqliteDedupStore;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.sqlite.SQLiteConfig;

/**
 * Stores that already hold N events, built once into {@code <bench.dir>/stores/<impl>-<N>/} and
 * copied for each trial, so a 10M-event store is not rebuilt per iteration or per run. Delete the
 * directory to rebuild.
 *
 * <p>This design's store is filled through the aggregator (publish calls of 1,000 new events). The
 * SQLite baselines are filled with one bulk INSERT in one transaction, keys in sorted order, which
 * is far faster than their own per-event path: what matters is how their per-event cost grows with
 * the stored keys. (Sorted insertion packs their index pages fuller than random insertion would,
 * which, if anything, favours them.)
 */
final class StoreCache {
  private StoreCache() {}

  /**
   * Builds the cached stores ahead of a run: {@code java -Xmx8g -cp
   * aggregator-bench/target/benchmarks.jar dev.aggregator.bench.StoreCache [impl:count ...]}, by
   * default every SQLite system at 1M and 10M events.
   */
  public static void main(String[] args) throws Exception {
    List<String> specs = new ArrayList<>(Arrays.asList(args));
    if (specs.isEmpty()) {
      for (Impl impl : Impl.values()) {
        if (impl != Impl.memory) {
          specs.add(impl + ":1000000");
          specs.add(impl + ":10000000");
        }
      }
    }
    for (String spec : specs) {
      String[] parts = spec.split(":");
      cached(Impl.valueOf(parts[0]), Long.parseLong(parts[1]));
    }
  }

  /** Seed of the events pre-filled in the stores; the measured workloads use other seeds. */
  static final long FILL_SEED = 7;

  /** A working copy of a store of {@code impl} holding {@code stored} events, in a fresh dir. */
  static Path workingCopy(Impl impl, long stored) throws Exception {
    Path work = BenchDirs.freshWorkDir("growth-" + impl + "-" + stored);
    if (stored == 0) {
      return work;
    }
    Path cached = cached(impl, stored);
    try (var files = Files.list(cached)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (f.getFileName().toString().startsWith(Sink.DB_FILE)
            && !f.getFileName().toString().endsWith(".lock")) {
          Path copy = work.resolve(f.getFileName());
          Files.copy(f, copy, StandardCopyOption.REPLACE_EXISTING);
          // Flush the copy now: gigabytes of dirty pages written back during the measurement
          // would compete with the system under test for the disk.
          try (FileChannel channel = FileChannel.open(copy, StandardOpenOption.WRITE)) {
            channel.force(true);
          }
        }
      }
    }
    return work;
  }

  /** The cached store, built first if missing. */
  static Path cached(Impl impl, long stored) throws Exception {
    Path dir = BenchDirs.root().resolve("stores").resolve(impl + "-" + stored);
    Path done = dir.resolve("complete");
    if (Files.exists(done)) {
      return dir;
    }
    BenchDirs.delete(dir);
    Files.createDirectories(dir);
    long start = System.nanoTime();
    switch (impl) {
      case aggregator -> fillAggregator(dir, stored);
      case autocommit -> fillAutocommit(dir, stored, new SQLiteConfig());
      case autocommit_wal ->
          fillAutocommit(dir, stored, Sink.sqliteConfig(SqliteDedupStore.Synchronous.NORMAL));
      case camel -> fillCamel(dir, stored);
      case memory -> throw new IllegalArgumentException("the memory baseline has no store file");
    }
    Files.writeString(done, "built in " + (System.nanoTime() - start) / 1_000_000 + " ms\n");
    System.out.printf(
        "built %s store of %,d events in %.1f s%n",
        impl, stored, (System.nanoTime() - start) / 1e9);
    return dir;
  }

  private static void fillAggregator(Path dir, long stored) {
    Workload workload = new Workload(FILL_SEED, 0);
    try (Sink.AggregatorSink sink =
        new Sink.AggregatorSink(dir, SqliteDedupStore.Synchronous.NORMAL, 8)) {
      for (long done = 0; done < stored; ) {
        int n = (int) Math.min(100_000, stored - done);
        List<List<Event>> calls = workload.calls(n, 1_000);
        long accepted = sink.ingest(calls);
        if (accepted != n) {
          throw new IllegalStateException("fill accepted " + accepted + " of " + n);
        }
        done += n;
      }
    }
  }

  /** Sorted "topic\u0000uuid" keys; sorting is what makes the bulk fill fast. */
  private static String[] sortedKeys(long stored) {
    Workload workload = new Workload(FILL_SEED, 0);
    String[] keys = new String[Math.toIntExact(stored)];
    for (int i = 0; i < keys.length; i++) {
      keys[i] = workload.randomTopic() + "\u0000" + workload.newId();
    }
    Arrays.sort(keys);
    return keys;
  }

  private static void fillAutocommit(Path dir, long stored, SQLiteConfig config)
      throws SQLException {
    String payload = new Workload(FILL_SEED, 0).samplePayloadJson();
    String[] keys = sortedKeys(stored);
    try (Connection c = bulkConnection(dir, config)) {
      try (Statement s = c.createStatement()) {
        s.executeUpdate(Sink.AutocommitSink.createTable());
      }
      try (PreparedStatement insert =
          c.prepareStatement(
              "INSERT INTO events(topic, event_id, timestamp, source, payload, received_at)"
                  + " VALUES (?, ?, '2026-11-22T00:00:00.001Z', 'bench', ?,"
                  + " '2026-11-22T00:00:00.002Z')")) {
        for (String key : keys) {
          int sep = key.indexOf('\u0000');
          insert.setString(1, key.substring(0, sep));
          insert.setString(2, key.substring(sep + 1));
          insert.setString(3, payload);
          insert.executeUpdate();
        }
      }
      c.commit();
    }
  }

  private static void fillCamel(Path dir, long stored) throws SQLException {
    String[] keys = sortedKeys(stored);
    try (Connection c =
        bulkConnection(dir, Sink.sqliteConfig(SqliteDedupStore.Synchronous.NORMAL))) {
      try (Statement s = c.createStatement()) {
        s.executeUpdate(Sink.CamelSink.createTable());
      }
      List<String> camelKeys = new ArrayList<>(keys.length);
      for (String key : keys) {
        int sep = key.indexOf('\u0000');
        camelKeys.add(Sink.CamelSink.key(key.substring(0, sep), key.substring(sep + 1)));
      }
      camelKeys.sort(null);
      try (PreparedStatement insert =
          c.prepareStatement(
              "INSERT INTO CAMEL_MESSAGEPROCESSED(processorName, messageId, createdAt)"
                  + " VALUES (?, ?, ?)")) {
        long now = System.currentTimeMillis();
        for (String key : camelKeys) {
          insert.setString(1, Sink.CAMEL_PROCESSOR);
          insert.setString(2, key);
          insert.setLong(3, now);
          insert.executeUpdate();
        }
      }
      c.commit();
    }
  }

  /** The journal mode of {@code config} persists in the file, so it is the one its sink uses. */
  private static Connection bulkConnection(Path dir, SQLiteConfig config) throws SQLException {
    config.setCacheSize(-262_144); // KiB: the bulk fill only
    Connection c = config.createConnection("jdbc:sqlite:" + dir.resolve(Sink.DB_FILE));
    c.setAutoCommit(false);
    return c;
  }
}
