package dev.aggregator.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.EventPage;
import dev.aggregator.EventQuery;
import dev.aggregator.Outcome;
import dev.aggregator.StoredEvent;
import dev.aggregator.store.PendingEvent;
import dev.aggregator.testing.Await;
import dev.aggregator.testing.RequiresPostgres;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * With two writers on one schema, a batch that drew its seqs first but commits last must not be
 * skipped by an ascending cursor. Node A is held inside its transaction after its inserts; node B
 * appends meanwhile. The store serializes writers, so B must wait for A (it shows up in
 * pg_stat_activity as waiting on a lock) and a reader never sees B's rows before A's.
 */
@RequiresPostgres
class PostgresCursorOrderTest {
  private static final Instant T0 = Instant.parse("2025-10-23T10:00:00Z");
  private static final long DEADLINE_MS = 30_000;
  private final String schema = PostgresTestDatabase.freshSchema();
  private final List<PostgresDedupStore> stores = new ArrayList<>();

  @AfterEach
  void closeAndDrop() {
    stores.forEach(PostgresDedupStore::close);
    PostgresTestDatabase.drop(schema);
  }

  private PostgresDedupStore open() {
    PostgresDedupStore s =
        PostgresDedupStore.builder(PostgresTestDatabase.URL).schema(schema).open();
    stores.add(s);
    return s;
  }

  private static List<PendingEvent> events(String prefix, int n) {
    return IntStream.range(0, n)
        .mapToObj(i -> new PendingEvent("t", prefix + i, T0, "", "{}", T0))
        .collect(Collectors.toList());
  }

  @Test
  void events_batchCommittingAfterALaterOne_isNotSkippedByAscendingCursor() throws Exception {
    PostgresDedupStore a = open();
    PostgresDedupStore b = open();
    PostgresDedupStore reader = open();
    a.append(events("x", 1)); // the topic exists; the reader's cursor starts after x0
    EventPage first = reader.events(EventQuery.topic("t").limit(1));
    assertNull(first.next());
    String cursor =
        "" + PostgresTestDatabase.queryLong("SELECT max(seq) FROM \"" + schema + "\".events");

    CountDownLatch aInside = new CountDownLatch(1);
    CountDownLatch releaseA = new CountDownLatch(1);
    a.beforeCountersForTest =
        () -> {
          aInside.countDown();
          try {
            assertTrue(releaseA.await(DEADLINE_MS, TimeUnit.MILLISECONDS), "A never released");
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        };
    CompletableFuture<List<Outcome>> aDone =
        CompletableFuture.supplyAsync(() -> a.append(events("a", 50)));
    assertTrue(aInside.await(DEADLINE_MS, TimeUnit.MILLISECONDS), "A did not reach its counters");
    CompletableFuture<List<Outcome>> bDone =
        CompletableFuture.supplyAsync(() -> b.append(events("b", 50)));

    // Either B blocks on A's lock (the design) or it commits on its own (a design that lets
    // B's rows become visible before A's lower seqs).
    Await.until(
        "B to finish or to wait on a lock",
        Duration.ofMillis(DEADLINE_MS),
        () -> bDone.isDone() || bWaitsOnALock());
    List<String> seen = new ArrayList<>(readFrom(reader, cursor));
    assertEquals(
        List.of(),
        seen,
        "B committed while A (lower seqs) was still open: a cursor past B would skip A");

    releaseA.countDown();
    assertEquals(50, aDone.get(DEADLINE_MS, TimeUnit.MILLISECONDS).size());
    assertEquals(50, bDone.get(DEADLINE_MS, TimeUnit.MILLISECONDS).size());
    seen.addAll(readFrom(reader, cursor));
    assertEquals(100, seen.size(), "events reached by the cursor taken before both commits");
    List<String> expected = new ArrayList<>();
    events("a", 50).forEach(e -> expected.add(e.eventId()));
    events("b", 50).forEach(e -> expected.add(e.eventId()));
    assertEquals(expected, seen, "ascending order is commit order");
  }

  private boolean bWaitsOnALock() {
    return PostgresTestDatabase.queryLong(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                + " AND query LIKE '%\""
                + schema
                + "\".counters%FOR UPDATE%'")
        > 0;
  }

  private static List<String> readFrom(PostgresDedupStore store, String cursor) {
    List<String> ids = new ArrayList<>();
    String c = cursor;
    do {
      EventPage page = store.events(EventQuery.topic("t").limit(7).after(c));
      for (StoredEvent e : page.events()) {
        ids.add(e.event().eventId());
      }
      c = page.next();
    } while (c != null);
    return ids;
  }
}
