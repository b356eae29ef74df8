package dev.aggregator.postgres;

import dev.aggregator.store.DedupStore;
import dev.aggregator.store.DurableDedupStoreConformanceTest;
import dev.aggregator.testing.RequiresPostgres;
import org.junit.jupiter.api.AfterEach;

/**
 * The shared DedupStore contract, restarts included, on the real PostgreSQL, in a fresh schema per
 * test.
 */
@RequiresPostgres
class PostgresDedupStoreConformanceTest extends DurableDedupStoreConformanceTest {
  private String schema;

  @Override
  protected DedupStore openEmptyStore() {
    schema = PostgresTestDatabase.freshSchema();
    return openSameStore();
  }

  @Override
  protected DedupStore openSameStore() {
    return PostgresDedupStore.builder(PostgresTestDatabase.URL).schema(schema).open();
  }

  @AfterEach
  void dropSchema() {
    store.close();
    PostgresTestDatabase.drop(schema);
  }
}
