package dev.aggregator.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.Claim;
import dev.aggregator.ClaimStats;
import dev.aggregator.ConsumerGuard;
import dev.aggregator.Event;
import dev.aggregator.EventAggregator;
import dev.aggregator.store.TestClock;
import dev.aggregator.testing.RequiresPostgres;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ConsumerGuard} on two aggregators, each with its own {@link PostgresDedupStore} on one
 * schema, standing in for two servers: a key delivered to both at once is handled once.
 */
@RequiresPostgres
class PostgresGuardTest {
  private final String schema = PostgresTestDatabase.freshSchema();
  private final TestClock clock = new TestClock(Instant.parse("2026-01-05T09:00:00Z"));
  private final List<EventAggregator> nodes = new ArrayList<>();

  @BeforeEach
  void open() {
    for (int i = 0; i < 2; i++) {
      PostgresDedupStore store =
          PostgresDedupStore.builder(PostgresTestDatabase.URL).schema(schema).open();
      nodes.add(EventAggregator.builder().store(store).clock(clock).build());
    }
  }

  @AfterEach
  void closeAndDrop() {
    nodes.forEach(EventAggregator::close);
    PostgresTestDatabase.drop(schema);
  }

  @Test
  void keyOnTwoServers_whileTheFirstHandlerRuns_secondIsInProgress_thenDuplicate()
      throws Exception {
    ConsumerGuard a = ConsumerGuard.of(nodes.get(0));
    ConsumerGuard b = ConsumerGuard.of(nodes.get(1));
    Event event = Event.of("payments", "p-1");
    CountDownLatch inHandler = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<Claim> first =
          pool.submit(
              () ->
                  a.process(
                      event,
                      e -> {
                        inHandler.countDown();
                        finish.await();
                      }));
      assertTrue(inHandler.await(30, TimeUnit.SECONDS), "the first handler never started");
      clock.advance(Duration.ofMinutes(1));
      Claim second = b.process(event, e -> {});
      assertEquals(Claim.Status.IN_PROGRESS, second.status());
      assertEquals(Duration.ofMinutes(4), second.leaseLeft());
      finish.countDown();
      assertEquals(Claim.Status.ACQUIRED, first.get(30, TimeUnit.SECONDS).status());
    } finally {
      finish.countDown();
      pool.shutdownNow();
    }
    assertEquals(Claim.Status.DUPLICATE, b.process(event, e -> {}).status());
    assertEquals(new ClaimStats(0, 1, 0, 0), nodes.get(1).stats().claims());
  }

  @Test
  void sameKeysOnTwoServersAtOnce_eachHandlerRunsExactlyOnce() throws Exception {
    int keys = 200;
    AtomicIntegerArray runs = new AtomicIntegerArray(keys);
    CyclicBarrier together = new CyclicBarrier(2);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    List<Future<Integer>> handled = new ArrayList<>();
    try {
      for (EventAggregator node : nodes) {
        ConsumerGuard guard = ConsumerGuard.of(node);
        handled.add(
            pool.submit(
                () -> {
                  int mine = 0;
                  for (int k = 0; k < keys; k++) {
                    together.await(30, TimeUnit.SECONDS); // both servers claim key k at once
                    int key = k;
                    Claim c =
                        guard.process(
                            Event.of("payments", "k" + key), e -> runs.incrementAndGet(key));
                    mine += c.acquired() ? 1 : 0;
                  }
                  return mine;
                }));
      }
      int total = 0;
      for (Future<Integer> f : handled) {
        total += f.get(120, TimeUnit.SECONDS);
      }
      assertEquals(keys, total);
    } finally {
      pool.shutdownNow();
    }
    for (int k = 0; k < keys; k++) {
      assertEquals(1, runs.get(k), "runs of k" + k);
    }
    assertEquals(new ClaimStats(0, keys, 0, 0), nodes.get(0).stats().claims());
    assertEquals(keys, nodes.get(0).stats().stored());
  }
}
