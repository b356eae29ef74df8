package dev.aggregator.http;

import java.security.SecureRandom;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Request ids for requests that bring none: UUID-shaped (36 characters), unique within the process
 * by a counter and across processes by 64 random bits drawn once. {@link UUID#randomUUID()} per
 * request would draw from a shared SecureRandom on every request's path.
 */
final class RequestIds {
  private static final long PROCESS = new SecureRandom().nextLong();
  private static final AtomicLong COUNTER = new AtomicLong();

  private RequestIds() {}

  static String next() {
    return new UUID(PROCESS, COUNTER.incrementAndGet()).toString();
  }
}
