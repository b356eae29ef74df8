package dev.aggregator.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.AggregatorStats;
import dev.aggregator.Event;
import dev.aggregator.EventAggregator;
import dev.aggregator.EventPage;
import dev.aggregator.EventQuery;
import dev.aggregator.Outcome;
import dev.aggregator.PublishResult;
import dev.aggregator.StoredEvent;
import dev.aggregator.testing.RequiresPostgres;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Three aggregators, each with its own {@link PostgresDedupStore} on one shared schema, stand in
 * for three server processes on one database (MultiNodePostgresIT runs the same scenario with real
 * processes). 30,000 events, 20% duplicates, every duplicate sent through another node than its
 * original, concurrently, 500 pairs released at the same instant by a barrier.
 */
@RequiresPostgres
class PostgresMultiNodeTest {
  private static final int NODES = 3;
  private static final int UNIQUE = 24_000;
  private static final int DUPLICATES = 6_000; // keys 0..5999 are sent twice
  private static final int SAME_INSTANT_PAIRS = 500; // keys 0..499, each pair behind a barrier
  private static final int TOPICS = 5;
  private static final int CHUNK = 100;
  private static final long DEADLINE_SECONDS = 90;

  private final String schema = PostgresTestDatabase.freshSchema();
  private final List<EventAggregator> nodes = new ArrayList<>();
  private final List<PostgresDedupStore> extraStores = new ArrayList<>();

  @AfterEach
  void closeAndDrop() {
    nodes.forEach(EventAggregator::close);
    extraStores.forEach(PostgresDedupStore::close);
    PostgresTestDatabase.drop(schema);
  }

  private PostgresDedupStore store() {
    return PostgresDedupStore.builder(PostgresTestDatabase.URL).schema(schema).open();
  }

  private static Event event(int key, String via) {
    return new Event("topic-" + key % TOPICS, "evt-" + key, null, via, null);
  }

  private static int keyOf(Event e) {
    return Integer.parseInt(e.eventId().substring("evt-".length()));
  }

