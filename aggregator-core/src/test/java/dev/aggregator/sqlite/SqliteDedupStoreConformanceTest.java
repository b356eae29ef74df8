package dev.aggregator.sqlite;

import dev.aggregator.store.DedupStore;
import dev.aggregator.store.DurableDedupStoreConformanceTest;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import org.junit.jupiter.api.io.TempDir;

class SqliteDedupStoreConformanceTest extends DurableDedupStoreConformanceTest {
  @TempDir Path dir;

  @Override
  protected DedupStore openEmptyStore() {
    return SqliteDedupStore.open(dir.resolve("conformance.db"));
  }

  @Override
  protected DedupStore openSameStore() {
    return openEmptyStore();
  }

  /** A trigger, created on a connection of its own, aborts the insert of that event. */
  @Override
  protected void failAppendsOf(String eventId) throws Exception {
    failInserts(dir.resolve("conformance.db"), eventId);
  }

  /** A trigger, created on a connection of its own, aborts the insert of that event. */
  static void failInserts(Path db, String eventId) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement st = c.createStatement()) {
      st.execute(
          "CREATE TRIGGER fail_append BEFORE INSERT ON events WHEN NEW.event_id = '"
              + eventId
              + "' BEGIN SELECT RAISE(ABORT, 'failed by the test'); END");
    }
  }
}
