package dev.aggregator.sqlite;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies committed pages from the WAL into the database file on its own thread and connection, so
 * that the writer's COMMIT only appends to the WAL.
 *
 * <p>Why: SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold, on the
 * writer thread. That commit then also copies the WAL's pages into the database and waits for two
 * fsyncs, and every publish of its batch waits with it: in JFR of the paced latency benchmark,
 * COMMIT was a third of the writer's samples and the p99 ack was several times the p50.
 *
 * <p>Here a PASSIVE checkpoint, which never waits for the writer or the readers, runs at most once
 * per {@link #INTERVAL_NANOS} while commits keep coming, and never when the store is idle. The
 * writer keeps SQLite's automatic checkpoint with a higher threshold ({@link
 * #WRITER_THRESHOLD_PAGES}) as the bound on the WAL: the WAL restarts from its beginning only when
 * every frame has been copied at the moment a transaction starts, which a checkpoint running beside
 * a saturated writer never sees. Then the writer's own checkpoint finds most frames already copied
 * and does the rest.
 */
final class WalCheckpointer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WalCheckpointer.class);

  /**
   * At most one checkpoint per 20 ms. Why so often: the WAL restarts only after the writer's own
   * checkpoint at {@link #WRITER_THRESHOLD_PAGES} (see above), and that checkpoint stalls the
   * writer for whatever this thread has not yet copied and synced, up to one interval of commits.
   * At 100 ms that was 20-40 ms about once a second at 150,000 events/s, the p99 of the
   * publish-to-ack latency (29-34 ms, open loop, AckLatency); at 20 ms it is 17-24 ms, with the
   * same peak throughput (IngestBenchmark, interleaved runs).
   */
  static final long INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  /** 40 MiB of 4 KiB pages, ten times SQLite's default threshold. */
  static final int WRITER_THRESHOLD_PAGES = 10_000;

  private final Connection connection;
  private final String store;
  private final Thread thread;
  private boolean pending; // guarded by this: a commit since the last checkpoint started
  private boolean closed; // guarded by this
  private boolean failing; // checkpointer thread only: log a failure once, not per attempt

  WalCheckpointer(Connection connection, String store) {
    this.connection = connection;
    this.store = store;
    this.thread = new Thread(this::run, "aggregator-checkpoint");
    thread.setDaemon(true);
    thread.start();
  }

  /** Tells the checkpointer a transaction committed; cheap, called by the writer after COMMIT. */
  synchronized void committed() {
    if (!pending) {
      pending = true;
      notifyAll();
    }
  }

  private void run() {
    long last = System.nanoTime() - INTERVAL_NANOS;
    try {
      while (awaitTurn(last)) {
        last = System.nanoTime();
        checkpoint();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // only close() interrupts; it is ending this thread
    }
  }

  /** Waits for a commit and for the interval to pass since {@code last}; false once closed. */
  private synchronized boolean awaitTurn(long last) throws InterruptedException {
    while (!closed) {
      if (!pending) {
        wait();
        continue;
      }
      long wait = last + INTERVAL_NANOS - System.nanoTime();
      if (wait <= 0) {
        pending = false;
        return true;
      }
      TimeUnit.NANOSECONDS.timedWait(this, wait);
    }
    return false;
  }

  private void checkpoint() {
    try (Statement s = connection.createStatement();
        ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(PASSIVE)")) {
      rs.next();
      if (failing) {
        failing = false;
        log.info("{} - WAL checkpoints succeed again.", store);
      }
    } catch (SQLException e) {
      // Nothing is lost: the frames stay in the WAL, and the writer's own threshold still bounds
      // it.
      if (!failing) {
        failing = true;
        log.warn("{} - WAL checkpoint failed, will retry: {}", store, e.getMessage());
      }
    }
  }

  /** Stops the thread, waiting for a checkpoint in progress, and closes its connection. */
  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      notifyAll();
    }
    boolean interrupted = false;
    while (thread.isAlive()) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    try {
      connection.close();
    } catch (SQLException e) {
      log.debug("{} - closing the checkpoint connection failed", store, e);
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
