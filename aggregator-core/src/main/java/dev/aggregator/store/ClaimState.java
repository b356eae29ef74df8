package dev.aggregator.store;

import dev.aggregator.Claim;
import java.time.Instant;
import java.util.Objects;

/**
 * What {@link DedupStore#claim} decided for one key.
 *
 * @param status {@link Claim.Status#ACQUIRED} if the caller's token holds the key now, {@link
 *     Claim.Status#DUPLICATE} if the key is stored, {@link Claim.Status#IN_PROGRESS} if another
 *     token holds it under a lease that has not run out
 * @param leaseExpiresAt when the holder's lease runs out (the caller's when acquired); null for a
 *     duplicate
 */
public record ClaimState(Claim.Status status, Instant leaseExpiresAt) {

  /** The key is stored. */
  public static final ClaimState DUPLICATE = new ClaimState(Claim.Status.DUPLICATE, null);

  /** Checks that a lease end is given exactly unless the key is stored. */
  public ClaimState {
    Objects.requireNonNull(status, "status");
    if ((status == Claim.Status.DUPLICATE) != (leaseExpiresAt == null)) {
      throw new IllegalArgumentException("a lease end is given exactly unless DUPLICATE");
    }
  }
}
