package dev.aggregator;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * The answer to {@link ConsumerGuard#claim}: whether the caller now holds the event's key and may
 * run its handler, or why not.
 *
 * @param status what the store decided
 * @param event the event whose key was claimed
 * @param token identifies this holder; set only when {@link Status#ACQUIRED}, so that a holder
 *     whose lease ran out and was taken over cannot confirm or release the new holder's claim
 * @param leaseExpiresAt when the lease of the key's current holder runs out: this caller's when
 *     {@link Status#ACQUIRED}, the other holder's when {@link Status#IN_PROGRESS}; null for {@link
 *     Status#DUPLICATE}
 * @param leaseLeft how long that lease had left when the store decided; zero for {@link
 *     Status#DUPLICATE}
 */
public record Claim(
    Status status, Event event, String token, Instant leaseExpiresAt, Duration leaseLeft) {

  /** What a claim attempt found. */
  public enum Status {
    /**
     * The key was neither stored nor claimed (or its claim's lease had run out): the caller holds
     * it now, durably, and must run its handler, then confirm or release.
     */
    ACQUIRED,
    /** The key is stored: an earlier delivery was handled and confirmed; do not run the handler. */
    DUPLICATE,
    /**
     * Another delivery holds the key and its lease has not run out: its handler may be running now.
     * Nothing is known to be done yet; redeliver later (after {@link Claim#leaseLeft} at the most).
     */
    IN_PROGRESS
  }

  /** Checks that the fields fit the status. */
  public Claim {
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(event, "event");
    Objects.requireNonNull(leaseLeft, "leaseLeft");
    if ((status == Status.ACQUIRED) != (token != null)) {
      throw new IllegalArgumentException("a token is given exactly for ACQUIRED, was " + status);
    }
    if ((status == Status.DUPLICATE) != (leaseExpiresAt == null)) {
      throw new IllegalArgumentException("a lease end is given exactly unless DUPLICATE");
    }
  }

  /** Whether the caller holds the key: {@link Status#ACQUIRED}. */
  public boolean acquired() {
    return status == Status.ACQUIRED;
  }
}
