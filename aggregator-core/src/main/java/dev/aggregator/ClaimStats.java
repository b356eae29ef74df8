package dev.aggregator;

/**
 * The counters of {@link ConsumerGuard} claims, kept by the store: durable, and on a shared store
 * (PostgreSQL) the same on every node.
 *
 * @param pending keys claimed and neither confirmed nor released yet, including those whose lease
 *     has run out while no delivery has taken them over
 * @param confirmed claims ended by a confirmation: the handler succeeded and its key is stored
 * @param released claims given back after a failed handler, so that the next delivery runs it
 * @param leasesExpired claims taken over by a later delivery after their lease ran out: a handler
 *     that died, hung or ran longer than its lease
 */
public record ClaimStats(long pending, long confirmed, long released, long leasesExpired) {

  /** No claim was ever made. */
  public static final ClaimStats NONE = new ClaimStats(0, 0, 0, 0);
}
