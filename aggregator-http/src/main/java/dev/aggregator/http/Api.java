package dev.aggregator.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.aggregator.AggregatorStats;
import dev.aggregator.Event;
import dev.aggregator.EventAggregator;
import dev.aggregator.EventJson;
import dev.aggregator.EventPage;
import dev.aggregator.EventQuery;
import dev.aggregator.EventValidationException;
import dev.aggregator.Health;
import dev.aggregator.Outcome;
import dev.aggregator.PublishResult;
import dev.aggregator.StoredEvent;
import dev.aggregator.http.AggregatorServer.AckMode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every route of the API behind one {@link HttpHandler}: it finds the route (404, 405 + Allow),
 * checks the API key (401), runs the route's handler, writes exactly one response, closes the
 * exchange, logs the request line and counts it.
 */
final class Api implements HttpHandler {
  private static final Logger log = LoggerFactory.getLogger(Api.class);
  private static final Logger requestLog = LoggerFactory.getLogger("dev.aggregator.http.request");

  /** The topic holding the service-metrics records; not publishable through /publish. */
  static final String METRICS_TOPIC = "_service_metrics";

  /** A request id that is safe to echo and to log. */
  private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._:\\-]{1,128}");

  /** How long a durable publish waits for its commit before answering 503. */
  private static final long ACK_TIMEOUT_SECONDS = 30;

  static final String VERSION = readVersion();

  @FunctionalInterface
  interface Route {
    Response handle(HttpExchange exchange, Map<String, String> query) throws Exception;
  }

  /** Path to (method to handler), in the order GET / lists them. */
  private final Map<String, Map<String, Route>> routes = new LinkedHashMap<>();

  private final EventAggregator aggregator;
  private final Limits limits;
  private final AckMode ackMode;
  private final PublishForwarder forwarder;
  private final ApiKeys keys;
  private final boolean protectReads;
  final ObjectMapper mapper;
  final Errors errors;
  final HttpMetrics metrics = new HttpMetrics();
  private final ServiceMetrics serviceMetrics;

  private volatile boolean closing;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Object idle = new Object();

  Api(
      EventAggregator aggregator,
      Limits limits,
      AckMode ackMode,
      PublishForwarder forwarder,
      ApiKeys keys,
      boolean protectReads) {
    this.aggregator = aggregator;
    this.limits = limits;
    this.ackMode = ackMode;
    this.forwarder = forwarder;
    this.keys = keys;
    this.protectReads = protectReads;
    this.mapper = mapper(limits);
    this.errors = new Errors(mapper);
    this.serviceMetrics = new ServiceMetrics(aggregator, mapper, this);
    route("/", "GET", this::info);
    route("/publish", "POST", this::publish);
    route("/events", "GET", this::events);
    route("/stats", "GET", (ex, q) -> errors.json(200, stats(), Map.of()));
    route("/health", "GET", (ex, q) -> health());
    route("/prometheus", "GET", (ex, q) -> prometheus());
    route("/metrics/", "GET", serviceMetrics::list);
    route("/metrics/", "POST", serviceMetrics::record);
    route("/metrics/summary", "GET", serviceMetrics::summary);
  }

  /**
   * One mapper for this server's requests and responses: Jackson's read constraints carry the size
   * limits, so a too-deep or too-long document fails while it is parsed, not after.
   */
  private static ObjectMapper mapper(Limits limits) {
    JsonFactory factory =
        JsonFactory.builder()
            .streamReadConstraints(
                StreamReadConstraints.builder()
                    .maxNestingDepth(limits.maxNestingDepth())
                    .maxStringLength(limits.maxStringLength())
                    .maxDocumentLength(limits.maxBodyBytes())
                    .build())
            // A key given twice in one object is ambiguous (which topic did the publisher
            // mean?): refused as invalid JSON instead of silently keeping the last one.
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();
    return new ObjectMapper(factory)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .setNodeFactory(FiniteNumbers.INSTANCE);
  }

  private void route(String path, String method, Route route) {
    routes.computeIfAbsent(path, p -> new LinkedHashMap<>()).put(method, route);
  }

  // ---- lifecycle ----

  void beginShutdown() {
    closing = true;
  }

  int inFlight() {
    return inFlight.get();
  }

  boolean awaitIdle(Duration grace) {
    long deadline = System.nanoTime() + grace.toNanos();
    synchronized (idle) {
      while (inFlight.get() > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(idle, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
    }
    return true;
  }

  // ---- the exchange ----

  @Override
  public void handle(HttpExchange exchange) {
    long start = System.nanoTime();
    inFlight.incrementAndGet();
    String method = exchange.getRequestMethod();
    String path = exchange.getRequestURI().getRawPath();
    String requestId = requestId(exchange);
    String routeLabel = "unmatched";
    int status = 500;
    try {
      Response response;
      try {
        String key = routeKey(path);
        Map<String, Route> byMethod = key == null ? null : routes.get(key);
        if (byMethod != null) {
          routeLabel = key;
        }
        response = dispatch(exchange, method, path, byMethod);
      } catch (Exception e) {
        response = errors.toResponse(e, method, path, requestId);
      }
      status = response.status();
      send(exchange, response, requestId);
    } catch (IOException e) {
      log.debug(
          "{} {} - response not delivered: {} - ID: {}",
          LogSafe.escape(method),
          LogSafe.escape(path),
          e.toString(),
          requestId);
    } finally {
      exchange.close();
      long nanos = System.nanoTime() - start;
      metrics.request(routeLabel, method, status, nanos);
      if (requestLog.isInfoEnabled()) {
        requestLog.info(
            "REQUEST: {} {} - STATUS: {} - DURATION: {}ms - ID: {}",
            LogSafe.escape(method), // the client's bytes: no forged lines, no terminal escapes
            LogSafe.escape(path),
            status,
            String.format(Locale.ROOT, "%.2f", nanos / 1e6),
            requestId);
      }
      if (inFlight.decrementAndGet() == 0 && closing) {
        synchronized (idle) {
          idle.notifyAll();
        }
      }
    }
  }

  private Response dispatch(
      HttpExchange exchange, String method, String path, Map<String, Route> byMethod)
      throws Exception {
    if (byMethod == null) {
      throw new HttpError(404, "not_found", "no such path: " + path);
    }
    Route route = byMethod.get(method);
    if (route == null) {
      String allow = String.join(", ", byMethod.keySet());
      throw new HttpError(
          405,
          "method_not_allowed",
          method + " is not allowed on " + path + "; allowed: " + allow,
          null,
          Map.of("Allow", allow));
    }
    if (path.equals("/") && method.equals("GET") && UiHandler.wantsHtml(exchange)) {
      return UiHandler.redirectToDashboard(); // a browser goes to the dashboard
    }
    boolean isHealth = path.equals("/health");
    if (closing) {
      return isHealth ? health() : errors.unavailable();
    }
    if (keys.enabled() && !isHealth && (!method.equals("GET") || protectReads)) {
      if (!keys.allows(exchange.getRequestHeaders())) {
        throw new HttpError(
            401,
            "unauthorized",
            "missing or wrong API key: send Authorization: Bearer <key> or X-API-Key: <key>",
            null,
            Map.of("WWW-Authenticate", "Bearer"));
      }
    }
    return route.handle(exchange, query(exchange));
  }

  /** The route of a path; {@code /metrics} is the same as {@code /metrics/}. */
  private static String routeKey(String path) {
    if (path == null || path.isEmpty()) {
      return "/";
    }
    return path.equals("/metrics") ? "/metrics/" : path;
  }

  private static String requestId(HttpExchange exchange) {
    String given = exchange.getRequestHeaders().getFirst("X-Request-Id");
    return given != null && REQUEST_ID.matcher(given).matches()
        ? given
        : UUID.randomUUID().toString();
  }

  private static void send(HttpExchange exchange, Response r, String requestId) throws IOException {
    var h = exchange.getResponseHeaders();
    h.set("Content-Type", r.contentType());
    h.set("X-Request-Id", requestId);
    r.headers().forEach(h::set);
    byte[] body = r.body();
    exchange.sendResponseHeaders(r.status(), body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  private static Map<String, String> query(HttpExchange exchange) {
    String raw = exchange.getRequestURI().getRawQuery();
    Map<String, String> q = new HashMap<>();
    if (raw == null || raw.isEmpty()) {
      return q;
    }
    for (String pair : raw.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq);
      String v = eq < 0 ? "" : pair.substring(eq + 1);
      try {
        q.putIfAbsent(
            URLDecoder.decode(k, StandardCharsets.UTF_8),
            URLDecoder.decode(v, StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        throw invalidParameter(k, "must be URL-encoded correctly");
      }
    }
    return q;
  }

  // ---- request bodies ----

  /**
   * Reads and parses the body as JSON. The declared length is checked before reading anything, and
   * a body without one (chunked) is read only up to the limit.
   */
  JsonNode readJson(HttpExchange exchange) throws IOException {
    long max = limits.maxBodyBytes();
    String declared = exchange.getRequestHeaders().getFirst("Content-Length");
    if (declared != null) {
      long length;
      try {
        length = Long.parseLong(declared.strip());
      } catch (NumberFormatException e) {
        throw new HttpError(400, "invalid_json", "Content-Length is not a number: " + declared);
      }
      if (length > max) {
        throw tooLarge(
            "body of " + length + " bytes is larger than the limit of " + max + " bytes");
      }
    }
    byte[] body;
    try (InputStream in = exchange.getRequestBody()) {
      int cap = (int) Math.min(max, Integer.MAX_VALUE - 16);
      body = in.readNBytes(cap + 1);
      if (body.length > cap) {
        throw tooLarge("body is larger than the limit of " + max + " bytes");
      }
    } catch (IOException e) {
      // Broken framing (a chunk size that is not hex, a body shorter than declared before the
      // client closed): the client's fault, not the server's. If the client is gone, nobody
      // reads this answer anyway.
      throw new HttpError(
          400, "invalid_json", "request body could not be read: " + LogSafe.escape(e.getMessage()));
    }
    return parseJson(body);
  }

  /**
   * Parses a request body: the JSON tree, or 400 invalid_json (empty, not UTF-8, not JSON,
   * duplicate keys, numbers out of range) or 413 payload_too_large (Jackson's read constraints).
   */
  JsonNode parseJson(byte[] body) throws IOException {
    if (isBlank(body)) {
      throw new HttpError(400, "invalid_json", "request body is empty; it must be JSON");
    }
    Utf8.check(body);
    return mapper.readTree(body);
  }

  private static boolean isBlank(byte[] body) {
    for (byte b : body) {
      if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
        return false;
      }
    }
    return true;
  }

  static HttpError tooLarge(String message) {
    return new HttpError(413, "payload_too_large", message);
  }

  static HttpError invalidParameter(String name, String rule) {
    ArrayNode details = JsonNodeFactory.instance.arrayNode();
    details.addObject().put("field", name).put("rule", rule);
    return new HttpError(
        422, "validation_failed", "query parameter " + name + " " + rule, details, Map.of());
  }

  static int intParameter(Map<String, String> q, String name, int dflt, int min, int max) {
    String v = q.get(name);
    if (v == null) {
      return dflt;
    }
    try {
      int n = Integer.parseInt(v.strip());
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // one message below
    }
    throw invalidParameter(
        name, "must be an integer between " + min + " and " + max + ", was '" + v + "'");
  }

  /** Waits for a durable publish; the aggregator's failure is rethrown as itself. */
  PublishResult awaitCommit(CompletableFuture<PublishResult> future) throws Exception {
    long start = System.nanoTime();
    try {
      PublishResult r = future.get(ACK_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      metrics.publishAck.observeNanos(System.nanoTime() - start);
      return r;
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    } catch (TimeoutException e) {
      throw new HttpError(
          503,
          "unavailable",
          "the events were queued but not committed within "
              + ACK_TIMEOUT_SECONDS
              + " s; retry, duplicates are harmless",
          null,
          Map.of("Retry-After", "1"));
    }
  }

  // ---- routes ----

  private Response info(HttpExchange exchange, Map<String, String> q) {
    ObjectNode body = mapper.createObjectNode();
    body.put("service", "aggregator-server");
    body.put("version", VERSION);
    body.put(
        "description", "Idempotent event aggregator: each (topic, event_id) kept exactly once.");
    ArrayNode endpoints = body.putArray("endpoints");
    routes.forEach(
        (path, byMethod) -> byMethod.keySet().forEach(m -> endpoints.add(m + " " + path)));
    return errors.json(200, body, Map.of());
  }

  private Response publish(HttpExchange exchange, Map<String, String> q) throws Exception {
    AckMode ack = ackMode;
    String a = q.get("ack");
    if (a != null) {
      switch (a) {
        case "durable" -> ack = AckMode.DURABLE;
        case "queued" -> ack = AckMode.QUEUED;
        default -> throw invalidParameter("ack", "must be durable or queued, was '" + a + "'");
      }
    }
    List<Event> events = publishedEvents(readJson(exchange));
    if (forwarder != null) {
      return forward(events);
    }
    CompletableFuture<PublishResult> future = aggregator.publish(events);
    if (ack == AckMode.QUEUED) {
      ObjectNode r =
          mapper.createObjectNode().put("received", events.size()).put("queued", events.size());
      return errors.json(202, r, Map.of());
    }
    return publishAnswer(events, awaitCommit(future));
  }

  /**
   * The 200 body of a durable publish, written straight to bytes: building it as a tree first was
   * 7% of the request threads' samples under 100-event batches.
   */
  private Response publishAnswer(List<Event> events, PublishResult result) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(64 + 64 * events.size());
    try (JsonGenerator g = mapper.getFactory().createGenerator(out)) {
      g.writeStartObject();
      g.writeNumberField("received", events.size());
      g.writeNumberField("accepted", result.accepted());
      g.writeNumberField("duplicates", result.duplicates());
      g.writeArrayFieldStart("results");
      for (int i = 0; i < events.size(); i++) {
        g.writeStartObject();
        g.writeStringField("event_id", events.get(i).eventId());
        g.writeStringField(
            "status", result.outcome(i) == Outcome.ACCEPTED ? "accepted" : "duplicate");
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    }
    return new Response(200, Response.JSON, out.toByteArray(), Map.of());
  }

  /**
   * The events of a publish body, in any of its three shapes, with the HTTP layer's checks (not
   * empty, not over the event limit, no reserved topic) and the JSON types checked by {@link
   * EventJson}; the value rules are the aggregator's.
   */
  List<Event> publishedEvents(JsonNode body) {
    List<JsonNode> nodes = eventNodes(body);
    if (nodes.isEmpty()) {
      ArrayNode details = JsonNodeFactory.instance.arrayNode();
      details.addObject().put("field", "events").put("rule", "must not be empty");
      throw new HttpError(
          422,
          "validation_failed",
          "the batch is empty: send at least one event",
          details,
          Map.of());
    }
    if (nodes.size() > limits.maxEventsPerRequest()) {
      throw tooLarge(
          nodes.size() + " events in one request; the limit is " + limits.maxEventsPerRequest());
    }
    List<Event> events = EventJson.readAll(nodes);
    List<EventValidationException.Violation> reserved = new ArrayList<>(0);
    for (int i = 0; i < events.size(); i++) {
      if (METRICS_TOPIC.equals(events.get(i).topic())) {
        reserved.add(
            new EventValidationException.Violation(
                i, "topic", "is reserved for the service-metrics API (POST /metrics/)"));
      }
    }
    if (!reserved.isEmpty()) {
      throw new EventValidationException(reserved);
    }
    return events;
  }

  /**
   * A forwarding server: hand the events to the forwarder, which checks the aggregator's rules (a
   * violation is 422 as for a local publish), answer 202 with the ids. Nothing is written to the
   * local store.
   */
  private Response forward(List<Event> events) {
    List<String> ids;
    try {
      ids = forwarder.forward(events);
    } catch (EventValidationException e) {
      throw e;
    } catch (RuntimeException e) {
      log.warn("POST /publish - cannot forward {} event(s): {}", events.size(), e.getMessage());
      throw new HttpError(
          503,
          "unavailable",
          "cannot forward the events now; retry, duplicates are harmless",
          null,
          Map.of("Retry-After", "1"));
    }
    ObjectNode r =
        mapper.createObjectNode().put("received", events.size()).put("queued", events.size());
    ArrayNode streamIds = r.putArray("stream_ids");
    ids.forEach(streamIds::add);
    return errors.json(202, r, Map.of());
  }

  /** The three body shapes: one event, a bare array, or {@code {"events": [...]}}. */
  private static List<JsonNode> eventNodes(JsonNode body) {
    JsonNode array = body;
    if (body.isObject() && body.has("events") && !body.has("topic")) {
      array = body.get("events");
      if (!array.isArray()) {
        ArrayNode details = JsonNodeFactory.instance.arrayNode();
        details.addObject().put("field", "events").put("rule", "must be an array");
        throw new HttpError(
            422, "validation_failed", "events must be an array of events", details, Map.of());
      }
    }
    if (!array.isArray()) {
      return List.of(body); // one event; EventJson reports it if it is not an object
    }
    List<JsonNode> nodes = new ArrayList<>(array.size());
    array.forEach(nodes::add);
    return nodes;
  }

  private Response events(HttpExchange exchange, Map<String, String> q) {
    String topic = q.get("topic");
    if (topic == null) {
      throw invalidParameter("topic", "is required");
    }
    if (topic.isBlank()) {
      throw invalidParameter("topic", "must not be blank");
    }
    int limit = intParameter(q, "limit", EventQuery.DEFAULT_LIMIT, 1, EventQuery.MAX_LIMIT);
    String order = q.getOrDefault("order", "asc");
    EventQuery.Order o =
        switch (order) {
          case "asc" -> EventQuery.Order.ASC;
          case "desc" -> EventQuery.Order.DESC;
          default -> throw invalidParameter("order", "must be asc or desc, was '" + order + "'");
        };
    EventPage page = page(new EventQuery(topic, limit, q.get("after"), o));
    ObjectNode body = mapper.createObjectNode();
    body.put("topic", topic);
    body.put("count", page.events().size());
    ArrayNode events = body.putArray("events");
    for (StoredEvent e : page.events()) {
      events.add(EventJson.write(e));
    }
    body.put("next", page.next());
    return errors.json(200, body, Map.of());
  }

  /** A page, with a foreign cursor reported as the client's mistake. */
  EventPage page(EventQuery query) {
    try {
      return aggregator.events(query);
    } catch (IllegalArgumentException e) {
      throw invalidParameter("after", "must be a cursor returned by this server");
    }
  }

  private ObjectNode stats() {
    AggregatorStats s = aggregator.stats();
    ObjectNode body = mapper.createObjectNode();
    body.put("received", s.received());
    body.put("unique_processed", s.uniqueProcessed());
    body.put("duplicate_dropped", s.duplicateDropped());
    ArrayNode topics = body.putArray("topics");
    s.topics().forEach(topics::add);
    ObjectNode counts = body.putObject("topic_counts");
    s.topicCounts().forEach(counts::put);
    body.put("queue_size", s.queueSize());
    body.put("queue_capacity", s.queueCapacity());
    body.put("uptime_seconds", Math.round(s.uptime().toMillis() / 100.0) / 10.0);
    body.put("uptime_human", human(s.uptime()));
    body.put("started_at", EventJson.formatTimestamp(s.startedAt()));
    return body;
  }

  static String human(Duration d) {
    long s = d.getSeconds();
    long days = s / 86_400;
    String hms = (s % 86_400) / 3600 + "h " + (s % 3600) / 60 + "m " + s % 60 + "s";
    return days > 0 ? days + "d " + hms : hms;
  }

  private Response health() {
    ObjectNode body = mapper.createObjectNode();
    Health health = aggregator.health();
    String reason = health.healthy() ? null : health.reason();
    if (reason == null && closing) {
      reason = "the server is shutting down";
    }
    AggregatorStats s = aggregator.stats();
    body.put("status", reason == null ? "healthy" : "unhealthy");
    body.put("consumer_running", s.writerRunning());
    body.put("queue_size", s.queueSize());
    body.put("timestamp", EventJson.formatTimestamp(Instant.now()));
    if (reason != null) {
      body.put("reason", Errors.withoutDirectories(reason));
      if (health.since() != null) {
        body.put("since", EventJson.formatTimestamp(health.since()));
      }
    }
    return errors.json(reason == null ? 200 : 503, body, Map.of());
  }

  private Response prometheus() {
    AggregatorStats s = aggregator.stats();
    boolean healthy = aggregator.health().healthy() && !closing;
    byte[] text = metrics.exposition(s, healthy).getBytes(StandardCharsets.UTF_8);
    return new Response(200, "text/plain; version=0.0.4; charset=utf-8", text, Map.of());
  }

  private static String readVersion() {
    try (InputStream in = Api.class.getResourceAsStream("version.properties")) {
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
