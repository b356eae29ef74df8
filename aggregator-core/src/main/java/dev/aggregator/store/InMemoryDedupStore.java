package dev.aggregator.store;

import dev.aggregator.Claim;
import dev.aggregator.ClaimStats;
import dev.aggregator.Event;
import dev.aggregator.EventPage;
import dev.aggregator.EventQuery;
import dev.aggregator.Outcome;
import dev.aggregator.StoreException;
import dev.aggregator.StoredEvent;
import dev.aggregator.internal.Json;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A store that keeps everything on the heap and loses it on exit: for tests and ephemeral use. It
 * has the same semantics as the durable stores, retention included, and passes the same conformance
 * suite. Expiry here removes every expired event at once, not in steps: removing from the heap
 * costs little.
 */
public final class InMemoryDedupStore implements DedupStore {

  /** A stored event; {@code receivedNanos} is its receive time as retention counts it. */
  private record Row(long seq, long receivedNanos, String payloadJson, StoredEvent event) {}

  /** The events of one topic in ingest order, from {@code head} on, and their ids. */
  private static final class TopicLog {
    final Map<String, Row> ids = new HashMap<>();
    final List<Row> rows = new ArrayList<>();
    int head; // rows before it were removed; compacted now and then

    int size() {
      return rows.size() - head;
    }

    void removeOldest() {
      Row row = rows.get(head);
      rows.set(head++, null);
      ids.remove(row.event().event().eventId());
      if (head > 1024 && head > rows.size() / 2) {
        rows.subList(0, head).clear();
        head = 0;
      }
    }
  }

  /** A claim of a key: who holds it and until when. */
  private record Held(String token, Instant leaseExpiresAt) {}

  private final ReadWriteLock lock = new ReentrantReadWriteLock();
  private final Map<List<String>, Held> claims = new HashMap<>(); // by (topic, eventId)
  private long claimsConfirmed;
  private long claimsReleased;
  private long leasesExpired;
  private final Map<String, TopicLog> topics = new LinkedHashMap<>(); // first-seen order
  private final ArrayDeque<Row> order = new ArrayDeque<>(); // every stored row, oldest first
  private volatile Retention retention;
  private long nextSeq = 1;
  private long lastReceivedNanos = Long.MIN_VALUE;
  private long received;
  private long duplicates;
  private long expired;
  private long conflicts;
  private volatile boolean closed;

  /** An empty store. */
  public InMemoryDedupStore() {}

  @Override
  public void retain(Retention retention) {
    this.retention = retention;
  }

