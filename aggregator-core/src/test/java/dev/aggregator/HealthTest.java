package dev.aggregator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.store.ForwardingDedupStore;
import dev.aggregator.store.InMemoryDedupStore;
import dev.aggregator.store.PendingEvent;
import dev.aggregator.testing.Await;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * health() against a store that fails or hangs while nobody publishes, as a database whose
 * connection was cut does: it turns unhealthy from the writer's probes, answers without waiting for
 * the store, and turns healthy again once the store answers. A probe interval of 10 ms keeps the
 * waits short.
 */
class HealthTest {
  private static final Duration PROBE = Duration.ofMillis(10);
  private static final Duration WAIT = Duration.ofSeconds(10);

  /** A store that can be taken down (every call fails) or made to hang (until released). */
  private static final class FaultyStore extends ForwardingDedupStore {
    volatile boolean down;
    volatile CountDownLatch hang; // null: no hang
    final AtomicInteger probes = new AtomicInteger();
    final AtomicInteger failedProbes = new AtomicInteger();

    FaultyStore() {
      super(new InMemoryDedupStore());
    }

    private void fault() {
      CountDownLatch h = hang;
      if (h != null) {
        try {
          h.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (down) {
        throw new StoreException("faulty store: connection reset");
      }
    }

    @Override
    public List<Outcome> append(List<PendingEvent> batch) {
      fault();
      return super.append(batch);
    }

    @Override
    public void probe() {
      probes.incrementAndGet();
      try {
        fault();
      } catch (StoreException e) {
        failedProbes.incrementAndGet();
        throw e;
      }
      super.probe();
    }
  }

  private static EventAggregator aggregator(FaultyStore store) {
    return EventAggregator.builder().store(store).healthProbeInterval(PROBE).build();
  }

  /** health(), failing the test instead of hanging if it waits for the store. */
  private static Health health(EventAggregator agg) {
    return assertTimeoutPreemptively(Duration.ofSeconds(5), agg::health);
  }

  @Test
  void health_storeFailsWhileIdle_turnsUnhealthy_staysSoWhileProbesFail_recovers() {
    FaultyStore store = new FaultyStore();
    try (EventAggregator agg = aggregator(store)) {
      agg.publish(Event.of("t", "a")).join();
      Await.until("a probe of the healthy, idle store", WAIT, () -> store.probes.get() > 0);
      assertTrue(health(agg).healthy());

      store.down = true;
      Health sick = Await.value("unhealthy while idle", WAIT, () -> health(agg), h -> !h.healthy());
      assertTrue(sick.reason().contains("connection reset"), sick.reason());
      int failed = store.failedProbes.get();
      Await.until("three more failed probes", WAIT, () -> store.failedProbes.get() >= failed + 3);
      assertFalse(health(agg).healthy(), "healthy while the probe fails");

      store.down = false;
      Await.until("healthy again", WAIT, () -> health(agg).healthy());
      assertEquals(Outcome.DUPLICATE, agg.publish(Event.of("t", "a")).join().outcome(0));
    }
  }

  @Test
  void health_storeHangsWhileIdle_answersAtOnce_turnsUnhealthy_recoversWhenReleased() {
    FaultyStore store = new FaultyStore();
    try (EventAggregator agg = aggregator(store)) {
      agg.publish(Event.of("t", "a")).join();
      CountDownLatch release = new CountDownLatch(1);
      store.hang = release;
      try {
        Health sick =
            Await.value(
                "unhealthy while a probe hangs", WAIT, () -> health(agg), h -> !h.healthy());
        assertTrue(sick.reason().contains("has not answered"), sick.reason());
        assertTrue(sick.writerRunning());
      } finally {
        store.hang = null;
        release.countDown(); // also on a failure, so that close() does not wait for ever
      }
      Await.until("healthy once the store answers", WAIT, () -> health(agg).healthy());
    }
  }

  @Test
  void health_batchHangs_answersAtOnce_unhealthyWithQueue_healthyOnceCommitted() {
    FaultyStore store = new FaultyStore();
    try (EventAggregator agg = aggregator(store)) {
      CountDownLatch release = new CountDownLatch(1);
      store.hang = release;
      CompletableFuture<PublishResult> pending = agg.publish(Event.of("t", "a"));
      try {
        Health sick =
            Await.value(
                "unhealthy while a batch hangs", WAIT, () -> health(agg), h -> !h.healthy());
        assertEquals(1, sick.queueSize());
        assertFalse(pending.isDone());
      } finally {
        store.hang = null;
        release.countDown(); // also on a failure, so that close() does not wait for ever
      }
      assertEquals(Outcome.ACCEPTED, pending.join().outcome(0));
      Await.until("healthy after the commit", WAIT, () -> health(agg).healthy());
      assertEquals(0, health(agg).queueSize());
    }
  }

  @Test
  void healthProbeInterval_belowAMillisecond_isRejected() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> EventAggregator.builder().healthProbeInterval(Duration.ofNanos(999_999)));
    assertTrue(e.getMessage().contains("PT0.000999999S"), e.getMessage());
  }
}
