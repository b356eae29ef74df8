package dev.aggregator;

import java.util.List;

/**
 * One page of a topic's events.
 *
 * @param events the events of the page, in the order of the query
 * @param next the cursor of the following page, or {@code null} when this page is the last
 */
public record EventPage(List<StoredEvent> events, String next) {

  /** Copies the list, so the page cannot change after it is handed out. */
  public EventPage {
    events = List.copyOf(events);
  }
}
