package dev.aggregator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aggregator.EventValidationException.Violation;
import dev.aggregator.internal.IsoTimestamps;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The JSON wire form of an event, shared by every transport (HTTP, Redis):
 *
 * <pre>{@code
 * {"topic": "user.login", "event_id": "evt-001", "timestamp": "2025-10-23T10:00:00Z",
 *  "source": "auth-service", "payload": {...}}
 * }</pre>
 *
 * <p>Reading checks the JSON types only (a topic that is a number, a payload that is a list, a
 * timestamp that is not ISO-8601) and reports them like {@link EventAggregator#publish(List)}
 * reports its rules: index, field ({@code topic}, {@code event_id}, ...) and rule. The rules on
 * values (lengths, blank keys, payload size) stay with the aggregator. Unknown fields are ignored,
 * as the servers existing publishers were written for ignore them; {@code null} is the same as a
 * missing optional field.
 *
 * <p>Timestamps: ISO-8601 date and time with {@code Z}, an offset ({@code +07:00}, {@code +0700},
 * {@code +07}), or none (naive, read as UTC, as Python's {@code datetime.isoformat()} of a naive
 * datetime means in practice); fractions of a second up to nanoseconds; a space instead of {@code
 * T} is accepted, as Python's {@code str(datetime)} writes it. Written timestamps keep the offset
 * and the fraction digits they were read with ({@link #normalizeTimestamp}); a naive one is written
 * with {@code Z}.
 */
public final class EventJson {
  /** The rule reported for a timestamp that cannot be read. */
  static final String TIMESTAMP_RULE =
      "must be an ISO-8601 date-time such as 2025-10-23T10:00:00Z (offset optional, naive is UTC)";

  private EventJson() {}

  /**
   * Reads one event.
   *
   * @param node the JSON of the event
   * @param index the position of the event in its request, used in violations
   * @throws EventValidationException naming every field of the wrong type
   */
  public static Event read(JsonNode node, int index) {
    List<Violation> violations = new ArrayList<>(0);
    Event event = read(node, index, violations);
    if (!violations.isEmpty()) {
      throw new EventValidationException(violations);
    }
    return event;
  }

  /**
   * Reads every event of a request, all-or-nothing.
   *
   * @param nodes the JSON of the events, in request order
   * @throws EventValidationException naming the index, field and rule of every violation of every
   *     event
   */
  public static List<Event> readAll(List<? extends JsonNode> nodes) {
    List<Event> events = new ArrayList<>(nodes.size());
    List<Violation> violations = new ArrayList<>(0);
    for (int i = 0; i < nodes.size(); i++) {
      events.add(read(nodes.get(i), i, violations));
    }
    if (!violations.isEmpty()) {
      throw new EventValidationException(violations);
    }
    return events;
  }

  private static Event read(JsonNode node, int index, List<Violation> violations) {
    if (node == null || !node.isObject()) {
      violations.add(new Violation(index, "event", "must be a JSON object"));
      return null;
    }
    String topic = requiredString(node, index, "topic", violations);
    String eventId = requiredString(node, index, "event_id", violations);
    String source = optionalString(node, index, "source", violations);
    String timestamp = optionalString(node, index, "timestamp", violations);
    if (timestamp != null) {
      try {
        timestamp = normalizeTimestamp(timestamp);
      } catch (DateTimeParseException e) {
        violations.add(new Violation(index, "timestamp", TIMESTAMP_RULE));
        timestamp = null;
      }
    }
    ObjectNode payload = null;
    JsonNode p = node.get("payload");
    if (p != null && !p.isNull()) {
      if (p.isObject()) {
        payload = (ObjectNode) p;
      } else {
        violations.add(new Violation(index, "payload", "must be a JSON object"));
      }
    }
    return new Event(topic, eventId, null, source, payload, timestamp);
  }

  private static String requiredString(
      JsonNode node, int index, String field, List<Violation> violations) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      violations.add(new Violation(index, field, "is required"));
      return null;
    }
    return string(v, index, field, violations);
  }

  private static String optionalString(
      JsonNode node, int index, String field, List<Violation> violations) {
    JsonNode v = node.get(field);
    return v == null || v.isNull() ? null : string(v, index, field, violations);
  }

  private static String string(JsonNode v, int index, String field, List<Violation> violations) {
    if (!v.isTextual()) {
      // No coercion of numbers to text: "1" and 1 would be two spellings of one key.
      violations.add(new Violation(index, field, "must be a string"));
      return null;
    }
    return v.textValue();
  }

  /**
   * Parses a timestamp as described in the class comment.
   *
   * @throws DateTimeParseException naming the text if it is not such a timestamp
   */
  public static Instant parseTimestamp(String text) {
    return IsoTimestamps.parse(Objects.requireNonNull(text, "text"));
  }

  /**
   * The spelling a timestamp is kept and answered in ({@link Event#timestampText()}): {@code T}
   * between date and time, seconds, the fraction digits as written, the offset as written ({@code
   * Z} or {@code ±HH:MM}, {@code Z} for a naive timestamp). {@code 2025-10-24 15:00:00.50+0700}
   * becomes {@code 2025-10-24T15:00:00.50+07:00}.
   *
   * @throws DateTimeParseException naming the text if it is not a timestamp as described in the
   *     class comment
   */
  public static String normalizeTimestamp(String text) {
    return IsoTimestamps.normalize(Objects.requireNonNull(text, "text"));
  }

  /** Writes an instant as the wire form does when no spelling was given: UTC, with {@code Z}. */
  public static String formatTimestamp(Instant instant) {
    return IsoTimestamps.format(instant);
  }

  /**
   * Writes an event in the wire form, as a publisher sends it (to {@code POST /publish} or a
   * stream): absent optional fields ({@code timestamp}, {@code source}, {@code payload}) are left
   * out, so a reader fills them in as it would for the publisher. The payload node is the event's,
   * not a copy: do not change it.
   */
  public static ObjectNode write(Event event) {
    Objects.requireNonNull(event, "event");
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put("topic", event.topic());
    node.put("event_id", event.eventId());
    if (event.timestampText() != null) {
      node.put("timestamp", event.timestampText());
    }
    if (event.source() != null) {
      node.put("source", event.source());
    }
    if (event.payload() != null) {
      node.set("payload", event.payload());
    }
    return node;
  }

  /**
   * Writes a stored event in the wire form, with its {@code received_at}. The payload node is the
   * stored one, not a copy: do not change it.
   */
  public static ObjectNode write(StoredEvent stored) {
    Event e = stored.event();
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put("topic", e.topic());
    node.put("event_id", e.eventId());
    node.put("timestamp", e.timestampText());
    node.put("source", e.source() == null ? "" : e.source());
    node.set("payload", e.payload() == null ? JsonNodeFactory.instance.objectNode() : e.payload());
    node.put("received_at", formatTimestamp(stored.receivedAt()));
    return node;
  }
}
