package dev.aggregator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aggregator.sqlite.SqliteDedupStore;
import dev.aggregator.store.DedupStore;
import dev.aggregator.store.ForwardingDedupStore;
import dev.aggregator.store.InMemoryDedupStore;
import dev.aggregator.store.PendingEvent;
import dev.aggregator.store.StoreStats;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventAggregatorTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @TempDir Path dir;

  private static List<Event> events(String topic, int from, int to) {
    return IntStream.range(from, to)
        .mapToObj(i -> Event.of(topic, "e" + i))
        .collect(Collectors.toList());
  }

  @Test
  void publish_newThenRetried_acceptedThenDuplicate() {
    try (EventAggregator agg = EventAggregator.builder().store(new InMemoryDedupStore()).build()) {
      assertEquals(List.of(Outcome.ACCEPTED), agg.publish(Event.of("t", "a")).join().outcomes());
      PublishResult retry = agg.publish(Event.of("t", "a")).join();
      assertEquals(Outcome.DUPLICATE, retry.outcome(0));
      assertEquals(0, retry.accepted());
      assertEquals(1, retry.duplicates());
    }
  }

  @Test
  void publish_spelledTimestamps_readBackAsSpelledAfterReopen() {
    Path db = dir.resolve("spelled.db");
    List<String> spellings =
        List.of("2025-10-24T15:00:00+07:00", "2025-10-24T08:00:00.1234567Z", "2025-10-24 08:00:00");
    try (EventAggregator agg = EventAggregator.builder().store(SqliteDedupStore.open(db)).build()) {
      List<Event> batch = new ArrayList<>();
      for (int i = 0; i < spellings.size(); i++) {
        batch.add(new Event("t", "e" + i, null, null, null, spellings.get(i)));
      }
      agg.publish(batch).join();
    }
    try (EventAggregator agg = EventAggregator.builder().store(SqliteDedupStore.open(db)).build()) {
      List<StoredEvent> read = agg.events(EventQuery.topic("t")).events();
      assertEquals(
          List.of(
              "2025-10-24T15:00:00+07:00", "2025-10-24T08:00:00.1234567Z", "2025-10-24T08:00:00Z"),
          read.stream().map(e -> e.event().timestampText()).collect(Collectors.toList()));
      assertEquals(Instant.parse("2025-10-24T08:00:00Z"), read.get(0).event().timestamp());
    }
  }

  @Test
  void publish_batchWithDuplicates_reportsOutcomePerEvent() {
    try (EventAggregator agg = EventAggregator.builder().store(new InMemoryDedupStore()).build()) {
      agg.publish(Event.of("t", "old")).join();
      PublishResult r =
          agg.publish(List.of(Event.of("t", "new"), Event.of("t", "old"), Event.of("t", "new")))
              .join();
      assertEquals(List.of(Outcome.ACCEPTED, Outcome.DUPLICATE, Outcome.DUPLICATE), r.outcomes());
      assertEquals(1, r.accepted());
      assertEquals(2, r.duplicates());
    }
  }

  @Test
  void publish_defaults_timestampIsReceiveTimeSourceEmptyPayloadEmpty() {
    Instant now = Instant.parse("2026-01-02T03:04:05.678Z");
    try (EventAggregator agg =
        EventAggregator.builder()
            .store(new InMemoryDedupStore())
            .clock(Clock.fixed(now, ZoneOffset.UTC))
            .build()) {
      agg.publish(Event.of("t", "a")).join();
      StoredEvent e = agg.events(EventQuery.topic("t")).events().get(0);
      assertEquals(now, e.event().timestamp());
      assertEquals(now, e.receivedAt());
      assertEquals("", e.event().source());
      assertEquals(MAPPER.createObjectNode(), e.event().payload());
      assertEquals(Duration.ZERO, agg.stats().uptime());
      assertEquals(now, agg.stats().startedAt());
    }
  }

  /** Every rule of the Event table, with the field and rule the error must name. */
  @Test
  void publish_eachInvalidField_isRejectedNamingIndexFieldAndRule() {
    ObjectNode big = MAPPER.createObjectNode().put("x", "y".repeat(2000));
    Object[][] cases = {
      {new Event(null, "id", null, null, null), "topic", "is required"},
      {new Event("", "id", null, null, null), "topic", "must not be empty"},
      {new Event("  \t", "id", null, null, null), "topic", "must not be blank"},
      {new Event("t".repeat(256), "id", null, null, null), "topic", "at most 255 characters"},
      {new Event("a\u0000b", "id", null, null, null), "topic", "control characters"},
      {new Event("a\ud800", "id", null, null, null), "topic", "unpaired surrogates"},
      {new Event("t", null, null, null, null), "event_id", "is required"},
      {new Event("t", "", null, null, null), "event_id", "must not be empty"},
      {new Event("t", " ", null, null, null), "event_id", "must not be blank"},
      {new Event("t", "i".repeat(256), null, null, null), "event_id", "at most 255 characters"},
      {new Event("t", "line\nbreak", null, null, null), "event_id", "control characters"},
      {new Event("t", "\udc00x", null, null, null), "event_id", "unpaired surrogates"},
      {new Event("t", "id", null, "s".repeat(256), null), "source", "at most 255 characters"},
      {new Event("t", "id", null, null, big), "payload", "at most 1000 bytes"},
    };
    try (EventAggregator agg =
        EventAggregator.builder().store(new InMemoryDedupStore()).maxPayloadBytes(1000).build()) {
      for (Object[] c : cases) {
        Event bad = (Event) c[0];
        EventValidationException e =
            assertThrows(
                EventValidationException.class,
                () -> agg.publish(List.of(Event.of("t", "ok"), bad)),
                c[1] + " " + c[2]);
        assertEquals(1, e.violations().size(), e.getMessage());
        EventValidationException.Violation v = e.violations().get(0);
        assertEquals(1, v.index(), e.getMessage());
        assertEquals(c[1], v.field(), e.getMessage());
        assertTrue(v.rule().contains((String) c[2]), e.getMessage());
        assertTrue(e.getMessage().contains("event 1: " + c[1]), e.getMessage());
      }
      // Exactly at the limits is fine: 255 characters, even as surrogate pairs.
      assertEquals(
          Outcome.ACCEPTED,
          agg.publish(new Event("t".repeat(255), "😀".repeat(255), null, "s".repeat(255), null))
              .join()
              .outcome(0));
      assertEquals(1, agg.stats().received(), "nothing of the rejected calls may be stored");
    }
  }

  @Test
  void publish_batchWithOneInvalidEvent_storesNothing() {
    try (EventAggregator agg = EventAggregator.builder().store(new InMemoryDedupStore()).build()) {
      List<Event> batch = new ArrayList<>(events("t", 0, 10));
      batch.set(7, Event.of("t", ""));
      batch.add(null);
      EventValidationException e =
          assertThrows(EventValidationException.class, () -> agg.publish(batch));
      assertEquals(2, e.violations().size());
      assertEquals(7, e.violations().get(0).index());
      assertEquals(10, e.violations().get(1).index());
      agg.publish(Event.of("t", "after")).join(); // the writer has nothing else to commit
      AggregatorStats s = agg.stats();
      assertEquals(1, s.received());
      assertEquals(List.of("after"), ids(agg.events(EventQuery.topic("t"))));
    }
  }

  @Test
  void publish_emptyList_isRejected() {
    try (EventAggregator agg = EventAggregator.builder().store(new InMemoryDedupStore()).build()) {
      EventValidationException e =
          assertThrows(EventValidationException.class, () -> agg.publish(List.of()));
      assertTrue(e.getMessage().contains("must not be empty"), e.getMessage());
    }
  }

  @Test
  void publish_queueFullWithBlockedWriter_failsFastWithoutGrowing() throws Exception {
    BlockingStore store = new BlockingStore();
    EventAggregator agg = EventAggregator.builder().store(store).queueCapacity(10).build();
    try {
      List<CompletableFuture<PublishResult>> accepted = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        accepted.add(agg.publish(Event.of("t", "e" + i)));
      }
      store.entered.await();
      assertTimeoutPreemptively(
          Duration.ofSeconds(10),
          () -> {
            for (int i = 0; i < 100_000; i++) {
              int n = i;
              QueueFullException e =
                  assertThrows(QueueFullException.class, () -> agg.publish(Event.of("t", "x" + n)));
              assertEquals(10, e.depth());
              assertEquals(10, e.capacity());
            }
          });
      QueueFullException e =
          assertThrows(QueueFullException.class, () -> agg.publish(events("t", 100, 103)));
      assertEquals(
          "queue full: 10 of 10 events queued, no room for 3 more; retry later", e.getMessage());
      assertEquals(10, agg.stats().queueSize(), "rejected calls must not take room");
      store.release.countDown();
      for (CompletableFuture<PublishResult> f : accepted) {
        assertEquals(Outcome.ACCEPTED, f.join().outcome(0));
      }
      assertEquals(10, agg.stats().received());
      assertEquals(0, agg.stats().queueSize());
    } finally {
      store.release.countDown();
      agg.close();
    }
  }

  @Test
  void publish_storeFailsOneBatch_callersGetErrorAndWriterContinues() {
    FlakyStore store = new FlakyStore();
    try (EventAggregator agg = EventAggregator.builder().store(store).build()) {
      store.failNext.set(true);
      CompletionException e =
          assertThrows(CompletionException.class, () -> agg.publish(events("t", 0, 5)).join());
      StoreException cause = assertInstanceOf(StoreException.class, e.getCause());
      assertTrue(cause.getMessage().contains("disk on fire"), cause.getMessage());
      assertEquals(1, agg.stats().batchesFailed());
      assertEquals(0, agg.stats().queueSize());
      // The same events again: nothing of the failed batch was stored, so all are new.
      assertEquals(5, agg.publish(events("t", 0, 5)).join().accepted());
      assertTrue(agg.stats().writerRunning());
      assertEquals(5, agg.stats().uniqueProcessed());
    }
  }

  @Test
  void close_commitsEverythingAcceptedBefore_isIdempotent_laterPublishFails() {
    Path db = dir.resolve("close.db");
    List<CompletableFuture<PublishResult>> futures = new ArrayList<>();
    EventAggregator agg = EventAggregator.builder().store(SqliteDedupStore.open(db)).build();
    for (int i = 0; i < 200; i++) {
      futures.add(agg.publish(events("t", i * 50, i * 50 + 50)));
    }
    agg.close();
    for (CompletableFuture<PublishResult> f : futures) {
      assertTrue(f.isDone(), "close() returned before an accepted call was committed");
      assertEquals(50, f.join().accepted());
    }
    agg.close();
    AggregatorClosedException e =
        assertThrows(AggregatorClosedException.class, () -> agg.publish(Event.of("t", "late")));
    assertTrue(e.getMessage().contains("closed"), e.getMessage());
    try (SqliteDedupStore reopened = SqliteDedupStore.open(db)) {
      assertEquals(10_000, reopened.stats().uniqueProcessed());
    }
  }

  @Test
  void stats_afterClose_storeThatCannotAnswerClosed_lastCountersKept() {
    // A remote store (PostgreSQL) cannot read its counters once its pool is closed.
    InMemoryDedupStore memory = new InMemoryDedupStore();
    AtomicBoolean storeClosed = new AtomicBoolean();
    DedupStore remoteLike =
        new ForwardingDedupStore(memory) {
          @Override
          public StoreStats stats() {
            if (storeClosed.get()) {
              throw new StoreException("the pool is closed");
            }
            return super.stats();
          }

          @Override
          public void close() {
            storeClosed.set(true);
          }
        };
    EventAggregator agg = EventAggregator.builder().store(remoteLike).build();
    agg.publish(events("t", 0, 30));
    agg.publish(events("t", 20, 40)); // 10 duplicates
    agg.close();
    assertTrue(storeClosed.get());
    AggregatorStats last = agg.stats();
    assertEquals(50, last.received());
    assertEquals(40, last.uniqueProcessed());
    assertEquals(10, last.duplicateDropped());
  }

  @Test
  void reopen_sameFile_everyEventIsDuplicateAndCountersAndTopicOrderKept() {
    Path db = dir.resolve("persist.db");
    List<Event> all = new ArrayList<>();
    all.addAll(events("zeta", 0, 300));
    all.addAll(events("alpha", 0, 200));
    all.addAll(events("zeta", 0, 100)); // 100 duplicates
    AggregatorStats before;
    try (EventAggregator agg = EventAggregator.builder().store(SqliteDedupStore.open(db)).build()) {
      PublishResult r = agg.publish(all).join();
      assertEquals(500, r.accepted());
      before = agg.stats();
    }
    try (EventAggregator agg = EventAggregator.builder().store(SqliteDedupStore.open(db)).build()) {
      AggregatorStats reopened = agg.stats();
      assertEquals(before.received(), reopened.received());
      assertEquals(before.uniqueProcessed(), reopened.uniqueProcessed());
      assertEquals(before.duplicateDropped(), reopened.duplicateDropped());
      assertEquals(List.of("zeta", "alpha"), reopened.topics());
      assertEquals(before.topicCounts(), reopened.topicCounts());

      PublishResult again = agg.publish(all).join();
      assertEquals(0, again.accepted());
      assertEquals(all.size(), again.duplicates());
      AggregatorStats after = agg.stats();
      assertEquals(500, after.uniqueProcessed());
      assertEquals(before.received() + all.size(), after.received());
      assertEquals(List.of("zeta", "alpha"), after.topics());
    }
  }

  /**
   * 8 producers, 400,000 events, 20% duplicates (many of them of keys another thread sends), on the
   * real SQLite store: the counters and the stored rows must be exact.
   */
  @Test
  void publish_eightConcurrentProducers_countsAreExact() throws Exception {
    int threads = 8;
    int uniquePerThread = 40_000;
    int dupsPerThread = 10_000;
    Path db = dir.resolve("concurrent.db");
    try (EventAggregator agg = EventAggregator.builder().store(SqliteDedupStore.open(db)).build()) {
      CountDownLatch start = new CountDownLatch(1);
      List<CompletableFuture<Long>> acceptedPerThread = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        acceptedPerThread.add(
            CompletableFuture.supplyAsync(
                () -> produce(agg, start, thread, threads, uniquePerThread, dupsPerThread),
                runnable -> new Thread(runnable, "producer-" + thread).start()));
      }
      start.countDown();
      long accepted = 0;
      for (CompletableFuture<Long> f : acceptedPerThread) {
        accepted += f.get();
      }
      int total = threads * (uniquePerThread + dupsPerThread);
      int unique = threads * uniquePerThread;
      AggregatorStats s = agg.stats();
      assertEquals(unique, accepted, "exactly one ACCEPTED per key across all threads");
      assertEquals(total, s.received());
      assertEquals(unique, s.uniqueProcessed());
      assertEquals(total - unique, s.duplicateDropped());
      assertEquals(s.received(), s.uniqueProcessed() + s.duplicateDropped());
      long rows = 0;
      for (String topic : s.topics()) {
        rows += countRows(agg, topic);
      }
      assertEquals(s.uniqueProcessed(), rows, "stored rows");
      assertTrue(s.meanBatchSize() > 1, "group commit should batch concurrent calls");
    }
  }

  private static long produce(
      EventAggregator agg, CountDownLatch start, int thread, int threads, int unique, int dups) {
    java.util.Random random = new java.util.Random(thread);
    List<Event> mine = new ArrayList<>(unique + dups);
    for (int i = 0; i < unique; i++) {
      mine.add(Event.of("topic-" + (i % 5), "t" + thread + "-" + i));
    }
    for (int i = 0; i < dups; i++) {
      // A key of any thread, also others': some duplicates arrive before their original.
      int owner = random.nextInt(threads);
      int n = random.nextInt(unique);
      mine.add(Event.of("topic-" + (n % 5), "t" + owner + "-" + n));
    }
    java.util.Collections.shuffle(mine, random);
    try {
      start.await();
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
    long accepted = 0;
    java.util.ArrayDeque<CompletableFuture<PublishResult>> inFlight = new java.util.ArrayDeque<>();
    int i = 0;
    while (i < mine.size()) {
      int n = Math.min(1 + random.nextInt(200), mine.size() - i); // single events and batches
      inFlight.add(
          n == 1 ? agg.publish(mine.get(i)) : agg.publish(List.copyOf(mine.subList(i, i + n))));
      i += n;
      if (inFlight.size() >= 16) {
        accepted += inFlight.poll().join().accepted();
      }
    }
    while (!inFlight.isEmpty()) {
      accepted += inFlight.poll().join().accepted();
    }
    return accepted;
  }

  private static long countRows(EventAggregator agg, String topic) {
    long rows = 0;
    String cursor = null;
    do {
      EventPage page = agg.events(EventQuery.topic(topic).limit(1000).after(cursor));
      rows += page.events().size();
      cursor = page.next();
    } while (cursor != null);
    return rows;
  }

  @Test
  void builder_badValues_failFastNamingTheValue() {
    EventAggregator.Builder b = EventAggregator.builder();
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> b.queueCapacity(0))
            .getMessage()
            .contains("queueCapacity must be at least 1, was 0"));
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> b.maxBatchSize(-5))
            .getMessage()
            .contains("-5"));
    assertThrows(IllegalArgumentException.class, () -> b.maxBatchDelay(Duration.ofMillis(-1)));
  }

  @Test
  void publish_maxBatchDelay_groupsSeparateCallsIntoOneTransaction() {
    try (EventAggregator agg =
        EventAggregator.builder()
            .store(new InMemoryDedupStore())
            .maxBatchDelay(Duration.ofMillis(300))
            .build()) {
      List<CompletableFuture<PublishResult>> futures = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        futures.add(agg.publish(Event.of("t", "e" + i)));
      }
      futures.forEach(CompletableFuture::join);
      AggregatorStats s = agg.stats();
      assertTrue(s.batchesCommitted() < 20, "batches: " + s.batchesCommitted());
      assertEquals(20, s.batchedEvents());
    }
  }

  private static List<String> ids(EventPage page) {
    return page.events().stream().map(e -> e.event().eventId()).collect(Collectors.toList());
  }

  /** Blocks the writer inside append until released. */
  private static final class BlockingStore extends ForwardingDedupStore {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    BlockingStore() {
      super(new InMemoryDedupStore());
    }

    @Override
    public List<Outcome> append(List<PendingEvent> batch) {
      entered.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      return super.append(batch);
    }
  }

  /** Fails the next append when told to, like a store whose disk failed once. */
  private static final class FlakyStore extends ForwardingDedupStore {
    final AtomicBoolean failNext = new AtomicBoolean();

    FlakyStore() {
      super(new InMemoryDedupStore());
    }

    @Override
    public List<Outcome> append(List<PendingEvent> batch) {
      if (failNext.getAndSet(false)) {
        throw new StoreException("flaky store: disk on fire");
      }
      return super.append(batch);
    }
  }

  @Test
  void publish_singleEvent_isSameAsListOfOne() {
    try (EventAggregator agg = EventAggregator.builder().store(new InMemoryDedupStore()).build()) {
      PublishResult one = agg.publish(Event.of("t", "a")).join();
      PublishResult list = agg.publish(List.of(Event.of("t", "a"))).join();
      assertEquals(List.of(Outcome.ACCEPTED), one.outcomes());
      assertEquals(List.of(Outcome.DUPLICATE), list.outcomes());
      assertSame(Outcome.DUPLICATE, list.outcome(0));
    }
  }
}
