package dev.aggregator.sqlite;

import dev.aggregator.store.DedupStore;
import dev.aggregator.store.DedupStoreConformanceTest;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class SqliteDedupStoreConformanceTest extends DedupStoreConformanceTest {
  @TempDir Path dir;

  @Override
  protected DedupStore openEmptyStore() {
    return SqliteDedupStore.open(dir.resolve("conformance.db"));
  }
}
