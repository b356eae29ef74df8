package dev.aggregator.redis;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aggregator.Event;
import dev.aggregator.EventJson;
import dev.aggregator.EventValidationException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How what a source reads from Redis becomes events: the wire form of {@link EventJson}, read the
 * way {@code POST /publish} reads a body. A unit that cannot become events is {@link
 * Parsed#rejected rejected} with a reason, for the dead letters.
 */
final class RedisEvents {
  /** Thread-safe once configured; this module's own, not the core's. */
  static final ObjectMapper MAPPER = new ObjectMapper();

  private RedisEvents() {}

  /**
   * What one stream entry or list item holds: its events, or why it holds none.
   *
   * @param events the events, in order; empty when rejected
   * @param array whether the unit was a JSON array (reasons then name the index of the event)
   * @param reason why the unit is not events, or {@code null}
   */
  record Parsed(List<Event> events, boolean array, String reason) {
    static Parsed of(List<Event> events, boolean array) {
      return new Parsed(events, array, null);
    }

    static Parsed rejected(String reason) {
      return new Parsed(List.of(), false, reason);
    }
  }

  /** A stream entry: the field {@value RedisStreamForwarder#FIELD} holds the event's JSON. */
  static Parsed fromEntry(Map<String, String> fields) {
    if (fields == null) {
      return Parsed.rejected("the entry was deleted from the stream");
    }
    String raw = fields.get(RedisStreamForwarder.FIELD);
    if (raw == null) {
      return Parsed.rejected("the entry has no '" + RedisStreamForwarder.FIELD + "' field");
    }
    JsonNode node;
    try {
      node = MAPPER.readTree(raw);
    } catch (JsonProcessingException e) {
      return Parsed.rejected("not JSON: " + e.getOriginalMessage());
    }
    try {
      return Parsed.of(List.of(EventJson.read(node, 0)), false);
    } catch (EventValidationException e) {
      return Parsed.rejected(reason(e.violations(), false));
    }
  }

  /**
   * "field: rule; ...", as the rule violations found at publish are reported; in an array each
   * violation is prefixed with the index of its event, "[2] topic: is required".
   */
  static String reason(List<EventValidationException.Violation> violations, boolean array) {
    List<String> parts = new ArrayList<>(violations.size());
    for (EventValidationException.Violation v : violations) {
      parts.add((array ? "[" + v.index() + "] " : "") + v.field() + ": " + v.rule());
    }
    return String.join("; ", parts);
  }
}
