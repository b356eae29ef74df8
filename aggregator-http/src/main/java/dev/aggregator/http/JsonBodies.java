package dev.aggregator.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aggregator.Event;
import dev.aggregator.EventJson;
import dev.aggregator.EventValidationException;
import dev.aggregator.Outcome;
import dev.aggregator.PublishResult;
import dev.aggregator.http.spi.ApiResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * JSON in and out: the one {@link ObjectMapper} of a server, request bodies read within the limits,
 * the three shapes of a publish body, and answers written as JSON.
 */
final class JsonBodies {
  /** The topic holding the service-metrics records; not publishable through /publish. */
  static final String METRICS_TOPIC = "_service_metrics";

  private final Limits limits;
  private final ObjectMapper mapper;

  JsonBodies(Limits limits) {
    this.limits = limits;
    this.mapper = mapper(limits);
  }

  /**
   * Jackson's read constraints carry the size limits, so a too-deep or too-long document fails
   * while it is parsed, not after.
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

  ObjectNode object() {
    return mapper.createObjectNode();
  }

  ArrayNode array() {
    return mapper.createArrayNode();
  }

  /** An answer with {@code body} written as JSON. */
  ApiResponse json(int status, Object body, Map<String, String> headers) {
    try {
      return new ApiResponse(status, ApiResponse.JSON, mapper.writeValueAsBytes(body), headers);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a response body", e);
    }
  }

  /**
   * Parses a request body (the transport has already refused one over the size limit): the JSON
   * tree, or 400 invalid_json (empty, not UTF-8, not JSON, duplicate keys, numbers out of range) or
   * 413 payload_too_large (Jackson's read constraints).
   */
  JsonNode parse(byte[] body) throws IOException {
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
      throw new HttpError(
          413,
          "payload_too_large",
          nodes.size()
              + " events in one request; the limit is "
              + limits.maxEventsPerRequest()
              + " per request (and at most the queue's capacity); send them in smaller requests");
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

  /**
   * The 200 body of a durable publish, written straight to bytes: building it as a tree first was a
   * visible share of the request threads' time under 100-event batches.
   */
  ApiResponse publishAnswer(List<Event> events, PublishResult result) throws IOException {
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
        if (result.conflict(i)) {
          // The same key came with another payload; the stored event is unchanged.
          g.writeBooleanField("conflict", true);
        }
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    }
    return new ApiResponse(200, ApiResponse.JSON, out.toByteArray(), Map.of());
  }
}
