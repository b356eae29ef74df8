package dev.aggregator.store;

import java.time.Clock;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * How long a {@link DedupStore} keeps events, and the clock it tells the time by. An event expires
 * once {@code maxAge} has passed since it was received, or once {@code maxEvents} newer events are
 * stored; its key leaves the dedup index with it, so a later publish of the same key is accepted
 * again. See {@link DedupStore#retain} for the exact contract.
 *
 * @param maxAge how long after its receive time an event is kept; {@code null} for no age limit
 * @param maxEvents the most events kept, the oldest beyond it are removed; {@link Long#MAX_VALUE}
 *     for no limit
 * @param clock where the store reads the current time; the aggregator passes its own clock, the one
 *     its receive times come from
 */
public record Retention(Duration maxAge, long maxEvents, Clock clock) {

  /**
   * Checks the values.
   *
   * @throws IllegalArgumentException if {@code maxAge} is not positive or {@code maxEvents} is
   *     below 1
   */
  public Retention {
    Objects.requireNonNull(clock, "clock");
    if (maxAge != null && (maxAge.isZero() || maxAge.isNegative())) {
      throw new IllegalArgumentException("maxAge must be positive, was " + maxAge);
    }
    if (maxEvents < 1) {
      throw new IllegalArgumentException("maxEvents must be at least 1, was " + maxEvents);
    }
  }

  /** Whether events expire by age. */
  public boolean limitsAge() {
    return maxAge != null;
  }

  /** Whether the number of stored events is limited. */
  public boolean limitsCount() {
    return maxEvents != Long.MAX_VALUE;
  }

  /**
   * The latest receive time that has expired by age at {@code now}: events received at or before it
   * are gone. {@link Instant#MIN} without an age limit.
   */
  public Instant expiredUpTo(Instant now) {
    if (maxAge == null) {
      return Instant.MIN;
    }
    try {
      return now.minus(maxAge);
    } catch (DateTimeException | ArithmeticException e) {
      return Instant.MIN; // an age longer than the time scale: nothing expires
    }
  }

  /** When an event received at {@code receivedAt} expires by age; {@link Instant#MAX} if never. */
  public Instant expiresAt(Instant receivedAt) {
    if (maxAge == null) {
      return Instant.MAX;
    }
    try {
      return receivedAt.plus(maxAge);
    } catch (DateTimeException | ArithmeticException e) {
      return Instant.MAX;
    }
  }
}
