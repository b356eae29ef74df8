package dev.aggregator.redis;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.aggregator.Event;
import dev.aggregator.EventJson;
import dev.aggregator.EventRules;
import dev.aggregator.EventValidationException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import redis.clients.jedis.AbstractTransaction;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.Response;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.params.XAddParams;

/**
 * The publisher side of the Redis transport: appends events to a stream, one entry per event with
 * the field {@value #FIELD} holding the event's JSON, for {@link RedisSource} consumers to store. A
 * server started with {@code --forward redis://host:port/stream} answers {@code POST /publish} with
 * this (202 and the stream ids).
 *
 * <pre>{@code
 * try (RedisStreamForwarder forwarder = RedisStreamForwarder.open("redis://127.0.0.1:6379/events")) {
 *   List<String> ids = forwarder.forward(List.of(Event.of("orders", "order-1")));
 * }
 * }</pre>
 *
 * <p>Thread-safe. Events are checked with the aggregator's rules first, so an invalid event is
 * rejected to its publisher instead of reaching the stream. The stream is never trimmed here:
 * trimming could drop entries no consumer has read yet.
 */
public final class RedisStreamForwarder implements AutoCloseable {
  /** The entry field that holds the event JSON. */
  public static final String FIELD = "event";

  private final RedisStreamUrl url;
  private final JedisPooled redis;
  private final int maxPayloadBytes;
  private final AtomicBoolean closed = new AtomicBoolean();

  private RedisStreamForwarder(RedisStreamUrl url, int maxPayloadBytes) {
    this.url = url;
    this.redis = url.connect(10_000);
    this.maxPayloadBytes = maxPayloadBytes;
    try {
      redis.ping(); // fail at open, not at the first publish, if Redis is unreachable
    } catch (JedisException e) {
      redis.close();
      throw new RedisTransportException("cannot reach " + url + ": " + e.getMessage(), e);
    }
  }

  /**
   * Connects to the stream at {@code url} ({@code redis://[user:password@]host:port/stream}),
   * checking events with the default payload limit (1 MiB).
   *
   * @throws IllegalArgumentException if the URL is malformed
   * @throws RedisTransportException naming the stream if Redis cannot be reached
   */
  public static RedisStreamForwarder open(String url) {
    return open(url, EventRules.DEFAULT_MAX_PAYLOAD_BYTES);
  }

  /** Like {@link #open(String)}, with another largest payload in bytes of JSON. */
  public static RedisStreamForwarder open(String url, int maxPayloadBytes) {
    if (maxPayloadBytes < 1) {
      throw new IllegalArgumentException(
          "maxPayloadBytes must be at least 1, was " + maxPayloadBytes);
    }
    RedisStreamUrl parsed = RedisStreamUrl.parse(url);
    if (parsed.type() == RedisSource.Type.LIST) {
      throw new IllegalArgumentException(parsed + " has type=list: the forwarder writes streams");
    }
    return new RedisStreamForwarder(parsed, maxPayloadBytes);
  }

  /**
   * Appends the events, all or none (one MULTI/EXEC), in order.
   *
   * @return the stream id of each event's entry, in the order of {@code events}
   * @throws EventValidationException naming the index, field and rule of every violation; nothing
   *     was appended
   * @throws RedisTransportException naming the stream if Redis failed; nothing or everything may
   *     have been appended (a lost reply), which a retry makes harmless: the consumers deduplicate
   */
  public List<String> forward(List<Event> events) {
    if (closed.get()) {
      throw new IllegalStateException("forwarder to " + url + " is closed");
    }
    EventRules.check(events, maxPayloadBytes); // the consumers' aggregator applies the same rules
    List<Response<StreamEntryID>> responses = new ArrayList<>(events.size());
    try (AbstractTransaction tx = redis.multi()) {
      for (Event e : events) {
        responses.add(tx.xadd(url.stream(), XAddParams.xAddParams(), Map.of(FIELD, json(e))));
      }
      tx.exec();
    } catch (JedisException e) {
      throw new RedisTransportException(
          "cannot append " + events.size() + " events to " + url + ": " + e.getMessage(), e);
    }
    List<String> ids = new ArrayList<>(responses.size());
    for (Response<StreamEntryID> r : responses) {
      ids.add(r.get().toString());
    }
    return ids;
  }

  private static String json(Event event) {
    try {
      return RedisEvents.MAPPER.writeValueAsString(EventJson.write(event));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e); // a tree of JSON nodes always writes
    }
  }

  /** The stream key. */
  public String stream() {
    return url.stream();
  }

  /** Closes the connections. Idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      redis.close();
    }
  }
}
