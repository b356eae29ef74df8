package dev.aggregator.sqlite;

import dev.aggregator.store.DedupStore;
import dev.aggregator.store.DurableDedupStoreConformanceTest;
import java.nio.file.Path;
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
}