  @Test
  void publish_duplicatesThroughOtherNodesConcurrently_oneAcceptedPerKeyAndExactGlobalStats()
      throws Exception {
    for (int i = 0; i < NODES; i++) {
      nodes.add(EventAggregator.builder().store(store()).build());
    }
    // Bulk work: key k's original goes to node k % 3, its duplicate to node (k + 1) % 3, at about
    // the same position of that node's list, so both are in flight at about the same time.
    List<List<Event>> perNode = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      perNode.add(new ArrayList<>());
    }
    for (int k = SAME_INSTANT_PAIRS; k < UNIQUE; k++) {
      perNode.get(k % NODES).add(event(k, "original"));
      if (k < DUPLICATES) {
        perNode.get((k + 1) % NODES).add(event(k, "duplicate"));
      }
    }
    AtomicIntegerArray accepted = new AtomicIntegerArray(UNIQUE);
    AtomicIntegerArray outcomes = new AtomicIntegerArray(UNIQUE);
    CountDownLatch start = new CountDownLatch(1);
    CyclicBarrier pair = new CyclicBarrier(2);
    AtomicBoolean writersDone = new AtomicBoolean();
    List<Callable<Void>> writers = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      EventAggregator node = nodes.get(i);
      List<Event> events = perNode.get(i);
      writers.add(
          () -> {
            start.await();
            for (int from = 0; from < events.size(); from += CHUNK) {
              List<Event> chunk = events.subList(from, Math.min(from + CHUNK, events.size()));
              record(
                  chunk,
                  node.publish(chunk).get(DEADLINE_SECONDS, TimeUnit.SECONDS),
                  accepted,
                  outcomes);
            }
            return null;
          });
    }
    for (int side = 0; side < 2; side++) {
      int offset = side;
      writers.add(
          () -> {
            start.await();
            for (int k = 0; k < SAME_INSTANT_PAIRS; k++) {
              Event e = event(k, offset == 0 ? "original" : "duplicate");
              EventAggregator node = nodes.get((k + offset) % NODES);
              pair.await(DEADLINE_SECONDS, TimeUnit.SECONDS); // both sides publish key k now
              record(
                  List.of(e),
                  node.publish(e).get(DEADLINE_SECONDS, TimeUnit.SECONDS),
                  accepted,
                  outcomes);
            }
            return null;
          });
    }
    // A reader on a fourth store follows topic-0 with an ascending cursor while the nodes write:
    // it must see every event once, none skipped by a commit that landed behind its cursor.
    PostgresDedupStore readerStore = store();
    extraStores.add(readerStore);
    int topic0 = UNIQUE / TOPICS;
    Callable<List<String>> tailer =
        () -> {
          start.await();
          return tail(readerStore, "topic-0", topic0, writersDone);
        };

    ExecutorService pool = Executors.newFixedThreadPool(writers.size() + 1);
    try {
      Future<List<String>> tailed = pool.submit(tailer);
      List<Future<Void>> running = new ArrayList<>();
      writers.forEach(w -> running.add(pool.submit(w)));
      start.countDown();
      for (Future<Void> f : running) {
        f.get(DEADLINE_SECONDS, TimeUnit.SECONDS); // a bound against a hang, not a measurement
      }
      writersDone.set(true);
      List<String> seen = tailed.get(DEADLINE_SECONDS, TimeUnit.SECONDS);
      assertEquals(topic0, seen.size(), "events the tailing reader saw");
      assertEquals(topic0, new HashSet<>(seen).size(), "the tailing reader saw an event twice");
    } finally {
      pool.shutdownNow();
    }

    for (int k = 0; k < UNIQUE; k++) {
      assertEquals(1, accepted.get(k), "ACCEPTED outcomes of key evt-" + k);
      assertEquals(k < DUPLICATES ? 2 : 1, outcomes.get(k), "outcomes of key evt-" + k);
    }
    Map<String, Long> expectedTopics = new LinkedHashMap<>();
    for (int t = 0; t < TOPICS; t++) {
      expectedTopics.put("topic-" + t, (long) UNIQUE / TOPICS);
    }
    List<String> firstOrder = null;
    for (EventAggregator node : nodes) {
      AggregatorStats stats = node.stats();
      assertEquals(UNIQUE + DUPLICATES, stats.received());
      assertEquals(UNIQUE, stats.uniqueProcessed());
      assertEquals(DUPLICATES, stats.duplicateDropped());
      assertEquals(expectedTopics, stats.topicCounts());
      if (firstOrder == null) {
        firstOrder = stats.topics();
      }
      assertEquals(firstOrder, stats.topics(), "topic order differs between nodes");
    }
    String events = "\"" + schema + "\".events";
    assertEquals(UNIQUE, PostgresTestDatabase.queryLong("SELECT count(*) FROM " + events));
    assertEquals(
        UNIQUE,
        PostgresTestDatabase.queryLong(
            "SELECT count(DISTINCT (topic_id, event_id)) FROM " + events));
    // The stored version of a key is the one whose publish was ACCEPTED: keys >= 6000 were only
    // ever sent as "original", so every stored row with source "duplicate" is a key < 6000.
    assertEquals(
        0,
        PostgresTestDatabase.queryLong(
            "SELECT count(*) FROM "
                + events
                + " WHERE source = 'duplicate' AND substr(event_id, 5)::int >= "
                + DUPLICATES));
  }

  private static void record(
      List<Event> events,
      PublishResult result,
      AtomicIntegerArray accepted,
      AtomicIntegerArray outcomes) {
    for (int i = 0; i < events.size(); i++) {
      int key = keyOf(events.get(i));
      outcomes.incrementAndGet(key);
      if (result.outcome(i) == Outcome.ACCEPTED) {
        accepted.incrementAndGet(key);
      }
    }
  }

  /**
   * Follows {@code topic} with ascending pages until {@code expected} events were seen or the
   * writers are done and a last read found nothing new. A page that is not full has no cursor, so
   * the tail is re-read from the last cursor: its events must come back unchanged (stable paging).
   */
  private static List<String> tail(
      PostgresDedupStore store, String topic, int expected, AtomicBoolean writersDone) {
    List<String> seen = new ArrayList<>();
    List<String> sinceCursor = new ArrayList<>();
    String cursor = null;
    boolean finalPass = false;
    while (seen.size() < expected) {
      boolean done = writersDone.get();
      EventPage page = store.events(EventQuery.topic(topic).limit(200).after(cursor));
      List<String> ids = new ArrayList<>();
      for (StoredEvent e : page.events()) {
        ids.add(e.event().eventId());
      }
      String at = cursor;
      List<String> before = sinceCursor;
      assertTrue(
          ids.size() >= sinceCursor.size()
              && ids.subList(0, sinceCursor.size()).equals(sinceCursor),
          () -> "page after cursor " + at + " changed: " + firstDifference(before, ids));
      seen.addAll(ids.subList(sinceCursor.size(), ids.size()));
      if (page.next() != null) {
        cursor = page.next();
        sinceCursor = new ArrayList<>();
      } else {
        sinceCursor = ids;
        if (finalPass) {
          break;
        }
        finalPass = done; // one more full read after the writers finished, then stop
      }
    }
    return seen;
  }

  private static String firstDifference(List<String> before, List<String> now) {
    int i = 0;
    while (i < before.size() && i < now.size() && before.get(i).equals(now.get(i))) {
      i++;
    }
    return "at position "
        + i
        + " it was "
        + (i < before.size() ? before.get(i) : "the end")
        + " and is now "
        + (i < now.size() ? now.get(i) : "the end")
        + " (sizes "
        + before.size()
        + " -> "
        + now.size()
        + ")";
  }
}
