package dev.aggregator.redis;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aggregator.Event;
import dev.aggregator.internal.Json;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/**
 * The JSON of one event in a stream entry, with the field names of the HTTP contract: {@code
 * {"topic", "event_id", "timestamp" (ISO-8601), "source", "payload"}}.
 *
 * <p>A stopgap: core's {@code EventJson} (on the HTTP branch) is the shared wire form; at merge
 * this class gives way to it. Until then it reads the same fields the same way for the cases the
 * Redis transport meets (Z, offsets, naive = UTC).
 */
final class StreamEventJson {
  private StreamEventJson() {}

  /** Writes an event as one JSON object text; absent optional fields are left out. */
  static String write(Event event) {
    ObjectNode node = Json.MAPPER.createObjectNode();
    node.put("topic", event.topic());
    node.put("event_id", event.eventId());
    if (event.timestamp() != null) {
      node.put("timestamp", event.timestamp().toString());
    }
    if (event.source() != null) {
      node.put("source", event.source());
    }
    if (event.payload() != null) {
      node.set("payload", event.payload());
    }
    return Json.write(node);
  }

  /**
   * Reads one event.
   *
   * @throws IllegalArgumentException saying what is wrong, if the text is not an event object
   */
  static Event read(String json) {
    if (json == null) {
      throw new IllegalArgumentException("the entry has no 'event' field");
    }
    JsonNode node;
    try {
      node = Json.MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage());
    }
    if (node == null || !node.isObject()) {
      throw new IllegalArgumentException("not a JSON object");
    }
    String topic = text(node, "topic", true);
    String eventId = text(node, "event_id", true);
    String ts = text(node, "timestamp", false);
    String source = text(node, "source", false);
    JsonNode payload = node.get("payload");
    if (payload != null && !payload.isNull() && !payload.isObject()) {
      throw new IllegalArgumentException("payload must be a JSON object");
    }
    return new Event(
        topic,
        eventId,
        ts == null ? null : timestamp(ts),
        source,
        payload == null || payload.isNull() ? null : (ObjectNode) payload);
  }

  private static String text(JsonNode node, String field, boolean required) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      if (required) {
        throw new IllegalArgumentException(field + " is required");
      }
      return null;
    }
    if (!value.isTextual()) {
      throw new IllegalArgumentException(field + " must be a string");
    }
    return value.asText();
  }

  private static Instant timestamp(String text) {
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException e) {
      try {
        return LocalDateTime.parse(text).toInstant(ZoneOffset.UTC);
      } catch (DateTimeParseException naive) {
        throw new IllegalArgumentException("timestamp '" + text + "' is not ISO-8601");
      }
    }
  }
}
