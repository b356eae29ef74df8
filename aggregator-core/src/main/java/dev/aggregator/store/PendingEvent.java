package dev.aggregator.store;

import dev.aggregator.Event;
import dev.aggregator.internal.EventValidator;
import dev.aggregator.internal.IsoTimestamps;
import dev.aggregator.internal.Json;
import java.time.Instant;
import java.util.List;

/**
 * An event that passed validation, on its way into a {@link DedupStore}: every field is set, and
 * the payload is already serialized (by the publishing thread, so the single writer does not pay
 * for it).
 *
 * @param topic the topic
 * @param eventId the event id
 * @param timestamp when the event happened (the receive time if the publisher gave none)
 * @param source who sent it, possibly {@code ""}
 * @param payloadJson the payload as a JSON object text
 * @param receivedAt when the aggregator received it
 * @param timestampText {@code timestamp} as the publisher spelled it ({@link
 *     dev.aggregator.Event#timestampText()}): what a store keeps and answers
 */
public record PendingEvent(
    String topic,
    String eventId,
    Instant timestamp,
    String source,
    String payloadJson,
    Instant receivedAt,
    String timestampText) {

  /** An event whose timestamp is spelled in UTC, as {@link Instant#toString()} writes it. */
  public PendingEvent(
      String topic,
      String eventId,
      Instant timestamp,
      String source,
      String payloadJson,
      Instant receivedAt) {
    this(
        topic,
        eventId,
        timestamp,
        source,
        payloadJson,
        receivedAt,
        IsoTimestamps.format(timestamp));
  }

  /**
   * Checks {@code events} by the rules the aggregator applies to a publish (payloads of at most 1
   * MiB) and prepares them for a store: for a store's own entry points that take events directly,
   * such as an append inside the application's transaction.
   *
   * @throws dev.aggregator.EventValidationException listing every violation; nothing is returned
   */
  public static List<PendingEvent> prepare(List<Event> events, Instant receivedAt) {
    return DEFAULT_RULES.prepare(events, receivedAt);
  }

  private static final EventValidator DEFAULT_RULES = new EventValidator(1 << 20);

  /**
   * Whether {@code storedPayloadJson}, the payload of the stored event with this key, is the same
   * JSON value as this event's: member order and the spelling of numbers do not matter ({@code
   * {"a":1,"b":2}} equals {@code {"b":2.0,"a":1}}). A store asks it for each duplicate; a duplicate
   * whose payload differs is a conflict.
   */
  public boolean samePayload(String storedPayloadJson) {
    return Json.sameValue(payloadJson, storedPayloadJson);
  }
}
