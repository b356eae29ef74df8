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
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Design of the API layer.
 *
 * Routes. A fixed table from path to method to route; GET / lists it. The browser pages (UiHandler)
 * are a second, fixed table that needs no API key and is not listed. Unknown paths are 404, known
 * paths with another method 405 with Allow.
 *
 * Threads. handle() runs on the connection's event loop and must never block it. A durable
 * publish does not block at all: it validates and enqueues on the loop (a large body is parsed on
 * the blocking executor instead, so one 10 MiB request does not stall the other connections of its
 * loop), and the commit's completion continues on the loop, which writes the answer. Every other
 * route may block (SQLite or PostgreSQL reads, a Redis forward, a service-metrics commit) and runs
 * on the blocking executor.
 *
 * One answer per request, always: a route's failure, synchronous or not, becomes the one error
 * shape in Errors; the request line is logged and counted exactly once, after the answer is handed
 * to the transport.
 */
/**
 * Every route of the API: it finds the route (404, 405 + Allow), checks the API key (401), runs the
 * route, and hands exactly one {@link Response} to the transport, then logs the request line and
 * counts it.
 */
final class Api {
  private static final Logger log = LoggerFactory.getLogger(Api.class);
  private static final Logger requestLog = LoggerFactory.getLogger("dev.aggregator.http.request");

  /** The topic holding the service-metrics records; not publishable through /publish. */
  static final String METRICS_TOPIC = "_service_metrics";

