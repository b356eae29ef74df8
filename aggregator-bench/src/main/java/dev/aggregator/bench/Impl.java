package dev.aggregator.bench;

/** The systems compared, the value of every benchmark's {@code impl} parameter. */
public enum Impl {
  /** This design: EventAggregator on SqliteDedupStore, several publish calls in flight. */
  aggregator,
  /**
   * Baseline (a): one autocommit INSERT OR IGNORE per event into a table with PRIMARY KEY (topic,
   * event_id), on SQLite's defaults (rollback journal, synchronous=FULL): what the course-project
   * aggregators do. Ignores the {@code sync} parameter.
   */
  autocommit,
  /**
   * Baseline (a) tuned: the same statements on the same settings as this design (WAL, the {@code
   * sync} parameter, 64 MiB page cache), so that only the table design and batching differ.
   */
  autocommit_wal,
  /** Baseline (b): Apache Camel's JdbcMessageIdRepository (camel-sql) on an SQLite file. */
  camel,
  /** Baseline (c): a ConcurrentHashMap key set; no durability, the ceiling. */
  memory
}
