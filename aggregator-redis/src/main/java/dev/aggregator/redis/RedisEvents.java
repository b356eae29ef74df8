package dev.aggregator.redis;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aggregator.Event;
import dev.aggregator.EventJson;
import dev.aggregator.EventValidationException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
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

  /**
   * Reads exactly one JSON value: {@code {...}{...}} is refused rather than read as its first
   * object, which would drop the second event without a trace.
   */
  private static final ObjectReader STRICT =
      MAPPER.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  /** The fields of a stream entry written in the flat form (see {@link #fromEntry}). */
  static final String TOPIC = "topic";

  static final String EVENT_ID = "event_id";
  static final String TIMESTAMP = "timestamp";
  static final String SOURCE = "source";
  static final String PAYLOAD = "payload";

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

  /**
   * A stream entry, in one of two forms: the field {@value RedisStreamForwarder#FIELD} holds the
   * event's JSON (as {@link RedisStreamForwarder} writes it), or, when there is no such field, the
   * event's fields are the entry's own: {@code topic}, {@code event_id}, and optionally {@code
   * timestamp}, {@code source} and {@code payload} (a JSON object as text), as a publisher writes
   * {@code XADD s * topic t event_id e payload '{...}'}. A stream field cannot be null, so an empty
   * optional field counts as absent. Other fields are ignored, as unknown JSON fields are.
   */
  static Parsed fromEntry(Map<String, String> fields) {
    if (fields == null) {
      return Parsed.rejected("the entry was deleted from the stream");
    }
    String raw = fields.get(RedisStreamForwarder.FIELD);
    if (raw != null) {
      JsonNode read;
      try {
        read = STRICT.readTree(raw);
      } catch (JsonProcessingException e) {
        return Parsed.rejected("not JSON: " + e.getOriginalMessage());
      }
      return one(read);
    }
    if (!fields.containsKey(TOPIC) && !fields.containsKey(EVENT_ID)) {
      return Parsed.rejected(
          "the entry has no '"
              + RedisStreamForwarder.FIELD
              + "' field and no '"
              + TOPIC
              + "' or '"
              + EVENT_ID
              + "' field");
    }
    ObjectNode node = MAPPER.createObjectNode();
    // topic and event_id as they are, even empty: the aggregator's rules name what is wrong.
    for (String name : List.of(TOPIC, EVENT_ID)) {
      if (fields.containsKey(name)) {
        node.put(name, fields.get(name));
      }
    }
    for (String name : List.of(TIMESTAMP, SOURCE)) {
      String value = fields.get(name);
      if (value != null && !value.isEmpty()) {
        node.put(name, value);
      }
    }
    String payload = fields.get(PAYLOAD);
    if (payload != null && !payload.isBlank()) {
      try {
        node.set(PAYLOAD, STRICT.readTree(payload));
      } catch (JsonProcessingException e) {
        return Parsed.rejected(PAYLOAD + ": not JSON: " + e.getOriginalMessage());
      }
    }
    return one(node);
  }

  /**
   * A list item: the JSON of one event, or an array of events' JSON, as {@code POST /publish} takes
   * them (UTF-8).
   */
  static Parsed fromItem(byte[] item) {
    JsonNode node;
    try {
      node = STRICT.readTree(item);
    } catch (JsonProcessingException e) {
      return Parsed.rejected("not JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      return Parsed.rejected("not JSON: " + e.getMessage());
    }
    if (node == null || node.isMissingNode()) {
      return Parsed.rejected("not JSON: empty");
    }
    if (node.isArray()) {
      if (node.isEmpty()) {
        return Parsed.rejected("an empty array: no event");
      }
      List<JsonNode> elements = new ArrayList<>(node.size());
      node.forEach(elements::add);
      try {
        return Parsed.of(EventJson.readAll(elements), true);
      } catch (EventValidationException e) {
        return Parsed.rejected(reason(e.violations(), true));
      }
    }
    if (!node.isObject()) {
      return Parsed.rejected("must be a JSON object or an array of JSON objects");
    }
    return one(node);
  }

  /**
   * The dead-letter copy of a list item, a JSON object: {@code item} (the item as it was, when it
   * is UTF-8 text; else {@code item_base64}), {@code reason} and {@code consumer}.
   */
  static byte[] deadLetterItem(byte[] item, String reason, String consumer) {
    ObjectNode node = MAPPER.createObjectNode();
    try {
      node.put(
          "item",
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(item))
              .toString());
    } catch (CharacterCodingException e) {
      node.put("item_base64", Base64.getEncoder().encodeToString(item));
    }
    node.put("reason", reason);
    node.put("consumer", consumer);
    try {
      return MAPPER.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a JSON tree", e); // cannot happen
    }
  }

  private static Parsed one(JsonNode node) {
    try {
      return Parsed.of(List.of(EventJson.read(node, 0)), false);
    } catch (EventValidationException e) {
      return Parsed.rejected(reason(e.violations(), false));
    }
  }

  /**
   * The dead-letter copy of a stream entry: every original field as it was, plus {@code reason},
   * {@code id} (the entry's id), {@code group} and {@code consumer}. Should the entry have a field
   * of one of those names, the original keeps its name and the added one is prefixed with {@code
   * dead_letter_} (as often as needed), so nothing of the entry is lost.
   */
  static Map<String, String> deadLetterEntry(
      Map<String, String> fields, String id, String reason, String group, String consumer) {
    Map<String, String> copy = fields == null ? new LinkedHashMap<>() : new LinkedHashMap<>(fields);
    add(copy, "reason", reason);
    add(copy, "id", id);
    add(copy, "group", group);
    add(copy, "consumer", consumer);
    return copy;
  }

  private static void add(Map<String, String> fields, String name, String value) {
    String key = name;
    while (fields.containsKey(key)) {
      key = "dead_letter_" + key;
    }
    fields.put(key, value);
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
