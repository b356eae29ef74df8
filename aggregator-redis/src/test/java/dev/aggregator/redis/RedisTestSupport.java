package dev.aggregator.redis;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import redis.clients.jedis.JedisPooled;

/**
 * The Redis the tests use ({@code AGGREGATOR_TEST_REDIS}, default 127.0.0.1:6379), fresh key names
 * and waiting on a condition.
 */
final class RedisTestSupport {
  static final String HOST_PORT =
      System.getenv().getOrDefault("AGGREGATOR_TEST_REDIS", "127.0.0.1:6379");

  private RedisTestSupport() {}

  /** A key (stream or list) no other test or run uses. */
  static String freshStream() {
    return "agg-test-" + UUID.randomUUID();
  }

  static String url(String stream) {
    return "redis://" + HOST_PORT + "/" + stream;
  }

  static JedisPooled client() {
    return RedisStreamUrl.parse(url("x")).connect(10_000);
  }

  /**
   * Waits until {@code condition} holds, polling every few milliseconds, or fails after {@code
   * timeout} saying what was awaited and {@code state}.
   */
  static void await(String what, Duration timeout, BooleanSupplier condition, Object state) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      assertTrue(
          System.nanoTime() - deadline < 0,
          () ->
              "timed out after " + timeout + " waiting for " + what + "; state: " + stateOf(state));
      LockSupport.parkNanos(5_000_000); // poll pacing, not synchronization
    }
  }

  private static String stateOf(Object state) {
    return state instanceof java.util.function.Supplier<?> s
        ? String.valueOf(s.get())
        : String.valueOf(state);
  }
}
