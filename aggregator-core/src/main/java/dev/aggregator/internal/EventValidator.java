package dev.aggregator.internal;

import dev.aggregator.Event;
import dev.aggregator.EventValidationException;
import dev.aggregator.EventValidationException.Violation;
import dev.aggregator.store.PendingEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks the rules of {@link Event} and turns valid events into {@link PendingEvent}s. Runs on the
 * publishing thread, before the queue, so a call is all-or-nothing and the writer never sees an
 * invalid event.
 */
public final class EventValidator {
  /** Longest topic, event id and source, in characters (code points). */
  public static final int MAX_FIELD_LENGTH = 255;

  private final int maxPayloadBytes;

  /** A validator that allows payloads of up to {@code maxPayloadBytes} bytes of UTF-8 JSON. */
  public EventValidator(int maxPayloadBytes) {
    this.maxPayloadBytes = maxPayloadBytes;
  }

  /**
   * Validates every event and prepares it for the store.
   *
   * @throws EventValidationException listing every violation; nothing is returned then
   */
  public List<PendingEvent> prepare(List<Event> events, Instant receivedAt) {
    List<PendingEvent> pending = new ArrayList<>(events.size());
    List<Violation> violations = new ArrayList<>(0);
    for (int i = 0; i < events.size(); i++) {
      Event e = events.get(i);
      if (e == null) {
        violations.add(new Violation(i, "event", "must not be null"));
        continue;
      }
      int before = violations.size();
      checkKey(i, "topic", e.topic(), violations);
      checkKey(i, "event_id", e.eventId(), violations);
      String source = e.source() == null ? "" : e.source();
      checkText(i, "source", source, violations);
      String payload = e.payload() == null ? "{}" : Json.write(e.payload());
      if (utf8Length(payload) > maxPayloadBytes) {
        violations.add(
            new Violation(i, "payload", "must be at most " + maxPayloadBytes + " bytes as JSON"));
      }
      if (violations.size() == before) {
        // The UTC spelling of the receive time is made here, on the publishing thread, so the
        // single writer does not pay for it.
        pending.add(
            e.timestamp() == null
                ? new PendingEvent(e.topic(), e.eventId(), receivedAt, source, payload, receivedAt)
                : new PendingEvent(
                    e.topic(),
                    e.eventId(),
                    e.timestamp(),
                    source,
                    payload,
                    receivedAt,
                    e.timestampText()));
      }
    }
    if (!violations.isEmpty()) {
      throw new EventValidationException(violations);
    }
    return pending;
  }

  private static void checkKey(int index, String field, String value, List<Violation> out) {
    if (value == null) {
      out.add(new Violation(index, field, "is required"));
    } else if (value.isEmpty()) {
      out.add(new Violation(index, field, "must not be empty"));
    } else if (value.isBlank()) {
      out.add(new Violation(index, field, "must not be blank"));
    } else if (hasControlCharacter(value)) {
      // A key is an identifier: a NUL or newline in it is a publisher bug, and it would break
      // logs and URLs of every tool that shows it.
      out.add(new Violation(index, field, "must not contain control characters"));
    } else {
      checkText(index, field, value, out);
    }
  }

  private static void checkText(int index, String field, String value, List<Violation> out) {
    if (!isWellFormed(value)) {
      // An unpaired surrogate cannot be stored as UTF-8: two different keys would come back as
      // the same text, and dedup would no longer be exact.
      out.add(new Violation(index, field, "must be valid Unicode (no unpaired surrogates)"));
    } else if (value.codePointCount(0, value.length()) > MAX_FIELD_LENGTH) {
      out.add(new Violation(index, field, "must be at most " + MAX_FIELD_LENGTH + " characters"));
    }
  }

  private static boolean hasControlCharacter(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (Character.isISOControl(s.charAt(i))) {
        return true;
      }
    }
    return false;
  }

  private static boolean isWellFormed(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 == s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
          return false;
        }
        i++;
      } else if (Character.isLowSurrogate(c)) {
        return false;
      }
    }
    return true;
  }

  private static int utf8Length(String s) {
    int bytes = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        bytes += 1;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c)) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }
}
