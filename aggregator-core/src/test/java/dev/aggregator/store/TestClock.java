package dev.aggregator.store;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A clock that stands still until a test moves it, so that retention can be tested without waiting.
 * Thread-safe. Shipped in core's test-jar for every module's tests.
 */
public final class TestClock extends Clock {
  private volatile Instant now;

  /** A clock showing {@code start}. */
  public TestClock(Instant start) {
    this.now = start;
  }

  /** Moves the clock to {@code instant}, forwards or backwards. */
  public void set(Instant instant) {
    this.now = instant;
  }

  /** Moves the clock forward by {@code duration}. */
  public synchronized void advance(Duration duration) {
    this.now = now.plus(duration);
  }

  @Override
  public Instant instant() {
    return now;
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException("a test clock has one zone, UTC");
  }
}
