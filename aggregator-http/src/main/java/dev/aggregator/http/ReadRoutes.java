package dev.aggregator.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aggregator.AggregatorStats;
import dev.aggregator.EventAggregator;
import dev.aggregator.EventJson;
import dev.aggregator.EventPage;
import dev.aggregator.EventQuery;
import dev.aggregator.Health;
import dev.aggregator.StoredEvent;
import dev.aggregator.http.spi.ApiResponse;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The read routes: {@code GET /} (the service and its endpoints), {@code /events} (a page of a
 * topic), {@code /stats}, {@code /topics} (a page of the topics with their counts), {@code /health}
 * and {@code /prometheus}. Each may block on the store, so the router runs them on the workers.
 */
final class ReadRoutes {
  static final String VERSION = readVersion();

  /**
   * The most topics {@code /stats} lists, so that its answer stays small however many topics
   * publishers create; {@code GET /topics} pages through all of them.
   */
  static final int STATS_TOPICS = 1000;

  private final EventAggregator aggregator;
  private final JsonBodies bodies;
  private final Prometheus metrics;
  private final BooleanSupplier closing;
  private final Supplier<List<String>> endpoints;

  /**
   * @param closing whether the server is shutting down (then it is not healthy)
   * @param endpoints "METHOD /path" of every route, for {@code GET /}
   */
  ReadRoutes(
      EventAggregator aggregator,
      JsonBodies bodies,
      Prometheus metrics,
      BooleanSupplier closing,
      Supplier<List<String>> endpoints) {
    this.aggregator = aggregator;
    this.bodies = bodies;
    this.metrics = metrics;
    this.closing = closing;
    this.endpoints = endpoints;
  }

  void register(Router router) {
    router.blocking("/", "GET", (r, q) -> info());
    router.blocking("/events", "GET", (r, q) -> events(q));
    router.blocking("/stats", "GET", (r, q) -> bodies.json(200, stats(), Map.of()));
    router.blocking("/topics", "GET", (r, q) -> topics(q));
    router.blocking("/health", "GET", (r, q) -> health());
    router.blocking("/prometheus", "GET", (r, q) -> prometheus());
  }

  private ApiResponse info() {
    ObjectNode body = bodies.object();
    body.put("service", "aggregator-server");
    body.put("version", VERSION);
    body.put(
        "description", "Idempotent event aggregator: each (topic, event_id) kept exactly once.");
    ArrayNode list = body.putArray("endpoints");
    endpoints.get().forEach(list::add);
    return bodies.json(200, body, Map.of());
  }

  private ApiResponse events(Map<String, String> q) {
    String topic = QueryParameters.required(q, "topic");
    int limit =
        QueryParameters.intParameter(q, "limit", EventQuery.DEFAULT_LIMIT, 1, EventQuery.MAX_LIMIT);
    String order = q.getOrDefault("order", "asc");
    EventQuery.Order o =
        switch (order) {
          case "asc" -> EventQuery.Order.ASC;
          case "desc" -> EventQuery.Order.DESC;
          default ->
              throw QueryParameters.invalid("order", "must be asc or desc, was '" + order + "'");
        };
    EventPage page = page(aggregator, new EventQuery(topic, limit, q.get("after"), o));
    ObjectNode body = bodies.object();
    body.put("topic", topic);
    body.put("count", page.events().size());
    ArrayNode events = body.putArray("events");
    for (StoredEvent e : page.events()) {
      events.add(EventJson.write(e));
    }
    body.put("next", page.next());
    return bodies.json(200, body, Map.of());
  }

  /** A page, with a foreign cursor reported as the client's mistake. */
  static EventPage page(EventAggregator aggregator, EventQuery query) {
    try {
      return aggregator.events(query);
    } catch (IllegalArgumentException e) {
      throw QueryParameters.invalid("after", "must be a cursor returned by this server");
    }
  }

