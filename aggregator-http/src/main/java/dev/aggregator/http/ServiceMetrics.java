package dev.aggregator.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aggregator.Event;
import dev.aggregator.EventAggregator;
import dev.aggregator.EventJson;
import dev.aggregator.EventPage;
import dev.aggregator.EventQuery;
import dev.aggregator.Outcome;
import dev.aggregator.PublishResult;
import dev.aggregator.StoredEvent;
import dev.aggregator.http.spi.ApiRequest;
import dev.aggregator.http.spi.ApiResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The service-metrics API ({@code /metrics/}): each record is an event on the internal topic
 * {@value JsonBodies#METRICS_TOPIC} keyed by its {@code id_data}, so a resent record is a duplicate
 * like any other event, durably and exactly, and the records survive restarts with the events.
 */
final class ServiceMetrics {
  private static final String[] NUMBERS = {"cpu_usage", "memory_usage", "latency"};

  private final EventAggregator aggregator;
  private final JsonBodies bodies;
  private final Commits commits;

  ServiceMetrics(EventAggregator aggregator, JsonBodies bodies, Commits commits) {
    this.aggregator = aggregator;
    this.bodies = bodies;
    this.commits = commits;
  }

  void register(Router router) {
    router.blocking("/metrics/", "GET", this::list);
    router.route("/metrics/", "POST", this::record);
    router.blocking("/metrics/summary", "GET", this::summary);
  }

  /**
   * POST /metrics/: 201 with the stored record, 409 if its id_data is already stored; answered
   * after the commit, like a durable publish.
   */
  private CompletableFuture<ApiResponse> record(ApiRequest request, Map<String, String> q)
      throws Exception {
    ObjectNode record = validate(bodies.parse(request.body()));
    Instant now = Instant.now();
    record.put("timestamp", EventJson.formatTimestamp(now));
    String id = record.get("id_data").textValue();
    Event event =
        new Event(
            JsonBodies.METRICS_TOPIC, id, now, record.get("service_name").textValue(), record);
    return commits.answer(
        aggregator.publish(event), request.answerOn(), result -> answer(result, id, record));
  }

  private ApiResponse answer(PublishResult result, String id, ObjectNode record) {
    if (result.outcome(0) == Outcome.DUPLICATE) {
      ObjectNode err = bodies.object();
      err.put("error", "duplicate");
      err.put("message", "a metric with id_data '" + id + "' is already recorded");
      err.put("detail", "Metric with id_data " + id + " already exists");
      return bodies.json(409, err, Map.of());
    }
    return bodies.json(201, record, Map.of());
  }

  private ObjectNode validate(JsonNode body) {
    List<String[]> problems = new ArrayList<>();
    if (!body.isObject()) {
      problems.add(new String[] {"body", "must be a JSON object"});
    } else {
      for (String f : new String[] {"id_data", "service_name"}) {
        JsonNode v = body.get(f);
        if (v == null || v.isNull()) {
          problems.add(new String[] {f, "is required"});
        } else if (!v.isTextual()) {
          problems.add(new String[] {f, "must be a string"});
        } else if (v.textValue().isBlank()) {
          problems.add(new String[] {f, "must not be blank"});
        }
      }
      for (String f : NUMBERS) {
        JsonNode v = body.get(f);
        if (v == null || v.isNull()) {
          problems.add(new String[] {f, "is required"});
        } else if (!v.isNumber() || v.doubleValue() < 0) {
          problems.add(new String[] {f, "must be a number, at least 0"});
        }
      }
      JsonNode e = body.get("error_count");
      if (e == null || e.isNull()) {
        problems.add(new String[] {"error_count", "is required"});
      } else if (!e.canConvertToLong() || !e.isIntegralNumber() || e.longValue() < 0) {
        problems.add(new String[] {"error_count", "must be an integer, at least 0"});
      }
    }
    if (!problems.isEmpty()) {
      ArrayNode details = bodies.array();
      StringBuilder message = new StringBuilder("invalid metric record: ");
      for (String[] p : problems) {
        details.addObject().put("field", p[0]).put("rule", p[1]);
        message.append(p[0]).append(' ').append(p[1]).append("; ");
      }
      message.setLength(message.length() - 2);
      throw new HttpError(422, "validation_failed", message.toString(), details, Map.of());
    }
    ObjectNode record = bodies.object();
    record.put("id_data", body.get("id_data").textValue());
    record.put("service_name", body.get("service_name").textValue());
    for (String f : NUMBERS) {
      record.set(f, body.get(f));
    }
    record.put("error_count", body.get("error_count").longValue());
    return record;
  }

  /** GET /metrics/: the records, oldest first, paged like /events; the next cursor in a header. */
  private ApiResponse list(ApiRequest request, Map<String, String> q) {
    int limit =
        QueryParameters.intParameter(q, "limit", EventQuery.DEFAULT_LIMIT, 1, EventQuery.MAX_LIMIT);
    EventPage page =
        ReadRoutes.page(
            aggregator,
            EventQuery.topic(JsonBodies.METRICS_TOPIC).limit(limit).after(q.get("after")));
    ArrayNode list = bodies.array();
    for (StoredEvent e : page.events()) {
      list.add(e.event().payload());
    }
    Map<String, String> headers =
        page.next() == null ? Map.of() : Map.of("X-Next-Cursor", page.next());
    return bodies.json(200, list, headers);
  }

  /** GET /metrics/summary: per service, in first-seen order. */
  private ApiResponse summary(ApiRequest request, Map<String, String> q) {
    Map<String, List<JsonNode>> byService = new LinkedHashMap<>();
    String after = null;
    long total = 0;
    do {
      EventPage page =
          aggregator.events(
              EventQuery.topic(JsonBodies.METRICS_TOPIC).limit(EventQuery.MAX_LIMIT).after(after));
      for (StoredEvent e : page.events()) {
        JsonNode r = e.event().payload();
        byService.computeIfAbsent(r.path("service_name").asText(), k -> new ArrayList<>()).add(r);
        total++;
      }
      after = page.next();
    } while (after != null);
    ObjectNode body = bodies.object();
    body.put("total_records", total);
    ObjectNode services = body.putObject("services");
    byService.forEach((name, records) -> services.set(name, summarize(records)));
    return bodies.json(200, body, Map.of());
  }

  private ObjectNode summarize(List<JsonNode> records) {
    int n = records.size();
    double cpuSum = 0;
    double cpuMax = Double.NEGATIVE_INFINITY;
    double memSum = 0;
    double memMax = Double.NEGATIVE_INFINITY;
    long errors = 0;
    long withErrors = 0;
    List<Double> latencies = new ArrayList<>(n);
    for (JsonNode r : records) {
      double cpu = r.path("cpu_usage").asDouble();
      double mem = r.path("memory_usage").asDouble();
      cpuSum += cpu;
      cpuMax = Math.max(cpuMax, cpu);
      memSum += mem;
      memMax = Math.max(memMax, mem);
      long e = r.path("error_count").asLong();
      errors += e;
      withErrors += e > 0 ? 1 : 0;
      latencies.add(r.path("latency").asDouble());
    }
    Collections.sort(latencies);
    ObjectNode s = bodies.object();
    s.put("count", n);
    s.put("avg_cpu_usage", round(cpuSum / n));
    s.put("max_cpu_usage", cpuMax);
    s.put("avg_memory_usage", round(memSum / n));
    s.put("max_memory_usage", memMax);
    s.put("latency_p50", percentile(latencies, 50));
    s.put("latency_p95", percentile(latencies, 95));
    s.put("latency_p99", percentile(latencies, 99));
    s.put("total_errors", errors);
    // The share of records that reported at least one error.
    s.put("error_rate", round((double) withErrors / n));
    return s;
  }

  /** Nearest-rank percentile of sorted values: an observed value, never an interpolation. */
  static double percentile(List<Double> sorted, int p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, rank - 1));
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
