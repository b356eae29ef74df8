package dev.aggregator.store;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The durable counters of a store, as of one committed transaction.
 *
 * @param received events appended, new or duplicate
 * @param uniqueProcessed events stored
 * @param duplicateDropped events dropped as duplicates
 * @param topicCounts stored events per topic, in first-seen order
 */
public record StoreStats(
    long received, long uniqueProcessed, long duplicateDropped, Map<String, Long> topicCounts) {

  /** An empty store's counters. */
  public static final StoreStats EMPTY = new StoreStats(0, 0, 0, Map.of());

  /** Copies the topic counts, keeping their order. */
  public StoreStats {
    topicCounts = Collections.unmodifiableMap(new LinkedHashMap<>(topicCounts));
  }
}
