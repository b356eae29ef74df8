package dev.aggregator.camel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.ClaimStats;
import dev.aggregator.EventAggregator;
import dev.aggregator.EventQuery;
import dev.aggregator.EventValidationException;
import dev.aggregator.sqlite.SqliteDedupStore;
import dev.aggregator.store.TestClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Camel's own idempotent consumer ({@code eager(true)}, {@code removeOnFailure(true)}, {@code
 * completionEager(false)}) on a real CamelContext, with the repository over an aggregator on a
 * SQLite file that is reopened to show the keys survive a restart.
 */
class AggregatorIdempotentRepositoryTest {
  private static final String TOPIC = "orders";
  private static final String FAILS_ONCE = "order-3";

  @TempDir Path dir;

  private final List<AutoCloseable> open = new ArrayList<>();
  private final List<String> handled = new ArrayList<>();
  private final Set<String> failedOnce = ConcurrentHashMap.newKeySet();

  @AfterEach
  void closeAll() throws Exception {
    // The Camel context first, then the aggregator it uses: the order an application follows.
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private EventAggregator openAggregator() {
    EventAggregator aggregator =
        EventAggregator.builder().store(SqliteDedupStore.open(dir.resolve("camel.db"))).build();
    open.add(aggregator);
    return aggregator;
  }

  /** The route under test; its processor fails the first exchange of {@link #FAILS_ONCE}. */
  private CamelContext startRoute(AggregatorIdempotentRepository repo) throws Exception {
    CamelContext camel = new DefaultCamelContext();
    camel.addRoutes(
        new RouteBuilder() {
          @Override
          public void configure() {
            from("direct:in")
                .idempotentConsumer(header("id"), repo)
                .eager(true)
                .removeOnFailure(true)
                .completionEager(false)
                .process(
                    exchange -> {
                      String id = exchange.getMessage().getHeader("id", String.class);
                      synchronized (handled) {
                        handled.add(id);
                      }
                      if (id.equals(FAILS_ONCE) && failedOnce.add(id)) {
                        throw new IllegalStateException("payment service down for " + id);
                      }
                    })
                .to("mock:out");
          }
        });
    camel.start();
    open.add(camel);
    return camel;
  }

  /** Sends one message; returns the exception the route ended with, or null. */
  private static Exception send(ProducerTemplate template, String id) {
    Exchange done = template.request("direct:in", e -> e.getMessage().setHeader("id", id));
    return done.getException();
  }

  private static List<String> received(CamelContext camel) {
    MockEndpoint out = camel.getEndpoint("mock:out", MockEndpoint.class);
    return out.getReceivedExchanges().stream()
        .map(e -> e.getMessage().getHeader("id", String.class))
        .toList();
  }

  private static List<String> storedIds(EventAggregator aggregator) {
    return aggregator.events(EventQuery.topic(TOPIC)).events().stream()
        .map(e -> e.event().eventId())
        .sorted()
        .toList();
  }

  @Test
  void idempotentConsumer_duplicatesFailureAndRestart_processesEachKeyOnce() throws Exception {
    EventAggregator aggregator = openAggregator();
    AggregatorIdempotentRepository repo =
        AggregatorIdempotentRepository.builder(aggregator).topic(TOPIC).build();
    CamelContext camel = startRoute(repo);
    ProducerTemplate template = camel.createProducerTemplate();

    for (String id : List.of("order-1", "order-2", "order-1", "order-2", "order-1")) {
      assertEquals(null, send(template, id), id);
    }
    Exception failure = send(template, FAILS_ONCE);
    assertInstanceOf(IllegalStateException.class, failure);
    assertEquals(null, send(template, FAILS_ONCE), "the retry of the failed key");
    assertEquals(null, send(template, FAILS_ONCE), "a duplicate of the retried key");

    assertEquals(List.of("order-1", "order-2", FAILS_ONCE), received(camel));
    assertEquals(List.of("order-1", "order-2", FAILS_ONCE, FAILS_ONCE), handled);
    // Three keys confirmed, the failed exchange's claim released, nothing left claimed.
    assertEquals(new ClaimStats(0, 3, 1, 0), aggregator.stats().claims());
    assertEquals(List.of("order-1", "order-2", FAILS_ONCE), storedIds(aggregator));
    assertEquals(0, repo.claimsHeld());

    // Restart: the same SQLite file, a new aggregator, repository and Camel context.
    camel.close();
    aggregator.close();
    handled.clear();
    EventAggregator reopened = openAggregator();
    CamelContext restarted =
        startRoute(AggregatorIdempotentRepository.builder(reopened).topic(TOPIC).build());
    ProducerTemplate again = restarted.createProducerTemplate();
    for (String id : List.of("order-1", FAILS_ONCE, "order-4", "order-2", "order-4")) {
      assertEquals(null, send(again, id), id);
    }

    assertEquals(List.of("order-4"), received(restarted));
    assertEquals(List.of("order-4"), handled);
    assertEquals(new ClaimStats(0, 4, 1, 0), reopened.stats().claims());
    assertEquals(List.of("order-1", "order-2", FAILS_ONCE, "order-4"), storedIds(reopened));
  }

  @Test
  void idempotentConsumer_sameKeysFromConcurrentThreads_processesEachOnce() throws Exception {
    EventAggregator aggregator = openAggregator();
    AggregatorIdempotentRepository repo =
        AggregatorIdempotentRepository.builder(aggregator).topic(TOPIC).build();
    CamelContext camel = startRoute(repo);
    ProducerTemplate template = camel.createProducerTemplate();
    int threads = 4;
    int keys = 200;
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<List<Exception>>> senders = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        senders.add(
            pool.submit(
                () -> {
                  start.await();
                  List<Exception> failures = new ArrayList<>();
                  // Every thread sends every key: each key arrives 4 times, some at once.
                  for (int k = 0; k < keys; k++) {
                    Exception e = send(template, "key-" + k);
                    if (e != null) {
                      failures.add(e);
                    }
                  }
                  return failures;
                }));
      }
      start.countDown();
      for (Future<List<Exception>> sender : senders) {
        assertEquals(List.of(), sender.get(60, TimeUnit.SECONDS));
      }
    } finally {
      pool.shutdownNow();
    }

