package dev.aggregator;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aggregator.internal.IsoTimestamps;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * One event as a publisher sends it. The deduplication key is {@code (topic, eventId)} and nothing
 * else: a retry with another timestamp, source or payload is a duplicate, and the first stored
 * version wins.
 *
 * <p>The record holds what the publisher gave; the rules (lengths, blank values, control
 * characters, payload size) are checked by {@link EventAggregator#publish(java.util.List)}, which
 * rejects the whole call and names the index, field and rule of every violation. Optional fields
 * may be {@code null}: a missing timestamp becomes the receive time, a missing source {@code ""}, a
 * missing payload {@code {}}.
 *
 * <p>A timestamp keeps its spelling's meaning: {@link #timestampText()} is what reads answer, with
 * the offset and the fraction digits it was written with ({@code 2025-10-24T15:00:00+07:00} stays
 * that, not {@code 08:00:00Z}), while {@link #timestamp()}, its instant, is what ordering and time
 * ranges use. Give either; the other follows from it. An event made from an {@link Instant} is
 * spelled in UTC with {@code Z}, as {@link Instant#toString()} writes it.
 *
 * @param topic 1..255 characters, not blank, no control characters
 * @param eventId 1..255 characters, not blank, no control characters; unique within its topic
 * @param timestamp when the event happened; {@code null} means the receive time, unless {@code
 *     timestampText} is given
 * @param source who sent it, at most 255 characters; {@code null} means {@code ""}
 * @param payload any JSON object, at most 1 MiB serialized by default; {@code null} means {@code
 *     {}}
 * @param timestampText the timestamp as written: ISO-8601 with {@code Z}, an offset or none (UTC),
 *     kept in the spelling of {@link EventJson#normalizeTimestamp}; {@code null} means {@code
 *     timestamp} in UTC
 */
public record Event(
    String topic,
    String eventId,
    Instant timestamp,
    String source,
    ObjectNode payload,
    String timestampText) {

  /**
   * Fills in whichever of timestamp and timestampText is missing from the other.
   *
   * @throws IllegalArgumentException if {@code timestampText} is not an ISO-8601 timestamp, or not
   *     the instant {@code timestamp}
   */
  public Event {
    if (timestampText != null) {
      Instant instant;
      try {
        timestampText = IsoTimestamps.normalize(timestampText);
        instant = IsoTimestamps.parse(timestampText);
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException(
            "timestampText '" + timestampText + "' is not an ISO-8601 timestamp", e);
      }
      if (timestamp != null && !timestamp.equals(instant)) {
        throw new IllegalArgumentException(
            "timestamp "
                + timestamp
                + " is not the instant of timestampText '"
                + timestampText
                + "'");
      }
      timestamp = instant;
    } else if (timestamp != null) {
      timestampText = IsoTimestamps.format(timestamp);
    }
  }

  /** An event whose timestamp, if any, is spelled in UTC. */
  public Event(String topic, String eventId, Instant timestamp, String source, ObjectNode payload) {
    this(topic, eventId, timestamp, source, payload, null);
  }

  /** An event with only its key; timestamp, source and payload take their defaults. */
  public static Event of(String topic, String eventId) {
    return new Event(topic, eventId, null, null, null);
  }

  /** An event with its key and payload; timestamp and source take their defaults. */
  public static Event of(String topic, String eventId, ObjectNode payload) {
    return new Event(topic, eventId, null, null, payload);
  }
}