  @Override
  public List<Outcome> append(List<PendingEvent> batch) {
    checkOpen();
    List<Outcome> outcomes = new ArrayList<>(batch.size());
    List<Integer> conflicting = new ArrayList<>(0);
    Retention r = retention;
    long cutoff = cutoff(r);
    lock.writeLock().lock();
    try {
      expire(r, cutoff);
      for (int i = 0; i < batch.size(); i++) {
        PendingEvent e = batch.get(i);
        TopicLog log = topics.computeIfAbsent(e.topic(), t -> new TopicLog());
        Row stored = log.ids.get(e.eventId());
        if (stored != null) {
          duplicates++;
          outcomes.add(Outcome.DUPLICATE);
          if (!e.samePayload(stored.payloadJson())) {
            conflicting.add(i);
            conflicts++;
          }
          continue;
        }
        Event event =
            new Event(
                e.topic(),
                e.eventId(),
                e.timestamp(),
                e.source(),
                Json.readObject(e.payloadJson()),
                e.timestampText());
        lastReceivedNanos = Math.max(lastReceivedNanos, EventRows.epochNanos(e.receivedAt()));
        Row row =
            new Row(
                nextSeq++,
                lastReceivedNanos,
                e.payloadJson(),
                new StoredEvent(event, e.receivedAt()));
        log.rows.add(row);
        log.ids.put(e.eventId(), row);
        order.addLast(row);
        outcomes.add(Outcome.ACCEPTED);
      }
      received += batch.size();
      expire(r, cutoff);
      return new AppendResult(outcomes, conflicting);
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Removes every event expired by age at {@code cutoff}, and the oldest beyond the count. */
  private void expire(Retention r, long cutoff) {
    if (r == null) {
      return;
    }
    while (!order.isEmpty()
        && (order.size() > r.maxEvents() || order.peekFirst().receivedNanos() <= cutoff)) {
      Row row = order.removeFirst();
      topics.get(row.event().event().topic()).removeOldest();
      expired++;
    }
  }

  /** Events received at or before the returned time have expired by age; MIN_VALUE: none. */
  private static long cutoff(Retention r) {
    return EventRows.expiredUpToNanos(r);
  }

  @Override
  public ClaimState claim(
      String topic, String eventId, String token, Instant now, Instant leaseExpiresAt) {
    long cutoff = cutoff(retention);
    lock.writeLock().lock();
    try {
      TopicLog log = topics.get(topic);
      Row stored = log == null ? null : log.ids.get(eventId);
      List<String> key = List.of(topic, eventId);
      Held held = claims.get(key);
      if (stored != null && stored.receivedNanos() > cutoff) {
        if (held != null && !held.leaseExpiresAt().isAfter(now)) {
          // Its holder published the event and died before ending the claim: a confirmation.
          claims.remove(key);
          claimsConfirmed++;
        }
        return ClaimState.DUPLICATE;
      }
      if (held != null && held.leaseExpiresAt().isAfter(now)) {
        return new ClaimState(Claim.Status.IN_PROGRESS, held.leaseExpiresAt());
      }
      if (held != null) {
        leasesExpired++;
      }
      claims.put(key, new Held(token, leaseExpiresAt));
      return new ClaimState(Claim.Status.ACQUIRED, leaseExpiresAt);
    } finally {
      lock.writeLock().unlock();
    }
  }

  @Override
  public boolean endClaim(String topic, String eventId, String token, boolean confirmed) {
    lock.writeLock().lock();
    try {
      List<String> key = List.of(topic, eventId);
      Held held = claims.get(key);
      if (held == null || !held.token().equals(token)) {
        return false;
      }
      claims.remove(key);
      if (confirmed) {
        claimsConfirmed++;
      } else {
        claimsReleased++;
      }
      return true;
    } finally {
      lock.writeLock().unlock();
    }
  }

  @Override
  public ClaimStats claimStats() {
    lock.readLock().lock();
    try {
      return new ClaimStats(claims.size(), claimsConfirmed, claimsReleased, leasesExpired);
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public Optional<Instant> nextExpiry() {
    Retention r = retention;
    lock.readLock().lock();
    try {
      if (r == null || order.isEmpty()) {
        return Optional.empty();
      }
      if (order.size() > r.maxEvents()) {
        return Optional.of(Instant.MIN);
      }
      if (!r.limitsAge()) {
        return Optional.empty();
      }
      return Optional.of(r.expiresAt(EventRows.ofEpochNanos(order.peekFirst().receivedNanos())));
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public EventPage events(EventQuery query) {
    if (query.orderBy() == EventQuery.OrderBy.TIMESTAMP) {
      return eventsByTimestamp(query);
    }
    long after = query.after() == null ? -1 : EventRows.seqOf(query.after());
    boolean asc = query.order() == EventQuery.Order.ASC;
    long cutoff = cutoff(retention);
    lock.readLock().lock();
    try {
      TopicLog log = topics.get(query.topic());
      if (log == null) {
        return new EventPage(List.of(), null);
      }
      // Rows expired by age but not removed yet are hidden: they are the oldest, a prefix.
      List<Row> rows = log.rows;
      int first = log.head;
      while (first < rows.size() && rows.get(first).receivedNanos() <= cutoff) {
        first++;
      }
      // Rows are sorted by seq: find the first row of the page by binary search.
      int start;
      if (asc) {
        start = after < 0 ? first : firstAbove(rows, first, after);
      } else {
        start = after < 0 ? rows.size() - 1 : firstAbove(rows, first, after - 1) - 1;
      }
      List<StoredEvent> page = new ArrayList<>();
      int step = asc ? 1 : -1;
      long lastSeq = 0;
      boolean more = false;
      for (int i = start; i >= first && i < rows.size(); i += step) {
        Row row = rows.get(i);
        if (!query.contains(row.event().event().timestamp())) {
          continue;
        }
        if (page.size() == query.limit()) {
          more = true;
          break;
        }
        page.add(row.event());
        lastSeq = row.seq();
      }
      return new EventPage(page, more ? EventRows.cursor(lastSeq) : null);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** A page in timestamp order: every live row of the topic is a candidate; the heap is small. */
  private EventPage eventsByTimestamp(EventQuery query) {
    TimestampPage<StoredEvent> page = new TimestampPage<>(query);
    long cutoff = cutoff(retention);
    lock.readLock().lock();
    try {
      TopicLog log = topics.get(query.topic());
      if (log != null) {
        for (int i = log.head; i < log.rows.size(); i++) {
          Row row = log.rows.get(i);
          if (row.receivedNanos() > cutoff) {
            page.offer(row.event().event().timestamp(), row.seq(), row.event());
          }
        }
      }
    } finally {
      lock.readLock().unlock();
    }
    return page.page(e -> e);
  }

  /** The index of the first row from {@code from} on whose seq is greater than {@code seq}. */
  private static int firstAbove(List<Row> rows, int from, long seq) {
    int lo = from;
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
      for (Map.Entry<String, TopicLog> t : topics.entrySet()) {
        counts.put(t.getKey(), (long) t.getValue().size());
      }
      return new StoreStats(received, nextSeq - 1, duplicates, expired, conflicts, counts);
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public String describe() {
    return "in-memory store";
  }

  /** Fails only once closed: there is nothing else to reach. */
  @Override
  public void probe() {
    checkOpen();
  }

  private void checkOpen() {
    if (closed) {
      throw new StoreException(describe() + " is closed");
    }
  }

  /** From now on appends and probes fail; what is stored can still be read. */
  @Override
  public void close() {
    closed = true;
  }
}
