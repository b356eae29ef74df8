package dev.aggregator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.sqlite.SqliteDedupStore;
import dev.aggregator.store.DedupStore;
import dev.aggregator.store.ForwardingDedupStore;
import dev.aggregator.store.InMemoryDedupStore;
import dev.aggregator.store.StoreStats;
import dev.aggregator.testing.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store fault seen through HTTP: the database file is deleted under the running server. Publishes
 * get 503 store_unavailable (no path in the answer), /health turns 503 with the reason, and both
 * recover on their own when the file is back; nothing acknowledged is lost.
 */
class StoreFaultHttpTest {
  @TempDir Path dir;

  @Test
  void databaseDeleted_publish503StoreUnavailable_healthUnhealthy_thenRecovers() throws Exception {
    Path db = dir.resolve("fault.db");
    Path rescue = dir.resolve("rescue.db");
    try (TestServer t = new TestServer(SqliteDedupStore.open(db))) {
      assertEquals(200, t.post("/publish", "{\"topic\":\"t\",\"event_id\":\"before\"}").status());

      Files.createLink(rescue, db);
      Files.delete(db);
      TestServer.Reply failed = t.post("/publish", "{\"topic\":\"t\",\"event_id\":\"during\"}");
      assertEquals(503, failed.status(), failed.text());
      assertEquals("store_unavailable", failed.json().get("error").asText());
      assertEquals("1", failed.header("Retry-After"));
      assertFalse(failed.text().contains(dir.toString()), "a path leaked: " + failed.text());

      TestServer.Reply health = t.get("/health");
      assertEquals(503, health.status());
      assertEquals("unhealthy", health.json().get("status").asText());
      String reason = health.json().get("reason").asText();
      assertTrue(reason.contains("fault.db") && reason.contains("deleted"), reason);
      assertFalse(reason.contains(dir.toString()), "a path leaked: " + reason);

      Files.createLink(db, rescue);
      Await.until(
          "health to recover", Duration.ofSeconds(20), () -> t.get("/health").status() == 200);
      TestServer.Reply retry = t.post("/publish", "{\"topic\":\"t\",\"event_id\":\"during\"}");
      assertEquals(200, retry.status(), retry.text());
      assertEquals("accepted", retry.json().get("results").get(0).get("status").asText());
      TestServer.Reply stats = t.get("/stats");
      assertEquals(2, stats.json().get("unique_processed").asLong());
      assertEquals(2, stats.json().get("received").asLong());
    }
  }

  @Test
  void health_whileTheStoreHangs_answersFromState() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean hang = new AtomicBoolean();
    DedupStore store =
        new ForwardingDedupStore(new InMemoryDedupStore()) {
          @Override
          public StoreStats stats() {
            if (hang.get()) {
              try {
                release.await(); // a database whose connection was cut, until released
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            return super.stats();
          }
        };
    try (TestServer t = new TestServer(store)) {
      hang.set(true);
      try {
        TestServer.Reply health =
            assertTimeoutPreemptively(Duration.ofSeconds(5), () -> t.get("/health"));
        assertEquals(200, health.status(), health.text());
        assertTrue(health.json().get("consumer_running").asBoolean());
        assertEquals(0, health.json().get("queue_size").asInt());
      } finally {
        release.countDown();
      }
    }
  }

  @Test
  void withoutDirectories_keepsFileNamesOnly() {
    assertEquals(
        "cannot append to fault.db (SQLITE_FULL): disk full",
        Errors.withoutDirectories("cannot append to /tmp/x/y/fault.db (SQLITE_FULL): disk full"));
    assertEquals("no path here", Errors.withoutDirectories("no path here"));
  }
}
