package dev.aggregator.store;

import dev.aggregator.Event;
import dev.aggregator.EventPage;
import dev.aggregator.EventQuery;
import dev.aggregator.Outcome;
import dev.aggregator.StoredEvent;
import dev.aggregator.internal.Cursors;
import dev.aggregator.internal.Json;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A store that keeps everything on the heap and loses it on exit: for tests and ephemeral use. It
 * has the same semantics as the durable stores and passes the same conformance suite.
 */
public final class InMemoryDedupStore implements DedupStore {

  private record Row(long seq, StoredEvent event) {}

  /** The events of one topic, in ingest order, and the ids already taken. */
  private static final class TopicLog {
    final Map<String, Long> ids = new HashMap<>();
    final List<Row> rows = new ArrayList<>();
  }

  private final ReadWriteLock lock = new ReentrantReadWriteLock();
  private final Map<String, TopicLog> topics = new LinkedHashMap<>(); // first-seen order
  private long nextSeq = 1;
  private long received;
  private long duplicates;

  /** An empty store. */
  public InMemoryDedupStore() {}

  @Override
  public List<Outcome> append(List<PendingEvent> batch) {
    List<Outcome> outcomes = new ArrayList<>(batch.size());
    lock.writeLock().lock();
    try {
      for (PendingEvent e : batch) {
        TopicLog log = topics.computeIfAbsent(e.topic(), t -> new TopicLog());
        if (log.ids.putIfAbsent(e.eventId(), nextSeq) != null) {
          duplicates++;
          outcomes.add(Outcome.DUPLICATE);
          continue;
        }
        Event event =
            new Event(
                e.topic(),
                e.eventId(),
                e.timestamp(),
                e.source(),
                Json.readObject(e.payloadJson()));
        log.rows.add(new Row(nextSeq++, new StoredEvent(event, e.receivedAt())));
        outcomes.add(Outcome.ACCEPTED);
      }
      received += batch.size();
      return outcomes;
    } finally {
      lock.writeLock().unlock();
    }
  }

  @Override
  public EventPage events(EventQuery query) {
    long after = query.after() == null ? -1 : Cursors.decode(query.after());
    boolean asc = query.order() == EventQuery.Order.ASC;
    lock.readLock().lock();
    try {
      TopicLog log = topics.get(query.topic());
      if (log == null) {
        return new EventPage(List.of(), null);
      }
      List<Row> rows = log.rows;
      // Rows are sorted by seq: find the first row of the page by binary search.
      int start;
      if (asc) {
        start = after < 0 ? 0 : firstAbove(rows, after);
      } else {
        start = after < 0 ? rows.size() - 1 : firstAbove(rows, after - 1) - 1;
      }
      List<StoredEvent> page = new ArrayList<>();
      int step = asc ? 1 : -1;
      int i = start;
      for (; i >= 0 && i < rows.size() && page.size() < query.limit(); i += step) {
        page.add(rows.get(i).event());
      }
      boolean more = i >= 0 && i < rows.size();
      String next = more ? Cursors.encode(rows.get(i - step).seq()) : null;
      return new EventPage(page, next);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** The index of the first row whose seq is greater than {@code seq}. */
  private static int firstAbove(List<Row> rows, long seq) {
    int lo = 0;
    int hi = rows.size();
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (rows.get(mid).seq() <= seq) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  @Override
  public StoreStats stats() {
    lock.readLock().lock();
    try {
      Map<String, Long> counts = new LinkedHashMap<>();
      long unique = 0;
      for (Map.Entry<String, TopicLog> t : topics.entrySet()) {
        counts.put(t.getKey(), (long) t.getValue().rows.size());
        unique += t.getValue().rows.size();
      }
      return new StoreStats(received, unique, duplicates, counts);
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public String describe() {
    return "in-memory store";
  }

  @Override
  public void close() {}
}
