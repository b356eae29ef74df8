package dev.aggregator.examples;

import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.aggregator.AggregatorStats;
import dev.aggregator.Event;
import dev.aggregator.EventAggregator;
import dev.aggregator.EventQuery;
import dev.aggregator.PublishResult;
import dev.aggregator.StoredEvent;
import dev.aggregator.sqlite.SqliteDedupStore;
import java.nio.file.Path;
import java.util.List;

/**
 * The library in one screen: publish (a retry is a duplicate), query a topic, read the counters.
 * {@code java -cp loadgen.jar dev.aggregator.examples.EmbeddedQuickstart [database file]}.
 */
public final class EmbeddedQuickstart {
  private EmbeddedQuickstart() {}

  /** Publishes three events (one a retry), lists the topic and prints the counters. */
  public static void main(String[] args) {
    Path db = Path.of(args.length > 0 ? args[0] : "data/quickstart.db");
    var payload = JsonMapper.builder().build().createObjectNode().put("amount", 42);
    try (EventAggregator aggregator =
        EventAggregator.builder().store(SqliteDedupStore.open(db)).build()) {
      // join() returns once the events are durably committed.
      PublishResult first = aggregator.publish(Event.of("orders", "order-1", payload)).join();
      PublishResult retry =
          aggregator
              .publish(List.of(Event.of("orders", "order-1"), Event.of("orders", "order-2")))
              .join();
      System.out.println("outcomes: " + first.outcomes() + " " + retry.outcomes());

      for (StoredEvent e : aggregator.events(EventQuery.topic("orders").limit(10)).events()) {
        System.out.println("stored: " + e.event().eventId() + " " + e.event().payload());
      }
      AggregatorStats stats = aggregator.stats();
      System.out.printf(
          "stats: %d received, %d unique, %d duplicates%n",
          stats.received(), stats.uniqueProcessed(), stats.duplicateDropped());
    }
  }
}
