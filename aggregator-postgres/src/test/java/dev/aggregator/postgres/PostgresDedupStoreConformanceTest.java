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

  /** A trigger raises an error on the insert of that event. */
  @Override
  protected void failAppendsOf(String eventId) {
    String s = "\"" + schema + "\".";
    PostgresTestDatabase.execute(
        "CREATE FUNCTION "
            + s
            + "fail_append() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            + " IF NEW.event_id = '"
            + eventId
            + "' THEN RAISE EXCEPTION 'failed by the test'; END IF; RETURN NEW; END $$");
    PostgresTestDatabase.execute(
        "CREATE TRIGGER fail_append BEFORE INSERT ON "
            + s
            + "events FOR EACH ROW EXECUTE FUNCTION "
            + s
            + "fail_append()");
  }

  @AfterEach
  void dropSchema() {
    store.close();
    PostgresTestDatabase.drop(schema);
  }
}
