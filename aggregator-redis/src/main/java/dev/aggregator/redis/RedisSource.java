package dev.aggregator.redis;

import dev.aggregator.EventAggregator;
import java.time.Duration;
import java.util.Objects;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.exceptions.JedisException;

/**
 * Feeds an {@link EventAggregator} from a Redis key that is a stream or a list, whichever it holds;
 * several aggregator processes, each with its own consumer name, share the work. Whatever the type,
 * a unit (stream entry, list item) is released only after its events are durably committed, so a
 * crash loses nothing and a redelivery is stored as a duplicate; units that are not valid events go
 * to the dead letters, {@code <key>}{@value #DEAD_LETTER_SUFFIX}, with the reason.
 *
 * <pre>{@code
 * try (RedisSource source =
 *     RedisSource.builder("redis://127.0.0.1:6379/events", aggregator)
 *         .consumer("node-1")
 *         .start()) {
 *   source.type(); // STREAM or LIST, as the key holds
 *   ...
 * }
 * }</pre>
 *
 * <p>The URL is {@code redis://[user:password@]host[:port]/key[?type=stream|list][&group=name]}
 * ({@code rediss://} for TLS). The type is the key's own; {@code type} says what to read while the
 * key does not exist yet (default: a stream, created with the group), and is refused if the key
 * holds the other type. A key of any other type is refused.
 *
 * <p><b>A stream</b> is read through a consumer group: {@code group} (default {@value
 * #DEFAULT_GROUP}), XACK after the commit, XAUTOCLAIM of entries idle longer than the claim
 * timeout; an entry holds one event, as JSON in the field {@value RedisStreamForwarder#FIELD} or as
 * the flat fields {@code topic}, {@code event_id}, {@code timestamp}, {@code source}, {@code
 * payload}. Dead letters are entries of the stream {@code <key>:dead-letter}: every original field,
 * plus {@code reason}, {@code id}, {@code group}, {@code consumer}.
 *
 * <p><b>A list</b> is read as a reliable queue, as publishers fill it with {@code RPUSH key json}:
 * an item is the JSON of one event or an array of events' JSON, all or nothing (one invalid event
 * sends the whole item to the dead letters). Each item is moved atomically (LMOVE/BLMOVE) from the
 * head of the list to this consumer's processing list {@code <key>:processing:<consumer>} (see
 * {@link #processingList()}), and removed from it only after its events are committed. On start a
 * consumer first re-drives its processing list, so a restart under the same name resumes its own
 * items. Every consumer renews a lease {@code <key>:lease:<consumer>} (expiring after the claim
 * timeout) and enters its name in the set {@code <key>:consumers}; the items of a consumer whose
 * lease has lapsed (killed and never restarted under its name) are moved to a live consumer after
 * the claim timeout. Dead letters are items of the list {@code <key>:dead-letter}, each a JSON
 * object {@code {"item": "<the item as it was>", "reason": "...", "consumer": "..."}} ({@code
 * item_base64} instead of {@code item} if the item is not UTF-8). Redis 6.2 or later.
 *
 * <p>The source does not own the aggregator: close the source first, then the aggregator.
 */
public final class RedisSource implements AutoCloseable {
  /** The consumer group of a stream when none is given. */
  public static final String DEFAULT_GROUP = "aggregator";

  /** Appended to the key to name the dead letters: a stream for a stream, a list for a list. */
  public static final String DEAD_LETTER_SUFFIX = ":dead-letter";

  /** What a source reads. */
  public enum Type {
    /** A Redis stream, read through a consumer group. */
    STREAM,
    /** A Redis list, read as a reliable queue. */
    LIST
  }

  private final Type type;
  private final RedisStreamUrl url;
  private final ConsumerLoop<?> loop;
  private final String group;

  /**
   * A builder for a source reading {@code url} into {@code aggregator}.
   *
   * @param url {@code redis://[user:password@]host[:port]/key[?type=stream|list][&group=name]}
   * @throws IllegalArgumentException if the URL is malformed
   */
  public static Builder builder(String url, EventAggregator aggregator) {
    return new Builder(url, aggregator);
  }

  /**
   * The processing list that the consumer {@code consumer} of the list {@code list} holds its items
   * in: {@code <list>:processing:<consumer>}.
   */
  public static String processingList(String list, String consumer) {
    return ListLoop.processingList(list, consumer);
  }

  /** Options of a {@link RedisSource}. */
  public static final class Builder {
    private final RedisStreamUrl url;
    private final EventAggregator aggregator;
    private final SourceSettings settings = new SourceSettings();

    private Builder(String url, EventAggregator aggregator) {
      this.url = RedisStreamUrl.parse(url);
      this.aggregator = Objects.requireNonNull(aggregator, "aggregator");
    }

    /**
     * A stream's consumer group. Default: the URL's {@code group} parameter, else {@value
     * RedisSource#DEFAULT_GROUP}. A list has none: setting one for a list fails at {@link
     * #start()}.
     */
    public Builder group(String group) {
      settings.group(group);
      return this;
    }

