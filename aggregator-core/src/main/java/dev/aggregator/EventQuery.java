package dev.aggregator;

import java.util.Objects;

/**
 * A page request for the events of one topic, in ingest order or newest first.
 *
 * <pre>{@code
 * EventPage page = aggregator.events(EventQuery.topic("orders").limit(50).newestFirst());
 * EventPage next = aggregator.events(EventQuery.topic("orders").limit(50).newestFirst().after(page.next()));
 * }</pre>
 *
 * @param topic the topic to read
 * @param limit page size, 1..{@value #MAX_LIMIT}
 * @param after a cursor from {@link EventPage#next()} of the same topic and order, or {@code null}
 *     for the first page
 * @param order ingest order or newest first
 */
public record EventQuery(String topic, int limit, String after, Order order) {

  /** The largest page. */
  public static final int MAX_LIMIT = 1000;

  /** The page size when none is given. */
  public static final int DEFAULT_LIMIT = 100;

  /** The order of a page. */
  public enum Order {
    /** Oldest first: the order in which the events were stored. */
    ASC,
    /** Newest first. */
    DESC
  }

  /**
   * Checks every field.
   *
   * @throws IllegalArgumentException naming the field and its bad value
   */
  public EventQuery {
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(order, "order");
    if (topic.isBlank()) {
      throw new IllegalArgumentException("topic must not be blank");
    }
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new IllegalArgumentException(
          "limit must be between 1 and " + MAX_LIMIT + ", was " + limit);
    }
  }

  /** The first page of {@code topic}, {@value #DEFAULT_LIMIT} events, oldest first. */
  public static EventQuery topic(String topic) {
    return new EventQuery(topic, DEFAULT_LIMIT, null, Order.ASC);
  }

  /** The same query with another page size. */
  public EventQuery limit(int limit) {
    return new EventQuery(topic, limit, after, order);
  }

  /** The same query starting after {@code cursor} ({@code null}: from the start). */
  public EventQuery after(String cursor) {
    return new EventQuery(topic, limit, cursor, order);
  }

  /** The same query in another order. */
  public EventQuery order(Order order) {
    return new EventQuery(topic, limit, after, order);
  }

  /** The same query, newest first. */
  public EventQuery newestFirst() {
    return order(Order.DESC);
  }
}
