package dev.aggregator.redis;

import java.time.Duration;
import java.util.Objects;

/**
 * The options of a Redis source, checked when set; shared by the builders of {@link RedisSource} so
 * every source accepts and defaults the same values.
 */
final class SourceSettings {
  /** {@code null} until set: then the URL's {@code group} parameter, else the default group. */
  String group;

  /** {@code null} until set: then {@link #defaultConsumer()}. */
  String consumer;

  int batchSize = 500;
  Duration block = Duration.ofSeconds(1);
  Duration claimIdle = Duration.ofSeconds(30);
  Duration commitTimeout = Duration.ofSeconds(60);
  Duration retryDelay = Duration.ofSeconds(1);

  void group(String group) {
    this.group = nonBlank("group", group);
  }

  void consumer(String consumer) {
    this.consumer = nonBlank("consumer", consumer);
  }

  void batchSize(int entries) {
    if (entries < 1) {
      throw new IllegalArgumentException("batchSize must be at least 1, was " + entries);
    }
    this.batchSize = entries;
  }

  void block(Duration block) {
    this.block = atLeast("block", block, Duration.ofMillis(1));
  }

  void claimIdle(Duration idle) {
    this.claimIdle = atLeast("claimIdle", idle, Duration.ofMillis(10));
  }

  void commitTimeout(Duration timeout) {
    this.commitTimeout = atLeast("commitTimeout", timeout, Duration.ofMillis(1));
  }

  void retryDelay(Duration delay) {
    this.retryDelay = atLeast("retryDelay", delay, Duration.ofMillis(1));
  }

  /** The consumer name: the one set, else host name and process id. */
  String consumerName() {
    return consumer != null ? consumer : defaultConsumer();
  }

  /** The longest blocking read, in milliseconds. */
  int blockMillis() {
    return (int) Math.min(Integer.MAX_VALUE, block.toMillis());
  }

  /** The socket timeout of the source's connections: it must outlast the longest blocking read. */
  int socketTimeoutMillis() {
    return (int) Math.min(Integer.MAX_VALUE, block.toMillis() + 10_000);
  }

  private static String defaultConsumer() {
    return hostName() + "-" + ProcessHandle.current().pid();
  }

  private static String hostName() {
    String env = System.getenv("HOSTNAME"); // set in containers; bash does not export it
    if (env != null && !env.isBlank()) {
      return env;
    }
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      return "aggregator";
    }
  }

  private static String nonBlank(String what, String value) {
    Objects.requireNonNull(value, what);
    if (value.isBlank()) {
      throw new IllegalArgumentException(what + " must not be blank");
    }
    return value;
  }

  private static Duration atLeast(String what, Duration value, Duration min) {
    Objects.requireNonNull(value, what);
    if (value.compareTo(min) < 0) {
      throw new IllegalArgumentException(what + " must be at least " + min + ", was " + value);
    }
    return value;
  }
}
