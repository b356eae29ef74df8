package dev.aggregator;

import java.time.Instant;
import java.util.Objects;

/**
 * A page request for the events of one topic: in ingest order or by event timestamp, ascending or
 * newest first, optionally only the events whose timestamp lies in {@code [from, to)}.
 *
 * <pre>{@code
 * EventPage page = aggregator.events(EventQuery.topic("orders").limit(50).newestFirst());
 * EventPage next = aggregator.events(EventQuery.topic("orders").limit(50).newestFirst().after(page.next()));
 * EventPage minute =
 *     aggregator.events(
 *         EventQuery.topic("orders").between(t, t.plusSeconds(60)).orderBy(EventQuery.OrderBy.TIMESTAMP));
 * }</pre>
 *
 * <p>Ranges and the timestamp order compare the instant an event's timestamp names, whatever offset
 * it was written with. Events with the same instant are in ingest order. Paging is complete and
 * stable while events are stored: every event stored before the first page and still stored is on
 * exactly one page; one stored later is on a later page if it sorts after the last page read (in
 * ingest order, always).
 *
 * @param topic the topic to read
 * @param limit page size, 1..{@value #MAX_LIMIT}
 * @param after a cursor from {@link EventPage#next()} of the same topic and order, or {@code null}
 *     for the first page
 * @param order ascending or newest first
 * @param from the earliest timestamp returned (inclusive), or {@code null} for no lower bound
 * @param to the timestamp before which events are returned (exclusive), or {@code null} for no
 *     upper bound
 * @param orderBy what the order sorts by: ingest order or the events' timestamps
 */
public record EventQuery(
    String topic, int limit, String after, Order order, Instant from, Instant to, OrderBy orderBy) {

  /** The largest page. */
  public static final int MAX_LIMIT = 1000;

  /** The page size when none is given. */
  public static final int DEFAULT_LIMIT = 100;

  /** The order of a page. */
  public enum Order {
    /** Oldest first: the order in which the events were stored, or earliest timestamp first. */
    ASC,
    /** Newest first. */
    DESC
  }

  /** What a page is sorted by. */
  public enum OrderBy {
    /** The order in which the events were stored. */
    INGEST,
    /** The instant of each event's timestamp; equal instants in ingest order. */
    TIMESTAMP
  }

  /**
   * Checks every field.
   *
   * @throws IllegalArgumentException naming the field and its bad value
   */
  public EventQuery {
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(order, "order");
    Objects.requireNonNull(orderBy, "orderBy");
    if (topic.isBlank()) {
      throw new IllegalArgumentException("topic must not be blank");
    }
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new IllegalArgumentException(
          "limit must be between 1 and " + MAX_LIMIT + ", was " + limit);
    }
    if (from != null && to != null && from.isAfter(to)) {
      throw new IllegalArgumentException("from " + from + " must not be after to " + to);
    }
  }

  /** A query in ingest order over all timestamps. */
  public EventQuery(String topic, int limit, String after, Order order) {
    this(topic, limit, after, order, null, null, OrderBy.INGEST);
  }

  /** The first page of {@code topic}, {@value #DEFAULT_LIMIT} events, oldest first. */
  public static EventQuery topic(String topic) {
    return new EventQuery(topic, DEFAULT_LIMIT, null, Order.ASC);
  }

  /** The same query with another page size. */
  public EventQuery limit(int limit) {
    return new EventQuery(topic, limit, after, order, from, to, orderBy);
  }

  /** The same query starting after {@code cursor} ({@code null}: from the start). */
  public EventQuery after(String cursor) {
    return new EventQuery(topic, limit, cursor, order, from, to, orderBy);
  }

  /** The same query in another order. */
  public EventQuery order(Order order) {
    return new EventQuery(topic, limit, after, order, from, to, orderBy);
  }

  /** The same query, newest first. */
  public EventQuery newestFirst() {
    return order(Order.DESC);
  }

  /**
   * The same query, only events whose timestamp is at or after {@code from} and before {@code to};
   * either may be {@code null} for no bound.
   *
   * @throws IllegalArgumentException if {@code from} is after {@code to}
   */
  public EventQuery between(Instant from, Instant to) {
    return new EventQuery(topic, limit, after, order, from, to, orderBy);
  }

  /** The same query sorted by {@code orderBy}. */
  public EventQuery orderBy(OrderBy orderBy) {
    return new EventQuery(topic, limit, after, order, from, to, orderBy);
  }

  /** Whether {@code timestamp} is inside {@code [from, to)}. */
  public boolean contains(Instant timestamp) {
    return (from == null || !timestamp.isBefore(from)) && (to == null || timestamp.isBefore(to));
  }
}
