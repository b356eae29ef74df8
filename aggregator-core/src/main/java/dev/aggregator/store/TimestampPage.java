package dev.aggregator.store;

import dev.aggregator.EventPage;
import dev.aggregator.EventQuery;
import dev.aggregator.StoredEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.function.Function;

/**
 * One page of a query in timestamp order, chosen from events offered in any order: keeps the first
 * {@code limit + 1} positions after the cursor in a bounded heap (the extra one says whether a next
 * page exists), so a store can visit the candidate events in the order it keeps them and sort only
 * a page in memory.
 *
 * <p>Its cursor is the instant and sequence number of a page's last event, {@code
 * t<epochSecond>_<nano>_<seq>}, so that the ingest-order cursors of {@link EventRows} and these
 * never take each other's place.
 *
 * @param <T> what the store keeps per candidate until the page is chosen (a row, or only its seq)
 */
public final class TimestampPage<T> {
  private record Candidate<T>(Position position, T row) {}

  /**
   * The place of an event in timestamp order: its instant, then its sequence number.
   *
   * @param timestamp the instant of the event's timestamp
   * @param seq the event's sequence number in its store
   */
  public record Position(Instant timestamp, long seq) implements Comparable<Position> {
    @Override
    public int compareTo(Position o) {
      int c = timestamp.compareTo(o.timestamp);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }

  /** The timestamp-order cursor after {@code last}. Opaque to users. */
  public static String cursor(Position last) {
    Instant t = last.timestamp();
    return "t" + t.getEpochSecond() + "_" + t.getNano() + "_" + last.seq();
  }

  /**
   * The position in a timestamp-order cursor.
   *
   * @throws IllegalArgumentException naming the cursor if it was not made by {@link
   *     #cursor(Position)}
   */
  public static Position positionOf(String cursor) {
    String[] parts = cursor.startsWith("t") ? cursor.substring(1).split("_", -1) : new String[0];
    if (parts.length == 3) {
      try {
        long second = Long.parseLong(parts[0]);
        int nano = Integer.parseInt(parts[1]);
        long seq = Long.parseLong(parts[2]);
        if (nano >= 0 && nano < 1_000_000_000 && seq >= 0) {
          return new Position(Instant.ofEpochSecond(second, nano), seq);
        }
      } catch (NumberFormatException | java.time.DateTimeException e) {
        // fall through to the one message below
      }
    }
    throw new IllegalArgumentException(
        "cursor '" + cursor + "' is not a cursor returned by this store");
  }

  private final EventQuery query;
  private final Position after;
  private final Comparator<Position> order;
  private final PriorityQueue<Candidate<T>> kept; // the candidate sorting last at its head
  private final int capacity;

  /**
   * A page for {@code query}, which is in timestamp order.
   *
   * @throws IllegalArgumentException if the query's cursor is not a timestamp-order cursor
   */
  public TimestampPage(EventQuery query) {
    this.query = query;
    this.after = query.after() == null ? null : positionOf(query.after());
    this.order =
        query.order() == EventQuery.Order.ASC
            ? Comparator.naturalOrder()
            : Comparator.<Position>naturalOrder().reversed();
    this.capacity = query.limit() + 1;
    this.kept = new PriorityQueue<>(capacity + 1, (a, b) -> order.compare(b.position, a.position));
  }

  /** The position of the query's cursor, or null on the first page. */
  public Position after() {
    return after;
  }

  /** Offers an event; keeps it if it is in the range, after the cursor, and among the first. */
  public void offer(Instant timestamp, long seq, T row) {
    if (!query.contains(timestamp)) {
      return;
    }
    Position p = new Position(timestamp, seq);
    if (after != null && order.compare(p, after) <= 0) {
      return;
    }
    if (kept.size() == capacity && order.compare(p, kept.peek().position) >= 0) {
      return;
    }
    kept.add(new Candidate<>(p, row));
    if (kept.size() > capacity) {
      kept.poll();
    }
  }

  /**
   * Whether no event whose instant is {@code bound} or later (ascending; earlier, newest first) can
   * join the page any more: the page is full and its last event sorts before such an event.
   */
  public boolean closedBefore(Instant bound) {
    if (kept.size() < capacity) {
      return false;
    }
    Instant last = kept.peek().position.timestamp();
    return query.order() == EventQuery.Order.ASC ? last.isBefore(bound) : last.isAfter(bound);
  }

  /**
   * The page: the first {@code limit} kept events in order, each made by {@code read} from its row,
   * and the cursor after the last of them if one more was kept.
   */
  public EventPage page(Function<T, StoredEvent> read) {
    List<Candidate<T>> sorted = new ArrayList<>(kept);
    sorted.sort((a, b) -> order.compare(a.position, b.position));
    int n = Math.min(sorted.size(), query.limit());
    List<StoredEvent> events = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      events.add(read.apply(sorted.get(i).row));
    }
    String next = sorted.size() > n ? cursor(sorted.get(n - 1).position) : null;
    return new EventPage(events, next);
  }
}
