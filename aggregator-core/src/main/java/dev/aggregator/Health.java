package dev.aggregator;

import java.time.Instant;

/**
 * Whether the aggregator can take events now, and if not, why. Answered from state kept by the
 * writer, never by asking the store, so it is cheap and fast whatever the store does.
 *
 * @param healthy {@code true} when the writer runs, the last transaction or probe of the store
 *     succeeded and no store call has been hanging
 * @param reason why it is unhealthy (the store's error, a store that does not answer, or a dead
 *     writer); {@code null} if healthy
 * @param since when the current state began: the failure, or the recovery; {@code null} if it has
 *     been healthy since start
 * @param writerRunning whether the writer thread is alive
 * @param queueSize events accepted and not yet committed
 */
public record Health(
    boolean healthy, String reason, Instant since, boolean writerRunning, int queueSize) {

  /** The state of an aggregator that has had no failure, with an empty queue. */
  public static Health ok() {
    return new Health(true, null, null, true, 0);
  }
}
