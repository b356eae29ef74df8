package dev.aggregator.internal;

import java.time.Instant;

/**
 * Instants as nanoseconds since the epoch, the form the stores compare receive times in. Saturates
 * at the ends of the long range (the years 1677 and 2262) instead of overflowing.
 */
public final class EpochNanos {
  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  private EpochNanos() {}

  /** {@code t} in nanoseconds since the epoch, clamped to the long range. */
  public static long of(Instant t) {
    try {
      return Math.addExact(Math.multiplyExact(t.getEpochSecond(), NANOS_PER_SECOND), t.getNano());
    } catch (ArithmeticException e) {
      return t.getEpochSecond() < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
  }

  /** The instant {@code nanos} nanoseconds after the epoch. */
  public static Instant toInstant(long nanos) {
    return Instant.ofEpochSecond(
        Math.floorDiv(nanos, NANOS_PER_SECOND), Math.floorMod(nanos, NANOS_PER_SECOND));
  }
}
