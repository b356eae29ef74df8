package dev.aggregator;

import java.time.Instant;

/**
 * Whether the aggregator can take events now, and if not, why.
 *
 * @param healthy {@code true} when the writer runs and the last transaction committed
 * @param reason why it is unhealthy (the store's error, or a dead writer); {@code null} if healthy
 * @param since when the current state began: the failure, or the recovery; {@code null} if it has
 *     been healthy since start
 */
public record Health(boolean healthy, String reason, Instant since) {

  /** The state of an aggregator that has had no failure. */
  public static Health ok() {
    return new Health(true, null, null);
  }
}
