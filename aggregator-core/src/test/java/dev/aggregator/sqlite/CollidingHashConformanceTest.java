package dev.aggregator.sqlite;

import dev.aggregator.store.DedupStore;
import dev.aggregator.store.DurableDedupStoreConformanceTest;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole contract again with a hash that maps every key to the same value: if the store ever
 * trusted a hash match without comparing the real key, every new key after the first would come
 * back as a false duplicate, and these tests would fail.
 */
class CollidingHashConformanceTest extends DurableDedupStoreConformanceTest {
  @TempDir Path dir;

  @Override
  protected DedupStore openEmptyStore() {
    return SqliteDedupStore.builder(dir.resolve("colliding.db"))
        .keyHasher((topic, eventId) -> 42L)
        .open();
  }

  @Override
  protected DedupStore openSameStore() {
    return openEmptyStore();
  }

  @Override
  protected void failAppendsOf(String eventId) throws Exception {
    SqliteDedupStoreConformanceTest.failInserts(dir.resolve("colliding.db"), eventId);
  }
}
