package dev.aggregator;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;

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
 * @param topic 1..255 characters, not blank, no control characters
 * @param eventId 1..255 characters, not blank, no control characters; unique within its topic
 * @param timestamp when the event happened; {@code null} means the receive time
 * @param source who sent it, at most 255 characters; {@code null} means {@code ""}
 * @param payload any JSON object, at most 1 MiB serialized by default; {@code null} means {@code
 *     {}}
 */
public record Event(
    String topic, String eventId, Instant timestamp, String source, ObjectNode payload) {

  /** An event with only its key; timestamp, source and payload take their defaults. */
  public static Event of(String topic, String eventId) {
    return new Event(topic, eventId, null, null, null);
  }

  /** An event with its key and payload; timestamp and source take their defaults. */
  public static Event of(String topic, String eventId, ObjectNode payload) {
    return new Event(topic, eventId, null, null, payload);
  }
}
