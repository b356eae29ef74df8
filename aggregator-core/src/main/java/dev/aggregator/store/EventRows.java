package dev.aggregator.store;

import dev.aggregator.Event;
import dev.aggregator.EventPage;
import dev.aggregator.EventQuery;
import dev.aggregator.StoredEvent;
import dev.aggregator.internal.IsoTimestamps;
import dev.aggregator.internal.Json;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What a store needs to keep events as rows numbered by an ascending sequence ({@code seq}), as the
 * SQLite and PostgreSQL stores do: the text forms of timestamps, receive times as nanoseconds, the
 * page cursor, and the one loop that turns the rows of a page query into an {@link EventPage}.
 *
 * <p>A page query selects {@link #PAGE_COLUMNS} of one topic's events with {@code seq} beyond
 * {@link #seqBound} (above it for {@link EventQuery.Order#ASC}, below it for {@code DESC}), ordered
 * by {@code seq} that way, and at most {@link #rowLimit} rows; {@link #readPage} reads them. The
 * cursor is the {@code seq} of a page's last event, so paging is stable while events are appended.
 */
public final class EventRows {
  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  /**
   * The columns a page query returns, in this order: {@code seq} (a positive long), {@code
   * event_id}, {@code timestamp} and {@code received_at} (as written by {@link #timestamp}), {@code
   * source} and {@code payload} (the JSON object text of {@link PendingEvent#payloadJson()}).
   */
  public static final String PAGE_COLUMNS =
      "seq, event_id, timestamp, source, payload, received_at";

  private EventRows() {}

  /**
   * The {@code seq} a page query starts beyond: the cursor's, else 0 for an ascending page and
   * {@link Long#MAX_VALUE} for a descending one.
   *
   * @throws IllegalArgumentException naming the cursor if it was not made by {@link #cursor}
   */
  public static long seqBound(EventQuery query) {
    if (query.after() != null) {
      return seqOf(query.after());
    }
    return query.order() == EventQuery.Order.ASC ? 0 : Long.MAX_VALUE;
  }

  /** How many rows a page query asks for: one more than the page, which tells there is a next. */
  public static int rowLimit(EventQuery query) {
    return query.limit() + 1;
  }

  /**
   * Reads the rows of a page query (see the class comment) into a page of {@code query.topic()}'s
   * events; its cursor is set when there were more rows than {@code query.limit()}.
   *
   * @throws java.io.UncheckedIOException if a stored payload is not a JSON object
   */
  public static EventPage readPage(EventQuery query, ResultSet rows) throws SQLException {
    List<StoredEvent> events = new ArrayList<>(query.limit());
    long lastSeq = 0;
    while (rows.next()) {
      if (events.size() == query.limit()) {
        return new EventPage(events, cursor(lastSeq));
      }
      lastSeq = rows.getLong(1);
      Event event =
          new Event(
              query.topic(),
              rows.getString(2),
              Instant.parse(rows.getString(3)),
              rows.getString(4),
              Json.readObject(rows.getString(5)));
      events.add(new StoredEvent(event, Instant.parse(rows.getString(6))));
    }
    return new EventPage(events, null);
  }

  /** The cursor of a page whose last event is numbered {@code seq}. Opaque to users. */
  public static String cursor(long seq) {
    return Long.toString(seq);
  }

  /**
   * The {@code seq} in {@code cursor}.
   *
   * @throws IllegalArgumentException naming the cursor if it was not made by {@link #cursor}
   */
  public static long seqOf(String cursor) {
    try {
      long seq = Long.parseLong(cursor);
      if (seq >= 0) {
        return seq;
      }
    } catch (NumberFormatException e) {
      // fall through to the one message below
    }
    throw new IllegalArgumentException(
        "cursor '" + cursor + "' is not a cursor returned by this store");
  }

  /** {@code instant} as ISO-8601 text, exactly as {@link Instant#toString()}: to the nanosecond. */
  public static String timestamp(Instant instant) {
    return IsoTimestamps.format(instant);
  }

  /**
   * {@code t} in nanoseconds since the epoch, the form to compare receive times in. Saturates at
   * the ends of the long range (the years 1677 and 2262) instead of overflowing.
   */
  public static long epochNanos(Instant t) {
    try {
      return Math.addExact(Math.multiplyExact(t.getEpochSecond(), NANOS_PER_SECOND), t.getNano());
    } catch (ArithmeticException e) {
      return t.getEpochSecond() < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
  }

  /** The instant {@code nanos} nanoseconds after the epoch. */
  public static Instant ofEpochNanos(long nanos) {
    return Instant.ofEpochSecond(
        Math.floorDiv(nanos, NANOS_PER_SECOND), Math.floorMod(nanos, NANOS_PER_SECOND));
  }

  /**
   * The receive time, in {@link #epochNanos}, at or below which events have expired by age under
   * {@code retention} now; {@link Long#MIN_VALUE} (none) without a retention.
   */
  public static long expiredUpToNanos(Retention retention) {
    return retention == null
        ? Long.MIN_VALUE
        : epochNanos(retention.expiredUpTo(retention.clock().instant()));
  }
}
