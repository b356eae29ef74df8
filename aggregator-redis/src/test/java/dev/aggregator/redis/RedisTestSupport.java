package dev.aggregator.redis;

import dev.aggregator.testing.Await;
import java.time.Duration;
import java.util.UUID;
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
   * Waits until {@code condition} holds ({@link Await}), or fails after {@code timeout} saying what
   * was awaited and {@code state} (a supplier is asked at that moment).
   */
  static void await(String what, Duration timeout, BooleanSupplier condition, Object state) {
    Await.until(what, timeout, condition::getAsBoolean, () -> stateOf(state));
  }

  private static String stateOf(Object state) {
    return state instanceof java.util.function.Supplier<?> s
        ? String.valueOf(s.get())
        : String.valueOf(state);
  }
}
