package dev.aggregator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aggregator.sqlite.SqliteDedupStore;
import dev.aggregator.store.DedupStore;
import dev.aggregator.store.ForwardingDedupStore;
import dev.aggregator.store.InMemoryDedupStore;
import dev.aggregator.store.PendingEvent;
import dev.aggregator.store.StoreStats;
import dev.aggregator.store.TestClock;
import dev.aggregator.testing.Await;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention and payload conflicts through the public API: builder options, the stats, the conflict
 * flags of {@link PublishResult}, the WARN lines, and expiry while nobody publishes.
 */
class RetentionAndConflictTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Instant T0 = Instant.parse("2026-11-22T00:00:00Z");

  @TempDir Path dir;

  private final TestClock clock = new TestClock(T0);

  private static ObjectNode json(String text) {
    try {
      return (ObjectNode) MAPPER.readTree(text);
    } catch (Exception e) {
      throw new IllegalArgumentException(text, e);
    }
  }

  private static void await(String what, Await.Condition condition) {
    Await.until(what, Duration.ofSeconds(10), condition);
  }

  private static List<String> ids(EventAggregator agg, String topic) {
    List<String> ids = new ArrayList<>();
    for (StoredEvent e : agg.events(EventQuery.topic(topic).limit(1000)).events()) {
      ids.add(e.event().eventId());
    }
    return ids;
  }

  @Test
  void builder_badRetentionValues_failFastNamingTheValue() {
    EventAggregator.Builder b = EventAggregator.builder();
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> b.retention(Duration.ZERO))
            .getMessage()
            .contains("retention must be positive, was PT0S"));
    assertThrows(IllegalArgumentException.class, () -> b.retention(Duration.ofSeconds(-1)));
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> b.maxStoredEvents(0))
            .getMessage()
            .contains("maxStoredEvents must be at least 1, was 0"));
  }

  @Test
  void build_retentionOnAStoreThatCannotExpire_failsAndClosesTheStore() {
    AtomicBoolean closed = new AtomicBoolean();
    DedupStore keepsEverything =
        new DedupStore() {
          private final InMemoryDedupStore inner = new InMemoryDedupStore();

          @Override
          public List<Outcome> append(List<PendingEvent> batch) {
            return inner.append(batch);
          }

          @Override
          public EventPage events(EventQuery query) {
            return inner.events(query);
          }

          @Override
          public StoreStats stats() {
            return inner.stats();
          }

          @Override
          public void probe() {
            inner.probe();
          }

          @Override
          public String describe() {
            return "a store without retention";
          }

          @Override
          public void close() {
            closed.set(true);
          }
        };
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> EventAggregator.builder().store(keepsEverything).maxStoredEvents(10).build());
    assertTrue(e.getMessage().contains("a store without retention"), e.getMessage());
    assertTrue(closed.get());
  }

  @Test
  void publish_keyInsideRetention_isDuplicate_pastIt_acceptedAgain_statsExact() {
    try (EventAggregator agg =
        EventAggregator.builder()
            .store(SqliteDedupStore.open(dir.resolve("window.db")))
            .clock(clock)
            .retention(Duration.ofHours(1))
            .build()) {
      agg.publish(List.of(Event.of("t", "a"), Event.of("t", "b"))).join();
      clock.set(T0.plus(Duration.ofHours(1)).minusNanos(1));
      assertEquals(Outcome.DUPLICATE, agg.publish(Event.of("t", "a")).join().outcome(0));
      assertEquals(List.of("a", "b"), ids(agg, "t"));

      clock.set(T0.plus(Duration.ofHours(1)));
      assertEquals(List.of(), ids(agg, "t"));
      assertEquals(Outcome.ACCEPTED, agg.publish(Event.of("t", "a")).join().outcome(0));
      AggregatorStats s = agg.stats();
      assertEquals(4, s.received());
      assertEquals(3, s.uniqueProcessed());
      assertEquals(1, s.duplicateDropped());
      assertEquals(2, s.expired());
      assertEquals(1, s.stored());
      assertEquals(List.of("a"), ids(agg, "t"));
    }
  }

  @Test
  void idleWriter_removesExpiredEventsWithoutAnyPublish() {
    try (EventAggregator agg =
        EventAggregator.builder()
            .store(SqliteDedupStore.open(dir.resolve("idle.db")))
            .clock(clock)
            .retention(Duration.ofMinutes(5))
            .build()) {
      List<Event> events = new ArrayList<>();
      for (int i = 0; i < 10_000; i++) {
        events.add(Event.of("t" + (i % 4), "e" + i));
      }
      agg.publish(events).join();
      clock.advance(Duration.ofMinutes(5));
      // No publish: the writer itself removes them, a bounded step per transaction.
      await("the idle writer to remove 10,000 expired events", () -> agg.stats().stored() == 0);
      AggregatorStats s = agg.stats();
      assertEquals(10_000, s.expired());
      assertTrue(s.writerRunning());
      assertTrue(agg.health().healthy());
    }
  }

  @Test
  void idleWriter_storeSaysDueButRemovesNothing_triesOnceASecondNotInALoop() {
    List<Long> emptyAppends = new CopyOnWriteArrayList<>();
    DedupStore stuck =
        new ForwardingDedupStore(new InMemoryDedupStore()) {
          @Override
          public Optional<Instant> nextExpiry() {
            return Optional.of(Instant.MIN); // always due
          }

          @Override
          public List<Outcome> append(List<PendingEvent> batch) {
            if (batch.isEmpty()) {
              emptyAppends.add(System.nanoTime());
            }
            return super.append(batch);
          }
        };
    try (EventAggregator agg =
        EventAggregator.builder().store(stuck).clock(clock).maxStoredEvents(5).build()) {
      await("three expiry steps", () -> emptyAppends.size() >= 3);
      for (int i = 1; i < 3; i++) {
        long gap = emptyAppends.get(i) - emptyAppends.get(i - 1);
        assertTrue(
            gap > TimeUnit.MILLISECONDS.toNanos(900), "steps " + gap / 1_000_000 + " ms apart");
      }
      assertEquals(Outcome.ACCEPTED, agg.publish(Event.of("t", "a")).join().outcome(0));
    }
  }

  @Test
  void idleWriter_nextExpiryFails_unhealthyThenRecovers() {
    AtomicBoolean failing = new AtomicBoolean(true);
    DedupStore flaky =
        new ForwardingDedupStore(new InMemoryDedupStore()) {
          @Override
          public Optional<Instant> nextExpiry() {
            if (failing.get()) {
              throw new StoreException("database unreachable (test)");
            }
            return super.nextExpiry();
          }
        };
    try (EventAggregator agg =
        EventAggregator.builder().store(flaky).clock(clock).maxStoredEvents(5).build()) {
      AtomicReference<Health> unhealthy = new AtomicReference<>();
      await(
          "unhealthy",
          () -> {
            Health h = agg.health();
            if (!h.healthy()) {
              unhealthy.set(h);
            }
            return unhealthy.get() != null;
          });
      assertTrue(
          unhealthy.get().reason().contains("database unreachable"), unhealthy.get().reason());
      assertTrue(agg.stats().writerRunning());
      failing.set(false);
      await("healthy again", () -> agg.health().healthy());
      assertEquals(Outcome.ACCEPTED, agg.publish(Event.of("t", "a")).join().outcome(0));
    }
  }

  @Test
  void maxStoredEvents_keepsTheNewest_acrossRestarts() {
    Path db = dir.resolve("cap.db");
    try (EventAggregator agg =
        EventAggregator.builder().store(SqliteDedupStore.open(db)).maxStoredEvents(1_000).build()) {
      for (int b = 0; b < 5; b++) {
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
          events.add(Event.of("t", "e" + (b * 1_000 + i)));
        }
        agg.publish(events).join();
        assertEquals(1_000, agg.stats().stored());
      }
      assertEquals(4_000, agg.stats().expired());
    }
    try (EventAggregator agg =
        EventAggregator.builder().store(SqliteDedupStore.open(db)).maxStoredEvents(1_000).build()) {
      assertEquals(1_000, agg.stats().stored());
      assertEquals("e4000", ids(agg, "t").get(0));
      PublishResult r = agg.publish(List.of(Event.of("t", "e3999"), Event.of("t", "e4000"))).join();
      assertEquals(List.of(Outcome.ACCEPTED, Outcome.DUPLICATE), r.outcomes());
    }
  }

  @Test
  void publish_duplicateWithOtherPayload_isFlaggedAndCounted_sameValueOtherwiseWrittenIsNot() {
    try (EventAggregator agg =
        EventAggregator.builder().store(SqliteDedupStore.open(dir.resolve("c.db"))).build()) {
      agg.publish(Event.of("t", "a", json("{\"amount\":1,\"items\":[\"x\",\"y\"]}"))).join();
      PublishResult r =
          agg.publish(
                  List.of(
                      Event.of("t", "a", json("{\"items\":[\"x\",\"y\"],\"amount\":1.0}")),
                      Event.of("t", "b"),
                      Event.of("t", "a", json("{\"amount\":2,\"items\":[\"x\",\"y\"]}")),
                      Event.of("t", "b", json("{\"note\":\"changed\"}")),
                      new Event(
                          "t",
                          "a",
                          T0,
                          "retry-host",
                          json("{\"amount\":1e0,\"items\":[\"x\",\"y\"]}"))))
              .join();
      assertEquals(
          List.of(
              Outcome.DUPLICATE,
              Outcome.ACCEPTED,
              Outcome.DUPLICATE,
              Outcome.DUPLICATE,
              Outcome.DUPLICATE),
          r.outcomes());
      assertEquals(List.of(2, 3), r.conflicts());
      assertFalse(r.conflict(0), "reordered members and 1.0 for 1");
      assertTrue(r.conflict(2));
      assertTrue(r.conflict(3), "against the first occurrence in the same call");
      assertFalse(r.conflict(4), "other timestamp and source, same payload");
      assertEquals(2, agg.stats().payloadConflicts());
      assertEquals(
          1,
          agg.events(EventQuery.topic("t")).events().get(0).event().payload().get("amount").asInt(),
          "the stored event never changes");
    }
  }

  @Test
  void publish_twoCallsInOneTransaction_eachGetsItsOwnConflictIndexes() throws Exception {
    CountDownLatch inAppend = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    DedupStore gated =
        new ForwardingDedupStore(new InMemoryDedupStore()) {
          @Override
          public List<Outcome> append(List<PendingEvent> batch) {
            if (batch.size() == 1 && batch.get(0).eventId().equals("gate")) {
              inAppend.countDown();
              try {
                release.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            return super.append(batch);
          }
        };
    try (EventAggregator agg = EventAggregator.builder().store(gated).build()) {
      agg.publish(Event.of("t", "a", json("{\"v\":1}"))).join();
      CompletableFuture<PublishResult> gate = agg.publish(Event.of("t", "gate"));
      inAppend.await();
      CompletableFuture<PublishResult> first =
          agg.publish(List.of(Event.of("t", "c"), Event.of("t", "a", json("{\"v\":2}"))));
      CompletableFuture<PublishResult> second =
          agg.publish(
              List.of(
                  Event.of("t", "a", json("{\"v\":3}")),
                  Event.of("t", "d"),
                  Event.of("t", "a", json("{\"v\":1}"))));
      long batchesBefore = agg.stats().batchesCommitted();
      release.countDown();
      gate.join();
      assertEquals(List.of(1), first.join().conflicts());
      assertEquals(List.of(0), second.join().conflicts());
      assertEquals(batchesBefore + 2, agg.stats().batchesCommitted(), "gate, then one batch");
      assertEquals(2, agg.stats().payloadConflicts());
    }
  }

  @Test
  void publish_conflicts_oneWarnLineEach_atMostTenASecond() {
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    try (EventAggregator agg = EventAggregator.builder().store(new InMemoryDedupStore()).build()) {
      List<Event> first = new ArrayList<>();
      List<Event> changed = new ArrayList<>();
      for (int i = 0; i < 25; i++) {
        first.add(Event.of("orders", "o-" + i, json("{\"v\":1}")));
        changed.add(Event.of("orders", "o-" + i, json("{\"v\":2}")));
      }
      agg.publish(first).join();
      System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
      assertEquals(25, agg.publish(changed).join().conflicts().size());
    } finally {
      System.setErr(err);
    }
    List<String> lines =
        captured.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains("WARN")).toList();
    assertEquals(10, lines.size(), String.join("\n", lines));
    assertTrue(
        lines.get(0).contains("payload conflict: event 'o-0' of topic 'orders'"), lines.get(0));
  }
}