  /** A request id that is safe to echo and to log. */
  private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._:\\-]{1,128}");

  /** Larger publish bodies are parsed on the blocking executor, not on the event loop. */
  private static final int INLINE_PARSE_BYTES = 64 << 10;

  static final String VERSION = readVersion();

  /** A route that may block: it runs on the blocking executor. */
  @FunctionalInterface
  interface BlockingRoute {
    Response handle(Request request, Map<String, String> query) throws Exception;
  }

  /** A route that must not block: it runs on the event loop and may answer later. */
  @FunctionalInterface
  interface Route {
    CompletableFuture<Response> handle(Request request, Map<String, String> query) throws Exception;
  }

  /** Where an answer goes: the transport, which writes it to the request's connection. */
  @FunctionalInterface
  interface Responder {
    void send(Response response, String requestId);
  }

  /** Path to (method to route), in the order GET / lists them. */
  private final Map<String, Map<String, Route>> routes = new LinkedHashMap<>();

  private final EventAggregator aggregator;
  private final Limits limits;
  private final AckMode ackMode;
  private final PublishForwarder forwarder;
  private final ApiKeys keys;
  private final boolean protectReads;
  private final Executor blocking;
  private final Duration ackTimeout;
  final ObjectMapper mapper;
  final Errors errors;
  final HttpMetrics metrics = new HttpMetrics();
  private final ServiceMetrics serviceMetrics;
  private final UiHandler ui;

  private volatile boolean closing;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Object idle = new Object();

  Api(
      EventAggregator aggregator,
      Limits limits,
      AckMode ackMode,
      PublishForwarder forwarder,
      ApiKeys keys,
      boolean protectReads,
      Executor blocking,
      Duration ackTimeout) {
    this.aggregator = aggregator;
    this.limits = limits;
    this.ackMode = ackMode;
    this.forwarder = forwarder;
    this.keys = keys;
    this.protectReads = protectReads;
    this.blocking = blocking;
    this.ackTimeout = ackTimeout;
    this.mapper = mapper(limits);
    this.errors = new Errors(mapper);
    this.serviceMetrics = new ServiceMetrics(aggregator, mapper, this);
    this.ui = new UiHandler();
    route("/", "GET", blocking(this::info));
    route("/publish", "POST", this::publish);
    route("/events", "GET", blocking(this::events));
    route("/stats", "GET", blocking((r, q) -> errors.json(200, stats(), Map.of())));
    route("/health", "GET", blocking((r, q) -> health()));
    route("/prometheus", "GET", blocking((r, q) -> prometheus()));
    route("/metrics/", "GET", blocking(serviceMetrics::list));
    route("/metrics/", "POST", blocking(serviceMetrics::record));
    route("/metrics/summary", "GET", blocking(serviceMetrics::summary));
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

  /** Runs {@code route} on the blocking executor. */
  private Route blocking(BlockingRoute route) {
    return (request, query) -> onBlocking(() -> route.handle(request, query));
  }

  /** Runs {@code work} on the blocking executor. */
  private <T> CompletableFuture<T> onBlocking(Callable<T> work) {
    CompletableFuture<T> result = new CompletableFuture<>();
    blocking.execute(
        () -> {
          try {
            result.complete(work.call());
          } catch (Throwable t) {
            result.completeExceptionally(t);
          }
        });
    return result;
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

  // ---- the request ----

  /**
   * Answers {@code request} through {@code out}, exactly once, now or later; never throws. Called
   * on the connection's event loop.
   */
  void handle(Request request, Responder out) {
    long start = System.nanoTime();
    inFlight.incrementAndGet();
    String method = request.method();
    String path = request.rawPath();
    String requestId = requestId(request);
    CompletableFuture<Response> answer;
    try {
      answer = dispatch(request, routes.get(routeKey(path)));
    } catch (Exception e) {
      answer = CompletableFuture.completedFuture(errors.toResponse(e, method, path, requestId));
    }
    finish(method, path, requestId, start, answer, out);
  }

  /**
   * Answers a request that the transport refused before a route could see it (malformed, or a body
   * over the limit), logged and counted like every other request. Called on the event loop.
   */
  void refuse(String method, String path, HttpError refusal, Responder out) {
    long start = System.nanoTime();
    inFlight.incrementAndGet();
    finish(method, path, RequestIds.next(), start, CompletableFuture.failedFuture(refusal), out);
  }

  /** The route a path is counted under: one of the table's, or "unmatched" (bounded labels). */
  private String routeLabel(String path) {
    String key = routeKey(path);
    return routes.containsKey(key) || ui.serves(path) ? key : "unmatched";
  }

  /** Once the answer is there: hands it to the transport, then logs and counts the request. */
  private void finish(
      String method,
      String path,
      String requestId,
      long start,
      CompletableFuture<Response> answer,
      Responder out) {
    answer.whenComplete(
        (response, failure) -> {
          Response r =
              failure == null
                  ? response
                  : errors.toResponse(unwrap(failure), method, path, requestId);
          try {
            out.send(r, requestId);
          } finally {
            long nanos = System.nanoTime() - start;
            metrics.request(routeLabel(path), method, r.status(), nanos);
            if (requestLog.isInfoEnabled()) {
              requestLog.info(
                  "REQUEST: {} {} - STATUS: {} - DURATION: {}ms - ID: {}",
                  LogSafe.escape(method), // the client's bytes: no forged lines, no escapes
                  LogSafe.escape(path),
                  r.status(),
                  millis(nanos),
                  requestId);
            }
            if (inFlight.decrementAndGet() == 0 && closing) {
              synchronized (idle) {
                idle.notifyAll();
              }
            }
          }
        });
  }

  /**
   * The event loop as an executor that never rejects: once the server is closing down its loops
   * refuse tasks, and a commit completing then must still be answered (and counted out of
   * inFlight), so the answer is then built on the completing thread.
   */
  private static Executor onLoopOrInline(Executor loop) {
    return task -> {
      try {
        loop.execute(task);
      } catch (RejectedExecutionException e) {
        task.run();
      }
    };
  }

  /** "1.84" for 1,840,000 ns: the request line's duration, without String.format's cost. */
  static String millis(long nanos) {
    long hundredths = (Math.max(nanos, 0) + 5_000) / 10_000;
    long fraction = hundredths % 100;
    return hundredths / 100 + (fraction < 10 ? ".0" : ".") + fraction;
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }

  private CompletableFuture<Response> dispatch(Request request, Map<String, Route> byMethod)
      throws Exception {
    String method = request.method();
    String path = request.rawPath();
    if (byMethod == null) {
      if (ui.serves(path)) {
        // The pages carry no data of the aggregator: no API key, and served while closing.
        return CompletableFuture.completedFuture(ui.serve(method, path));
      }
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
    if (path.equals("/") && method.equals("GET") && UiHandler.wantsHtml(request)) {
      // a browser goes to the dashboard
      return CompletableFuture.completedFuture(UiHandler.redirectToDashboard());
    }
    boolean isHealth = path.equals("/health");
    if (closing && !isHealth) {
      return CompletableFuture.completedFuture(errors.unavailable());
    }
    if (keys.enabled() && !isHealth && (!method.equals("GET") || protectReads)) {
      if (!keys.allows(request.headers())) {
        throw new HttpError(
            401,
            "unauthorized",
            "missing or wrong API key: send Authorization: Bearer <key> or X-API-Key: <key>",
            null,
            Map.of("WWW-Authenticate", "Bearer"));
      }
    }
    return route.handle(request, query(request.rawQuery()));
  }

  /** The route of a path; {@code /metrics} is the same as {@code /metrics/}. */
  private static String routeKey(String path) {
    if (path == null || path.isEmpty()) {
      return "/";
    }
    return path.equals("/metrics") ? "/metrics/" : path;
  }

  private static String requestId(Request request) {
    String given = request.header("X-Request-Id");
    return given != null && REQUEST_ID.matcher(given).matches() ? given : RequestIds.next();
  }

  private static Map<String, String> query(String raw) {
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
        throw new HttpError(
            400,
            "bad_request",
            "query parameter "
                + LogSafe.escape(k)
                + " is not percent-encoded correctly: a % must be followed by two hex digits");
      }
    }
    return q;
  }

  // ---- request bodies ----

  /**
   * Parses a request body (the transport has already refused one over the size limit): the JSON
   * tree, or 400 invalid_json (empty, not UTF-8, not JSON, duplicate keys, numbers out of range) or
   * 413 payload_too_large (Jackson's read constraints).
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

  /**
   * Waits for a durable publish on a thread that may block (the service-metrics API); the
   * aggregator's failure is rethrown as itself.
   */
  PublishResult awaitCommit(CompletableFuture<PublishResult> future) throws Exception {
    long start = System.nanoTime();
    try {
      PublishResult r = future.get(ackTimeout.toNanos(), TimeUnit.NANOSECONDS);
      metrics.publishAck.observeNanos(System.nanoTime() - start);
      return r;
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    } catch (TimeoutException e) {
      throw ackTimedOut();
    }
  }

  private HttpError ackTimedOut() {
    return new HttpError(
        503,
        "unavailable",
        "the events were queued but not committed within "
            + ackTimeout.toMillis()
            + " ms; retry, duplicates are harmless",
        null,
        Map.of("Retry-After", "1"));
  }

  // ---- routes ----

  private Response info(Request request, Map<String, String> q) {
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

  /**
   * POST /publish: on the event loop for an ordinary body; a large one is parsed on the blocking
   * executor, and a forwarding server forwards there too (Redis is a network round trip).
   */
  private CompletableFuture<Response> publish(Request request, Map<String, String> q)
      throws Exception {
    AckMode ack = ackMode;
    String a = q.get("ack");
    if (a != null) {
      switch (a) {
        case "durable" -> ack = AckMode.DURABLE;
        case "queued" -> ack = AckMode.QUEUED;
        default -> throw invalidParameter("ack", "must be durable or queued, was '" + a + "'");
      }
    }
    AckMode mode = ack;
    if (forwarder != null) {
      return onBlocking(() -> forward(publishedEvents(parseJson(request.body()))));
    }
    if (request.body().length > INLINE_PARSE_BYTES) {
      return onBlocking(() -> enqueue(request, mode)).thenCompose(answer -> answer);
    }
    return enqueue(request, mode);
  }

  /**
   * Parses, checks and enqueues the events of a publish; for a durable ack, the answer completes on
   * the request's event loop once they are committed, or with 503 after the ack timeout.
   */
  private CompletableFuture<Response> enqueue(Request request, AckMode ack) throws Exception {
    List<Event> events = publishedEvents(parseJson(request.body()));
    long start = System.nanoTime();
    CompletableFuture<PublishResult> committed = aggregator.publish(events);
    if (ack == AckMode.QUEUED) {
      ObjectNode r =
          mapper.createObjectNode().put("received", events.size()).put("queued", events.size());
      return CompletableFuture.completedFuture(errors.json(202, r, Map.of()));
    }
    CompletableFuture<Response> answer = new CompletableFuture<>();
    ScheduledExecutorService loop = request.loop();
    ScheduledFuture<?> timeout =
        loop.schedule(
            () -> answer.completeExceptionally(ackTimedOut()),
            ackTimeout.toNanos(),
            TimeUnit.NANOSECONDS);
    committed.whenCompleteAsync(
        (result, failure) -> {
          timeout.cancel(false);
          if (failure != null) {
            answer.completeExceptionally(failure);
            return;
          }
          metrics.publishAck.observeNanos(System.nanoTime() - start);
          try {
            answer.complete(publishAnswer(events, result));
          } catch (Throwable t) {
            answer.completeExceptionally(t);
          }
        },
        onLoopOrInline(loop));
    return answer;
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

  private Response events(Request request, Map<String, String> q) {
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