    /**
     * This consumer's name, unique among the live consumers of the key and stable across restarts
     * of the same node, so that it resumes its own entries or items at once rather than after the
     * claim timeout. Default: host name and process id.
     */
    public Builder consumer(String consumer) {
      settings.consumer(consumer);
      return this;
    }

    /** The most entries or items read and committed per round. Default 500. */
    public Builder batchSize(int units) {
      settings.batchSize(units);
      return this;
    }

    /** How long one read (XREADGROUP, BLMOVE) waits for new data. Default 1 second. */
    public Builder block(Duration block) {
      settings.block(block);
      return this;
    }

    /**
     * How long a consumer may hold entries (stream) or fail to renew its lease (list) before
     * another consumer takes its work over; longer than one commit takes. Default 30 seconds.
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
     * Connects, finds what the key holds, prepares it (a stream's group is created if missing,
     * reading from the stream's start; a list consumer takes its lease), and starts the consumer
     * thread.
     *
     * @throws IllegalArgumentException if the key holds neither a stream nor a list, holds another
     *     type than the URL's {@code type}, or is a list and a group was given
     * @throws RedisTransportException naming the key if Redis cannot be reached
     */
    public RedisSource start() {
      JedisPooled redis = url.connect(settings.socketTimeoutMillis());
      try {
        Type type = typeOf(url, redis);
        String group = settings.group != null ? settings.group : url.group();
        ConsumerLoop<?> loop;
        if (type == Type.STREAM) {
          group = group != null ? group : DEFAULT_GROUP;
          loop = new StreamLoop(url, group, aggregator, settings, redis);
        } else {
          if (group != null) {
            throw new IllegalArgumentException(
                url + " is a list: a group applies to streams only, was '" + group + "'");
          }
          loop = new ListLoop(url, aggregator, settings, redis);
        }
        loop.start();
        return new RedisSource(type, url, loop, group);
      } catch (RuntimeException e) {
        redis.close();
        throw e;
      }
    }
  }

  /**
   * What the source at {@code url} reads: the key's type, else the URL's {@code type}, else a
   * stream.
   */
  static Type typeOf(RedisStreamUrl url, JedisPooled redis) {
    String actual;
    try {
      actual = redis.type(url.stream());
    } catch (JedisException e) {
      throw new RedisTransportException("cannot reach " + url + ": " + e.getMessage(), e);
    }
    Type found =
        switch (actual) {
          case "stream" -> Type.STREAM;
          case "list" -> Type.LIST;
          case "none" -> null;
          default ->
              throw new IllegalArgumentException(
                  url + " holds a " + actual + ": a source reads a stream or a list");
        };
    if (found == null) {
      return url.type() != null ? url.type() : Type.STREAM;
    }
    if (url.type() != null && url.type() != found) {
      throw new IllegalArgumentException(
          url + " holds a " + actual + ", not the " + name(url.type()) + " its type= names");
    }
    return found;
  }

  private static String name(Type type) {
    return type == Type.STREAM ? "stream" : "list";
  }

  private RedisSource(Type type, RedisStreamUrl url, ConsumerLoop<?> loop, String group) {
    this.type = type;
    this.url = url;
    this.loop = loop;
    this.group = group;
  }

  /** Tests only: the loop, for its hooks. */
  ConsumerLoop<?> loop() {
    return loop;
  }

  /** Whether the key is read as a stream or as a list. */
  public Type type() {
    return type;
  }

  /** The key this source consumes, the URL's path. */
  public String key() {
    return url.stream();
  }

  /** This consumer's name. */
  public String consumer() {
    return loop.consumer;
  }

  /** A stream's consumer group; {@code null} for a list. */
  public String group() {
    return group;
  }

  /**
   * A list's processing list, {@code <key>:processing:<consumer>}, where this consumer's items wait
   * for their commit; {@code null} for a stream.
   */
  public String processingList() {
    return loop instanceof ListLoop l ? l.processingList() : null;
  }

  /** Where units that are not valid events go: {@code <key>:dead-letter}, of the key's type. */
  public String deadLetterKey() {
    return loop.deadLetterKey();
  }

  /**
   * What the source has done so far. For a list, {@code delivered} and {@code acked} count items
   * (an item may hold several events), and {@code reclaimed} the items re-driven from this
   * consumer's processing list at start or taken from a consumer whose lease lapsed.
   */
  public RedisSourceStats stats() {
    return loop.stats();
  }

  /**
   * What is consumed and how, for a start-up line: {@code stream redis://host:6379/events (group
   * aggregator, consumer node-1)} or {@code list redis://host:6379/events (consumer node-1,
   * processing list events:processing:node-1)}.
   */
  @Override
  public String toString() {
    return type == Type.STREAM
        ? "stream " + url + " (group " + group + ", consumer " + consumer() + ")"
        : "list "
            + url
            + " (consumer "
            + consumer()
            + ", processing list "
            + processingList()
            + ")";
  }

  /**
   * Stops reading, lets the batch in hand finish (commit and release, bounded by the commit
   * timeout), and closes the connections. Idempotent. What was read and not released stays with
   * this consumer in Redis, for its next start or for another consumer after the claim timeout.
   */
  @Override
  public void close() {
    loop.close();
  }
}
