package dev.aggregator.store;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The durable counters of a store, as of one committed transaction. In every snapshot {@code
 * received == uniqueProcessed + duplicateDropped} and {@link #stored()} {@code == uniqueProcessed -
 * expired}, the sum of the topic counts.
 *
 * @param received events appended, new or duplicate
 * @param uniqueProcessed events stored (new keys), including those removed since
 * @param duplicateDropped events dropped as duplicates
 * @param expired events removed by retention (age or count) since the store was created
 * @param payloadConflicts duplicates whose payload differed from the stored event's
 * @param topicCounts events stored now per topic, in first-seen order
 */
public record StoreStats(
    long received,
    long uniqueProcessed,
    long duplicateDropped,
    long expired,
    long payloadConflicts,
    Map<String, Long> topicCounts) {

  /** An empty store's counters. */
  public static final StoreStats EMPTY = new StoreStats(0, 0, 0, Map.of());

  /** Copies the topic counts, keeping their order. */
  public StoreStats {
    topicCounts = Collections.unmodifiableMap(new LinkedHashMap<>(topicCounts));
  }

  /** The counters of a store that has never removed an event nor seen a conflict. */
  public StoreStats(
      long received, long uniqueProcessed, long duplicateDropped, Map<String, Long> topicCounts) {
    this(received, uniqueProcessed, duplicateDropped, 0, 0, topicCounts);
  }

  /** Events stored now: {@code uniqueProcessed - expired}. */
  public long stored() {
    return uniqueProcessed - expired;
  }
}
