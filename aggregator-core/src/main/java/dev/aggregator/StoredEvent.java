package dev.aggregator;

import java.time.Instant;
import java.util.Objects;

/**
 * An event as it was stored: timestamp, source and payload are never {@code null} here.
 *
 * @param event the first version of the event that was published with this key
 * @param receivedAt when the aggregator received it
 */
public record StoredEvent(Event event, Instant receivedAt) {

  /** Checks that no field is missing. */
  public StoredEvent {
    Objects.requireNonNull(event, "event");
    Objects.requireNonNull(receivedAt, "receivedAt");
  }
}
