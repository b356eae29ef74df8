package dev.aggregator.redis;

import dev.aggregator.EventAggregator;
import java.time.Duration;
import java.util.Objects;
import redis.clients.jedis.JedisPooled;

/**
 * Feeds an {@link EventAggregator} from a Redis Stream through a consumer group; several aggregator
 * processes (each its own consumer name) share the work. Entries are acknowledged only after their
 * events are durably committed, entries of a consumer that died are reclaimed after an idle
 * timeout, and entries that are not valid events go to a dead-letter stream.
 *
 * <pre>{@code
 * try (RedisStreamSource source =
 *     RedisStreamSource.builder("redis://127.0.0.1:6379/events", aggregator)
 *         .claimIdle(Duration.ofSeconds(30))
 *         .start()) {
 *   ...
 * }
 * }</pre>
 *
 * <p>An entry holds one event, in one of two forms: the field {@value RedisStreamForwarder#FIELD}
 * holds the event's JSON, as {@link RedisStreamForwarder} writes it; or the entry's fields are the
 * event's, {@code XADD events * topic t event_id e timestamp 2025-10-23T10:00:00Z source s payload
 * '{"k":1}'} ({@code timestamp}, {@code source} and {@code payload} optional, empty meaning absent,
 * other fields ignored). An entry that is neither is copied, with all its fields and a {@code
 * reason}, {@code id}, {@code group} and {@code consumer}, to the stream {@code <stream>}{@value
 * #DEAD_LETTER_SUFFIX}, and acknowledged.
 *
 * <p>For a key that may hold a list instead, use {@link RedisSource}, which reads either. The
 * source does not own the aggregator: close the source first, then the aggregator.
 */
public final class RedisStreamSource implements AutoCloseable {
  /** The consumer group used when none is given. */
  public static final String DEFAULT_GROUP = RedisSource.DEFAULT_GROUP;

  /** Appended to the stream key to name the dead-letter stream. */
  public static final String DEAD_LETTER_SUFFIX = RedisSource.DEAD_LETTER_SUFFIX;

  private final RedisStreamUrl url;
  private final StreamLoop loop;

  /**
   * A builder for a source reading {@code url} ({@code redis://[user:password@]host:port/stream
   * [?group=name]}) into {@code aggregator}.
   *
   * @throws IllegalArgumentException if the URL is malformed
   */
  public static Builder builder(String url, EventAggregator aggregator) {
    return new Builder(url, aggregator);
  }

  /** Options of a {@link RedisStreamSource}. */
  public static final class Builder {
    private final RedisStreamUrl url;
    private final EventAggregator aggregator;
    private final SourceSettings settings = new SourceSettings();

    private Builder(String url, EventAggregator aggregator) {
      this.url = RedisStreamUrl.parse(url);
      this.aggregator = Objects.requireNonNull(aggregator, "aggregator");
    }

    /**
     * The consumer group. Default: the URL's {@code group} parameter, else {@value
     * RedisStreamSource#DEFAULT_GROUP}.
     */
    public Builder group(String group) {
      settings.group(group);
      return this;
    }

    /**
     * This consumer's name, unique among the group's live consumers and stable across restarts of
     * the same node (so it resumes its own pending entries). Default: host name and process id.
     */
    public Builder consumer(String consumer) {
      settings.consumer(consumer);
      return this;
    }

    /** The most entries read and committed per round. Default 500. */
    public Builder batchSize(int entries) {
      settings.batchSize(entries);
      return this;
    }

    /** How long one XREADGROUP waits for new entries. Default 1 second. */
    public Builder block(Duration block) {
      settings.block(block);
      return this;
    }

    /**
     * How long an entry may stay pending with a consumer before another one reclaims it; longer
     * than one commit takes. Default 30 seconds.
     */
    public Builder claimIdle(Duration idle) {
      settings.claimIdle(idle);
      return this;
    }

    /** How long to wait for a batch's commit before giving up on the round. Default 60 s. */
    public Builder commitTimeout(Duration timeout) {
      settings.commitTimeout(timeout);
      return this;
    }

    /** How long to wait after a failed round or a full queue. Default 1 second. */
    public Builder retryDelay(Duration delay) {
      settings.retryDelay(delay);
      return this;
    }

    /**
     * Connects, creates the group if missing (reading the stream from its beginning), and starts
     * the consumer thread.
     *
     * @throws IllegalArgumentException if the key holds something else than a stream
     * @throws RedisTransportException naming the stream if Redis cannot be reached
     */
    public RedisStreamSource start() {
      String group =
          settings.group != null
              ? settings.group
              : url.group() != null ? url.group() : DEFAULT_GROUP;
      JedisPooled redis = url.connect(settings.socketTimeoutMillis());
      StreamLoop loop;
      try {
        if (RedisSource.typeOf(url, redis) != RedisSource.Type.STREAM) {
          throw new IllegalArgumentException(
              url + " is a list: RedisSource reads lists as well as streams");
        }
        loop = new StreamLoop(url, group, aggregator, settings, redis);
      } catch (RuntimeException e) {
        redis.close();
        throw e;
      }
      loop.start();
      return new RedisStreamSource(url, loop);
    }
  }

  private RedisStreamSource(RedisStreamUrl url, StreamLoop loop) {
    this.url = url;
    this.loop = loop;
  }

  /** Tests only: the loop, for its hooks. */
  ConsumerLoop<?> loop() {
    return loop;
  }

  /** What the source has done so far. */
  public RedisSourceStats stats() {
    return loop.stats();
  }

  /** The stream key this source consumes. */
  public String stream() {
    return url.stream();
  }

  /** This consumer's name in the group. */
  public String consumer() {
    return loop.consumer;
  }

  /** The consumer group. */
  public String group() {
    return loop.group();
  }

  /**
   * Stops reading, lets the batch in hand finish (commit and ack, bounded by the commit timeout),
   * and closes the connections. Idempotent. Entries read and not acked stay pending.
   */
  @Override
  public void close() {
    loop.close();
  }
}
