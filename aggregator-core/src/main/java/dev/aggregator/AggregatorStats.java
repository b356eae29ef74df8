package dev.aggregator;

import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An immutable snapshot of the aggregator's counters.
 *
 * <p>{@code received}, {@code uniqueProcessed}, {@code duplicateDropped}, {@code expired}, {@code
 * payloadConflicts} and {@code topicCounts} count committed events only, are committed in the same
 * transaction as the events, and survive restarts: in every snapshot {@code received ==
 * uniqueProcessed + duplicateDropped}, and {@link #stored()} {@code == uniqueProcessed - expired}
 * is the number of stored events, the sum of {@code topicCounts}. Events accepted but not yet
 * committed are counted in {@code queueSize}.
 *
 * @param received events committed, new or duplicate
 * @param uniqueProcessed events stored as new keys, including those removed by retention since (a
 *     key accepted again after its event expired counts again)
 * @param duplicateDropped events dropped as duplicates
 * @param expired events removed by retention (age or {@code maxStoredEvents}) since the store was
 *     created
 * @param payloadConflicts duplicates whose payload differed from the stored event's (compared as
 *     JSON values); each is also among {@code duplicateDropped}
 * @param topicCounts events stored now per topic, in the order the topics were first seen
 * @param queueSize events accepted and not yet committed
 * @param queueCapacity the most events the queue holds
 * @param batchesCommitted transactions committed since start
 * @param batchedEvents events in those transactions
 * @param largestBatch the most events committed in one transaction since start
 * @param batchesFailed transactions rolled back since start
 * @param startedAt when this aggregator started
 * @param uptime how long it has been running
 * @param writerRunning whether the writer thread is alive
 * @param claims the counters of {@link ConsumerGuard} claims, durable like the event counters
 */
public record AggregatorStats(
    long received,
    long uniqueProcessed,
    long duplicateDropped,
    long expired,
    long payloadConflicts,
    Map<String, Long> topicCounts,
    int queueSize,
    int queueCapacity,
    long batchesCommitted,
    long batchedEvents,
    int largestBatch,
    long batchesFailed,
    Instant startedAt,
    Duration uptime,
    boolean writerRunning,
    ClaimStats claims) {

  /** Copies the topic counts, keeping their first-seen order. */
  public AggregatorStats {
    topicCounts = Collections.unmodifiableMap(new LinkedHashMap<>(topicCounts));
    Objects.requireNonNull(claims, "claims");
  }

  /**
   * Events stored now, {@code uniqueProcessed - expired}: what {@link EventAggregator#events} can
   * return, as of the last commit.
   */
  public long stored() {
    return uniqueProcessed - expired;
  }

  /** The topics in the order they were first seen. */
  public List<String> topics() {
    return List.copyOf(topicCounts.keySet());
  }

  /** Mean events per committed transaction since start, 0 before the first. */
  public double meanBatchSize() {
    return batchesCommitted == 0 ? 0 : (double) batchedEvents / batchesCommitted;
  }
}
