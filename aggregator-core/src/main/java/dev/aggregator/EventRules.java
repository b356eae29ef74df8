package dev.aggregator;

import dev.aggregator.internal.EventValidator;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The rules an {@link EventAggregator} checks on every published event, for code that hands events
 * on instead of publishing them (a forwarder to a queue) and wants to refuse an invalid event to
 * its publisher at once, with the same index, field and rule, rather than let it travel to a
 * consumer that can only dead-letter it.
 *
 * <p>The rules: {@code topic} and {@code event_id} are required, not blank, without control
 * characters, valid Unicode, at most {@value #MAX_FIELD_LENGTH} characters; {@code source} at most
 * {@value #MAX_FIELD_LENGTH} characters; the payload at most the given number of bytes of JSON.
 */
public final class EventRules {
  /** Longest topic, event id and source, in characters (code points). */
  public static final int MAX_FIELD_LENGTH = EventValidator.MAX_FIELD_LENGTH;

  /** The aggregator's default largest payload: 1 MiB of JSON. */
  public static final int DEFAULT_MAX_PAYLOAD_BYTES = 1 << 20;

  private EventRules() {}

  /**
   * Checks every event, all-or-nothing, exactly as {@link EventAggregator#publish(List)} does.
   *
   * @param maxPayloadBytes the largest payload allowed, in bytes of UTF-8 JSON
   * @throws EventValidationException naming the index, field and rule of every violation
   * @throws IllegalArgumentException if {@code maxPayloadBytes} is less than 1
   */
  public static void check(List<Event> events, int maxPayloadBytes) {
    Objects.requireNonNull(events, "events");
    if (maxPayloadBytes < 1) {
      throw new IllegalArgumentException(
          "maxPayloadBytes must be at least 1, was " + maxPayloadBytes);
    }
    new EventValidator(maxPayloadBytes).prepare(events, Instant.EPOCH);
  }
}
