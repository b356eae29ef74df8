package dev.aggregator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.sqlite.SqliteDedupStore;
import dev.aggregator.store.InMemoryDedupStore;
import dev.aggregator.store.TestClock;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guarantees of {@link ConsumerGuard} on a real SQLite store: once on success, again after a
 * failure, again after a lease ran out (told by a {@link TestClock}, never waited for), once under
 * concurrent deliveries. {@link GuardCrashTest} kills a process inside its handler.
 */
class ConsumerGuardTest {
  private static final Duration LEASE = Duration.ofMinutes(5);

  @TempDir Path dir;

  private final TestClock clock = new TestClock(Instant.parse("2026-01-05T09:00:00Z"));
  private EventAggregator aggregator;
  private ConsumerGuard guard;

  @BeforeEach
  void open() {
    aggregator = open(dir.resolve("guard.db"));
    guard = ConsumerGuard.of(aggregator);
  }

  @AfterEach
  void close() {
    aggregator.close();
  }

  private EventAggregator open(Path db) {
    return EventAggregator.builder().store(SqliteDedupStore.open(db)).clock(clock).build();
  }

  @Test
  void
      process_success_handlerRunsOnce_keyStoredAsEvent_laterDeliveriesDuplicate_alsoAfterRestart() {
    AtomicInteger runs = new AtomicInteger();
    Event event = Event.of("orders", "o-1");

    Claim first = guard.process(event, e -> runs.incrementAndGet());
    assertEquals(Claim.Status.ACQUIRED, first.status());
    assertEquals(LEASE, first.leaseLeft());
    assertEquals(
        Claim.Status.DUPLICATE, guard.process(event, e -> runs.incrementAndGet()).status());
    clock.advance(LEASE.multipliedBy(3));
    assertEquals(
        Claim.Status.DUPLICATE, guard.process(event, e -> runs.incrementAndGet()).status());
    assertEquals(1, runs.get());

    AggregatorStats stats = aggregator.stats();
    assertEquals(new ClaimStats(0, 1, 0, 0), stats.claims());
    assertEquals(1, stats.uniqueProcessed()); // an ordinary stored event, counted and readable
    assertEquals(
        "o-1", aggregator.events(EventQuery.topic("orders")).events().get(0).event().eventId());

    aggregator.close();
    aggregator = open(dir.resolve("guard.db"));
    guard = ConsumerGuard.of(aggregator);
    assertEquals(
        Claim.Status.DUPLICATE, guard.process(event, e -> runs.incrementAndGet()).status());
    assertEquals(1, runs.get());
    assertEquals(new ClaimStats(0, 1, 0, 0), aggregator.stats().claims());
  }

  @Test
  void process_handlerThrows_exceptionRethrown_claimReleased_nextDeliveryRunsIt() {
    Event event = Event.of("orders", "o-2");
    IOException boom = new IOException("payment service down");
    IOException thrown =
        assertThrows(
            IOException.class,
            () ->
                guard.process(
                    event,
                    e -> {
                      throw boom;
                    }));
    assertSame(boom, thrown);
    assertEquals(new ClaimStats(0, 0, 1, 0), aggregator.stats().claims());
    assertEquals(0, aggregator.stats().uniqueProcessed(), "a failed handler's key is not stored");

    AtomicInteger runs = new AtomicInteger();
    assertEquals(Claim.Status.ACQUIRED, guard.process(event, e -> runs.incrementAndGet()).status());
    assertEquals(1, runs.get());
    assertEquals(new ClaimStats(0, 1, 1, 0), aggregator.stats().claims());
  }

  @Test
  void claimNeverEnded_nextDeliveryInProgressUntilTheLeaseRunsOut_thenRunsIt() {
    Event event = Event.of("orders", "o-3");
    Claim dead = guard.claim(event); // a handler that died: neither confirmed nor released
    assertEquals(Claim.Status.ACQUIRED, dead.status());
    assertEquals(new ClaimStats(1, 0, 0, 0), aggregator.stats().claims());

    AtomicInteger runs = new AtomicInteger();
    clock.advance(LEASE.minusSeconds(1));
    Claim busy = guard.process(event, e -> runs.incrementAndGet());
    assertEquals(Claim.Status.IN_PROGRESS, busy.status());
    assertEquals(Duration.ofSeconds(1), busy.leaseLeft());
    assertEquals(dead.leaseExpiresAt(), busy.leaseExpiresAt());
    assertEquals(0, runs.get());

    clock.advance(Duration.ofSeconds(1));
    assertEquals(Claim.Status.ACQUIRED, guard.process(event, e -> runs.incrementAndGet()).status());
    assertEquals(1, runs.get());
    assertEquals(new ClaimStats(0, 1, 0, 1), aggregator.stats().claims());

    // The first holder comes back late: its event is a duplicate, its claim is gone.
    assertEquals(Outcome.DUPLICATE, guard.confirm(dead).outcome(0));
    assertFalse(guard.release(dead));
    assertEquals(new ClaimStats(0, 1, 0, 1), aggregator.stats().claims());
    assertEquals(1, aggregator.stats().uniqueProcessed());
  }