    List<String> received = received(camel);
    assertEquals(keys, received.size(), "each key exactly once: " + received);
    assertEquals(keys, Set.copyOf(received).size());
    assertEquals(new ClaimStats(0, keys, 0, 0), aggregator.stats().claims());
    assertEquals(0, repo.claimsHeld());
  }

  @Test
  void add_holderDiedWithoutConfirming_keyTakenOverAfterTheLease() {
    TestClock clock = new TestClock(Instant.parse("2026-12-07T12:00:00Z"));
    EventAggregator aggregator =
        EventAggregator.builder()
            .store(SqliteDedupStore.open(dir.resolve("camel.db")))
            .clock(clock)
            .build();
    open.add(aggregator);
    // Two repositories stand for a process that died holding the key and its replacement.
    AggregatorIdempotentRepository died =
        AggregatorIdempotentRepository.builder(aggregator)
            .topic(TOPIC)
            .lease(Duration.ofMinutes(1))
            .build();
    AggregatorIdempotentRepository next =
        AggregatorIdempotentRepository.builder(aggregator)
            .topic(TOPIC)
            .lease(Duration.ofMinutes(1))
            .build();

    assertTrue(died.add("k"));
    clock.advance(Duration.ofSeconds(59));
    assertFalse(next.add("k"), "within the lease: in progress elsewhere");
    clock.advance(Duration.ofSeconds(2));
    assertTrue(next.add("k"), "after the lease: taken over");
    assertTrue(next.confirm("k"));
    assertFalse(died.remove("k"), "the late holder's release does nothing");
    assertFalse(died.add("k"));
    assertEquals(new ClaimStats(0, 1, 0, 1), aggregator.stats().claims());
  }

  @Test
  void confirm_lateExchangeAfterTakeover_leavesTheNewHoldersClaim() throws Exception {
    TestClock clock = new TestClock(Instant.parse("2026-12-07T12:00:00Z"));
    EventAggregator aggregator =
        EventAggregator.builder()
            .store(SqliteDedupStore.open(dir.resolve("camel.db")))
            .clock(clock)
            .build();
    open.add(aggregator);
    AggregatorIdempotentRepository repo =
        AggregatorIdempotentRepository.builder(aggregator)
            .topic(TOPIC)
            .lease(Duration.ofMinutes(1))
            .build();
    CamelContext camel = new DefaultCamelContext();
    open.add(camel);
    Exchange slow = new DefaultExchange(camel);
    Exchange next = new DefaultExchange(camel);

    assertTrue(repo.add(slow, "k"));
    clock.advance(Duration.ofMinutes(2));
    assertTrue(repo.add(next, "k"), "the slow exchange outlived its lease");
    assertTrue(repo.confirm(slow, "k"), "the slow exchange's work is done: the key is stored");
    assertEquals(1, repo.claimsHeld(), "the new holder's claim is still held");
    assertTrue(repo.confirm(next, "k"));
    assertEquals(0, repo.claimsHeld());
    assertFalse(repo.add(new DefaultExchange(camel), "k"));
    assertEquals(List.of("k"), storedIds(aggregator));
    // The slow claim was taken over (a lease expiry), the new one confirmed.
    assertEquals(new ClaimStats(0, 1, 0, 1), aggregator.stats().claims());
  }

  @Test
  void add_keyClaimedByAnotherRepository_isFalseUntilReleased() {
    EventAggregator aggregator = openAggregator();
    AggregatorIdempotentRepository first =
        AggregatorIdempotentRepository.builder(aggregator).topic(TOPIC).build();
    AggregatorIdempotentRepository second =
        AggregatorIdempotentRepository.builder(aggregator).topic(TOPIC).build();

    assertTrue(first.add("k"));
    assertFalse(second.add("k"), "in progress elsewhere: skipped like a duplicate");
    assertFalse(second.remove("k"), "a repository releases only its own claims");
    assertFalse(second.confirm("k"), "a repository confirms only its own claims");
    assertTrue(first.remove("k"));
    assertTrue(second.add("k"), "released: the next delivery runs");
    assertTrue(second.confirm("k"));
    assertFalse(first.add("k"), "confirmed: a duplicate");
    assertFalse(second.remove("k"), "a confirmed key is never removed");
    assertEquals(new ClaimStats(0, 1, 1, 0), aggregator.stats().claims());
  }

  @Test
  void nonEagerConsumer_failsInsteadOfProcessingDuplicates() throws Exception {
    EventAggregator aggregator = openAggregator();
    AggregatorIdempotentRepository repo =
        AggregatorIdempotentRepository.builder(aggregator).topic(TOPIC).build();
    CamelContext camel = new DefaultCamelContext();
    camel.addRoutes(
        new RouteBuilder() {
          @Override
          public void configure() {
            from("direct:in").idempotentConsumer(header("id"), repo).eager(false).to("mock:out");
          }
        });
    camel.start();
    open.add(camel);

    Exception failure = send(camel.createProducerTemplate(), "order-1");

    assertInstanceOf(UnsupportedOperationException.class, failure);
    assertTrue(received(camel).isEmpty());
    assertThrows(UnsupportedOperationException.class, repo::clear);
  }

  @Test
  void builder_invalidTopic_failsFast() {
    EventAggregator aggregator = openAggregator();
    AggregatorIdempotentRepository.Builder builder =
        AggregatorIdempotentRepository.builder(aggregator);
    assertThrows(EventValidationException.class, () -> builder.topic(""));
    assertNotNull(builder.topic(TOPIC).build());
  }
}