  private ObjectNode stats() {
    AggregatorStats s = aggregator.stats();
    ObjectNode body = bodies.object();
    body.put("received", s.received());
    body.put("unique_processed", s.uniqueProcessed());
    body.put("duplicate_dropped", s.duplicateDropped());
    body.put("stored", s.stored());
    body.put("expired", s.expired());
    body.put("payload_conflicts", s.payloadConflicts());
    ArrayNode topics = body.putArray("topics");
    ObjectNode counts = body.putObject("topic_counts");
    int listed = 0;
    for (Map.Entry<String, Long> t : s.topicCounts().entrySet()) {
      if (listed++ == STATS_TOPICS) {
        break;
      }
      topics.add(t.getKey());
      counts.put(t.getKey(), t.getValue());
    }
    int total = s.topicCounts().size();
    body.put("topics_total", total);
    body.put("topics_truncated", total > STATS_TOPICS);
    body.put("queue_size", s.queueSize());
    body.put("queue_capacity", s.queueCapacity());
    body.put("uptime_seconds", Math.round(s.uptime().toMillis() / 100.0) / 10.0);
    body.put("uptime_human", human(s.uptime()));
    body.put("started_at", EventJson.formatTimestamp(s.startedAt()));
    return body;
  }

  /**
   * A page of the topics in first-seen order, each with its stored events. The cursor is the
   * position after the page's last topic: topics are only ever added, at the end (a topic whose
   * events all expired stays, with count 0), so positions are stable and paging neither skips nor
   * repeats a topic; topics first seen while paging come on the last pages.
   */
  private ApiResponse topics(Map<String, String> q) {
    int limit =
        QueryParameters.intParameter(q, "limit", EventQuery.DEFAULT_LIMIT, 1, EventQuery.MAX_LIMIT);
    int start = topicCursor(q.get("after"));
    Map<String, Long> all = aggregator.stats().topicCounts();
    ObjectNode body = bodies.object();
    ArrayNode topics = JsonNodeFactory.instance.arrayNode();
    int position = 0;
    for (Map.Entry<String, Long> t : all.entrySet()) {
      if (position >= start + limit) {
        break;
      }
      if (position++ >= start) {
        topics.addObject().put("topic", t.getKey()).put("count", t.getValue());
      }
    }
    int end = start + topics.size();
    body.put("count", topics.size());
    body.put("topics_total", all.size());
    body.set("topics", topics);
    body.put("next", end < all.size() ? Integer.toString(end) : null);
    return bodies.json(200, body, Map.of());
  }

  /** The position an {@code after} cursor of {@code GET /topics} names; 0 without one. */
  private static int topicCursor(String after) {
    if (after == null) {
      return 0;
    }
    try {
      int position = Integer.parseInt(after);
      if (position >= 0 && after.equals(Integer.toString(position))) {
        return position;
      }
    } catch (NumberFormatException e) {
      // one message below
    }
    throw QueryParameters.invalid("after", "must be a cursor returned by this server");
  }

  static String human(Duration d) {
    long s = d.getSeconds();
    long days = s / 86_400;
    String hms = (s % 86_400) / 3600 + "h " + (s % 3600) / 60 + "m " + s % 60 + "s";
    return days > 0 ? days + "d " + hms : hms;
  }

  private ApiResponse health() {
    ObjectNode body = bodies.object();
    Health health = aggregator.health();
    String reason = health.healthy() ? null : health.reason();
    if (reason == null && closing.getAsBoolean()) {
      reason = "the server is shutting down";
    }
    // Never aggregator.stats(): it may wait for the store, and /health must answer whatever the
    // store does.
    body.put("status", reason == null ? "healthy" : "unhealthy");
    body.put("consumer_running", health.writerRunning());
    body.put("queue_size", health.queueSize());
    body.put("timestamp", EventJson.formatTimestamp(Instant.now()));
    if (reason != null) {
      body.put("reason", Errors.withoutDirectories(reason));
      if (health.since() != null) {
        body.put("since", EventJson.formatTimestamp(health.since()));
      }
    }
    return bodies.json(reason == null ? 200 : 503, body, Map.of());
  }

  private ApiResponse prometheus() {
    AggregatorStats s = aggregator.stats();
    boolean healthy = aggregator.health().healthy() && !closing.getAsBoolean();
    byte[] text = metrics.exposition(s, healthy).getBytes(StandardCharsets.UTF_8);
    return new ApiResponse(200, "text/plain; version=0.0.4; charset=utf-8", text, Map.of());
  }

  private static String readVersion() {
    try (InputStream in = ReadRoutes.class.getResourceAsStream("version.properties")) {
      Properties p = new Properties();
      if (in != null) {
        p.load(in);
      }
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }
}