  @Test
  void process_twoDeliveriesAtOnce_handlerRunsOnce_otherToldInProgressWithTheLeaseLeft()
      throws Exception {
    Event event = Event.of("orders", "o-4");
    CountDownLatch inHandler = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    AtomicInteger runs = new AtomicInteger();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<Claim> first =
          pool.submit(
              () ->
                  guard.process(
                      event,
                      e -> {
                        runs.incrementAndGet();
                        inHandler.countDown();
                        finish.await();
                      }));
      assertTrue(inHandler.await(30, TimeUnit.SECONDS), "the first handler never started");
      clock.advance(Duration.ofSeconds(20));
      Claim second = guard.process(event, e -> runs.incrementAndGet());
      assertEquals(Claim.Status.IN_PROGRESS, second.status());
      assertEquals(LEASE.minusSeconds(20), second.leaseLeft());
      assertEquals(new ClaimStats(1, 0, 0, 0), aggregator.stats().claims());
      finish.countDown();
      assertEquals(Claim.Status.ACQUIRED, first.get(30, TimeUnit.SECONDS).status());
    } finally {
      finish.countDown();
      pool.shutdownNow();
    }
    assertEquals(
        Claim.Status.DUPLICATE, guard.process(event, e -> runs.incrementAndGet()).status());
    assertEquals(1, runs.get());
  }

  @Test
  void process_manyThreadsManyKeys_eachHandlerRunsExactlyOnce() throws Exception {
    int threads = 8;
    int keys = 50;
    AtomicInteger[] runs = new AtomicInteger[keys];
    for (int k = 0; k < keys; k++) {
      runs[k] = new AtomicInteger();
    }
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<Integer>> results = new ArrayList<>();
    try {
      for (int t = 0; t < threads; t++) {
        results.add(
            pool.submit(
                () -> {
                  start.await();
                  int handled = 0;
                  for (int k = 0; k < keys; k++) {
                    int key = k;
                    Claim c =
                        guard.process(
                            Event.of("orders", "k" + key), e -> runs[key].incrementAndGet());
                    handled += c.acquired() ? 1 : 0;
                  }
                  return handled;
                }));
      }
      start.countDown();
      int handled = 0;
      for (Future<Integer> f : results) {
        handled += f.get(60, TimeUnit.SECONDS);
      }
      assertEquals(keys, handled);
    } finally {
      pool.shutdownNow();
    }
    for (int k = 0; k < keys; k++) {
      assertEquals(1, runs[k].get(), "runs of k" + k);
    }
    AggregatorStats stats = aggregator.stats();
    assertEquals(new ClaimStats(0, keys, 0, 0), stats.claims());
    assertEquals(keys, stats.stored());
  }

  @Test
  void claim_invalidEvent_rejectedBeforeAnythingIsClaimed() {
    assertThrows(EventValidationException.class, () -> guard.claim(Event.of("orders", " ")));
    assertEquals(ClaimStats.NONE, aggregator.stats().claims());
  }

  @Test
  void confirmOrRelease_ofAClaimNotAcquired_isRejected() {
    Event event = Event.of("orders", "o-5");
    guard.process(event, e -> {});
    Claim duplicate = guard.claim(event);
    assertEquals(Claim.Status.DUPLICATE, duplicate.status());
    assertThrows(IllegalArgumentException.class, () -> guard.confirm(duplicate));
    assertThrows(IllegalArgumentException.class, () -> guard.release(duplicate));
  }

  @Test
  void builder_leaseDefaultsToFiveMinutes_rejectsZeroOrNegative() {
    assertEquals(LEASE, guard.lease());
    assertEquals(
        Duration.ofSeconds(30),
        ConsumerGuard.builder(aggregator).lease(Duration.ofSeconds(30)).build().lease());
    assertThrows(
        IllegalArgumentException.class,
        () -> ConsumerGuard.builder(aggregator).lease(Duration.ZERO));
    assertThrows(
        IllegalArgumentException.class,
        () -> ConsumerGuard.builder(aggregator).lease(Duration.ofSeconds(-1)));
  }

  @Test
  void process_onTheInMemoryStore_sameGuarantees() {
    try (EventAggregator memory =
        EventAggregator.builder().store(new InMemoryDedupStore()).clock(clock).build()) {
      ConsumerGuard g = ConsumerGuard.builder(memory).lease(Duration.ofSeconds(10)).build();
      Event event = Event.of("t", "a");
      Claim held = g.claim(event);
      assertEquals(Claim.Status.IN_PROGRESS, g.process(event, e -> {}).status());
      clock.advance(Duration.ofSeconds(10));
      AtomicInteger runs = new AtomicInteger();
      assertEquals(Claim.Status.ACQUIRED, g.process(event, e -> runs.incrementAndGet()).status());
      assertFalse(g.release(held));
      assertEquals(Claim.Status.DUPLICATE, g.process(event, e -> runs.incrementAndGet()).status());
      assertEquals(1, runs.get());
      assertEquals(new ClaimStats(0, 1, 0, 1), memory.stats().claims());
    }
  }

  @Test
  void claim_afterClose_fails() {
    aggregator.close();
    assertThrows(AggregatorClosedException.class, () -> guard.claim(Event.of("t", "a")));
  }
}
