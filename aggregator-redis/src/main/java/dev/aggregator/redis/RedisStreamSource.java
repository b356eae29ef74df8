package dev.aggregator.redis;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.aggregator.Event;
import dev.aggregator.EventAggregator;
import dev.aggregator.EventJson;
import dev.aggregator.EventValidationException;
import dev.aggregator.PublishResult;
import dev.aggregator.QueueFullException;
import dev.aggregator.internal.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.AbstractTransaction;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.params.XAddParams;
import redis.clients.jedis.params.XAutoClaimParams;
import redis.clients.jedis.params.XReadGroupParams;
import redis.clients.jedis.resps.StreamEntry;

/*
 * Design of the Redis source: at-least-once from the stream, exactly once in the store.
 *
 * One thread per source runs one loop: read a batch with XREADGROUP (consumer group, this
 * consumer's name), publish its events to the aggregator as one call, wait for the future, which
 * completes only after the store committed, then XACK the batch. An entry is therefore acked only
 * once its event is durable; a crash anywhere before the ack leaves it in the group's pending list
 * (PEL) and it is delivered again, which the store turns into a DUPLICATE. Acking before the commit
 * would lose the event on a crash; that is the one order that matters.
 *
 * Pending entries come back three ways:
 *  - on start, and after any failed round, the loop first re-reads its own PEL (id 0) before new
 *    entries (">"): a consumer restarted under the same name resumes its own work;
 *  - every claim interval (half the claim timeout), XAUTOCLAIM takes entries that any consumer of
 *    the group has held longer than the claim timeout: a consumer killed with SIGKILL never comes
 *    back, and its entries move to a live one;
 *  - entries claimed that way are processed like any other batch (and counted as reclaimed).
 * The timeout must exceed the longest time a live consumer holds a batch (one commit); a too short
 * one only costs duplicates (two consumers process the same entry, the store keeps one), never loss.
 *
 * Poison entries. An entry that is not a valid event (no "event" field, not JSON, a field of the
 * wrong type, or breaking a rule of Event) would otherwise be redelivered and reclaimed forever and
 * keep the PEL from draining. It is copied to the stream <stream>:dead-letter (original id, raw
 * text, reason, consumer) and acked in the same MULTI/EXEC as its batch, after the batch's valid
 * events committed, and logged at WARN and counted. Nothing is dropped silently; an operator can
 * inspect and re-publish. Store failures are not poison: the batch is not acked, the loop waits the
 * retry delay and tries again from its PEL.
 *
 * Backpressure: a full aggregator queue makes the loop wait the retry delay and publish the same
 * batch again; entries stay pending meanwhile, so nothing is read that cannot be stored.
 */
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
 * <p>Entries are read from the field {@value RedisStreamForwarder#FIELD}, holding the event's JSON
 * as {@link RedisStreamForwarder} writes it. The source does not own the aggregator: close the
 * source first, then the aggregator.
 */
public final class RedisStreamSource implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RedisStreamSource.class);

  /** The consumer group used when none is given. */
  public static final String DEFAULT_GROUP = "aggregator";

  /** Appended to the stream key to name the dead-letter stream. */
  public static final String DEAD_LETTER_SUFFIX = ":dead-letter";

  private static final StreamEntryID ZERO = new StreamEntryID(0, 0);

  private final RedisStreamUrl url;
  private final EventAggregator aggregator;
  private final String group;
  private final String consumer;
  private final int batchSize;
  private final int blockMillis;
  private final long claimIdleMillis;
  private final long claimIntervalNanos;
  private final Duration commitTimeout;
  private final Duration retryDelay;
  private final JedisPooled redis;
  private final Thread thread;
  private final CountDownLatch stop = new CountDownLatch(1);
  private final AtomicBoolean closed = new AtomicBoolean();

  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong duplicates = new AtomicLong();
  private final AtomicLong acked = new AtomicLong();
  private final AtomicLong reclaimed = new AtomicLong();
  private final AtomicLong deadLettered = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();

  /** Tests only: runs after a batch was read, before its events are published. */
  volatile Runnable beforePublishForTest = () -> {};

  /** Tests only: runs after a batch was committed, before it is acked. */
  volatile Runnable beforeAckForTest = () -> {};

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
    private String group;
    private String consumer;
    private int batchSize = 500;
    private Duration block = Duration.ofSeconds(1);
    private Duration claimIdle = Duration.ofSeconds(30);
    private Duration commitTimeout = Duration.ofSeconds(60);
    private Duration retryDelay = Duration.ofSeconds(1);

    private Builder(String url, EventAggregator aggregator) {
      this.url = RedisStreamUrl.parse(url);
      this.aggregator = Objects.requireNonNull(aggregator, "aggregator");
      this.group = this.url.group() != null ? this.url.group() : DEFAULT_GROUP;
    }

    /**
     * The consumer group. Default: the URL's {@code group} parameter, else {@value
     * RedisStreamSource#DEFAULT_GROUP}.
     */
    public Builder group(String group) {
      this.group = nonBlank("group", group);
      return this;
    }

    /**
     * This consumer's name, unique among the group's live consumers and stable across restarts of
     * the same node (so it resumes its own pending entries). Default: host name and process id.
     */
    public Builder consumer(String consumer) {
      this.consumer = nonBlank("consumer", consumer);
      return this;
    }

    /** The most entries read and committed per round. Default 500. */
    public Builder batchSize(int entries) {
      if (entries < 1) {
        throw new IllegalArgumentException("batchSize must be at least 1, was " + entries);
      }
      this.batchSize = entries;
      return this;
    }

    /** How long one XREADGROUP waits for new entries. Default 1 second. */
    public Builder block(Duration block) {
      this.block = atLeast("block", block, Duration.ofMillis(1));
      return this;
    }

    /**
     * How long an entry may stay pending with a consumer before another one reclaims it; longer
     * than one commit takes. Default 30 seconds.
     */
    public Builder claimIdle(Duration idle) {
      this.claimIdle = atLeast("claimIdle", idle, Duration.ofMillis(10));
      return this;
    }

    /** How long to wait for a batch's commit before giving up on the round. Default 60 s. */
    public Builder commitTimeout(Duration timeout) {
      this.commitTimeout = atLeast("commitTimeout", timeout, Duration.ofMillis(1));
      return this;
    }

    /** How long to wait after a failed round or a full queue. Default 1 second. */
    public Builder retryDelay(Duration delay) {
      this.retryDelay = atLeast("retryDelay", delay, Duration.ofMillis(1));
      return this;
    }

    /**
     * Connects, creates the group if missing (reading the stream from its beginning), and starts
     * the consumer thread.
     *
     * @throws RedisTransportException naming the stream if Redis cannot be reached
     */
    public RedisStreamSource start() {
      String name = consumer != null ? consumer : hostName() + "-" + ProcessHandle.current().pid();
      RedisStreamSource source = new RedisStreamSource(this, name);
      source.thread.start();
      return source;
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

  private RedisStreamSource(Builder b, String consumer) {
    this.url = b.url;
    this.aggregator = b.aggregator;
    this.group = b.group;
    this.consumer = consumer;
    this.batchSize = b.batchSize;
    this.blockMillis = (int) Math.min(Integer.MAX_VALUE, b.block.toMillis());
    this.claimIdleMillis = b.claimIdle.toMillis();
    this.claimIntervalNanos = Math.max(1, b.claimIdle.toNanos() / 2);
    this.commitTimeout = b.commitTimeout;
    this.retryDelay = b.retryDelay;
    // The socket timeout must outlast the longest blocking read.
    this.redis = url.connect((int) Math.min(Integer.MAX_VALUE, b.block.toMillis() + 10_000));
    try {
      ensureGroup();
    } catch (RuntimeException e) {
      redis.close();
      throw e;
    }
    this.thread = new Thread(this::run, "redis-source-" + url.stream());
    this.thread.setDaemon(true);
    log.info("{} - consuming as {} in group {}", url, consumer, group);
  }

  /** Creates the group (and the stream) unless it exists; it reads from the stream's start. */
  private void ensureGroup() {
    try {
      redis.xgroupCreate(url.stream(), group, ZERO, true);
      log.info("{} - created consumer group {}", url, group);
    } catch (JedisDataException e) {
      // BUSYGROUP is the error code Redis answers when the group exists: nothing to do.
      if (!String.valueOf(e.getMessage()).startsWith("BUSYGROUP")) {
        throw new RedisTransportException(
            "cannot create consumer group " + group + " on " + url + ": " + e.getMessage(), e);
      }
    } catch (JedisException e) {
      throw new RedisTransportException("cannot reach " + url + ": " + e.getMessage(), e);
    }
  }

  private void run() {
    boolean ownPending = true;
    StreamEntryID claimCursor = ZERO;
    long nextClaim = System.nanoTime();
    while (stop.getCount() > 0) {
      try {
        List<StreamEntry> batch;
        if (System.nanoTime() - nextClaim >= 0) {
          Map.Entry<StreamEntryID, List<StreamEntry>> claimed =
              redis.xautoclaim(
                  url.stream(),
                  group,
                  consumer,
                  claimIdleMillis,
                  claimCursor,
                  XAutoClaimParams.xAutoClaimParams().count(batchSize));
          claimCursor = claimed.getKey();
          if (ZERO.equals(claimCursor)) {
            nextClaim = System.nanoTime() + claimIntervalNanos; // a full pass is done
          }
          batch = claimed.getValue();
          if (batch.isEmpty()) {
            continue;
          }
          reclaimed.addAndGet(batch.size());
          log.info("{} - {} reclaimed {} idle entries", url, consumer, batch.size());
        } else if (ownPending) {
          batch = read(ZERO, false);
          if (batch.isEmpty()) {
            ownPending = false;
            continue;
          }
        } else {
          batch = read(StreamEntryID.XREADGROUP_UNDELIVERED_ENTRY, true);
          if (batch.isEmpty()) {
            continue;
          }
        }
        handle(batch);
      } catch (StopRequested e) {
        break;
      } catch (RuntimeException e) {
        failures.incrementAndGet();
        if (e instanceof JedisDataException
            && String.valueOf(e.getMessage()).startsWith("NOGROUP")) {
          // The stream or the group was deleted under us: recreate both, keep consuming.
          try {
            ensureGroup();
          } catch (RuntimeException again) {
            e.addSuppressed(again);
          }
        }
        log.warn(
            "{} - {} round failed, retrying from its pending entries: {}",
            url,
            consumer,
            e.toString());
        ownPending = true;
        if (awaitStop(retryDelay)) {
          break;
        }
      }
    }
    log.info("{} - {} stopped", url, consumer);
  }

  private List<StreamEntry> read(StreamEntryID from, boolean block) {
    XReadGroupParams params = XReadGroupParams.xReadGroupParams().count(batchSize);
    if (block) {
      params.block(blockMillis);
    }
    List<Map.Entry<String, List<StreamEntry>>> result =
        redis.xreadGroup(group, consumer, params, Map.of(url.stream(), from));
    if (result == null || result.isEmpty()) {
      return List.of();
    }
    return result.get(0).getValue();
  }

  /**
   * Reads an entry's event JSON with core's wire form, as {@code POST /publish} reads a body.
   *
   * @throws IllegalArgumentException if the field is missing or is not JSON
   * @throws EventValidationException if a field has the wrong JSON type
   */
  private static Event readEvent(String raw) {
    if (raw == null) {
      throw new IllegalArgumentException(
          "the entry has no '" + RedisStreamForwarder.FIELD + "' field");
    }
    JsonNode node;
    try {
      node = Json.MAPPER.readTree(raw);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage());
    }
    return EventJson.read(node, 0);
  }

  /** "field: rule; ...", as for the rule violations found at publish (one entry, no index). */
  private static String reason(EventValidationException e) {
    List<String> parts = new ArrayList<>(e.violations().size());
    for (EventValidationException.Violation v : e.violations()) {
      parts.add(v.field() + ": " + v.rule());
    }
    return String.join("; ", parts);
  }

  private record DeadLetter(StreamEntryID id, String raw, String reason) {}

  /** Stores the batch's events, then acks the whole batch (and dead-letters what is invalid). */
  private void handle(List<StreamEntry> batch) {
    delivered.addAndGet(batch.size());
    List<Event> events = new ArrayList<>(batch.size());
    List<StreamEntry> sources = new ArrayList<>(batch.size());
    List<DeadLetter> dead = new ArrayList<>(0);
    for (StreamEntry entry : batch) {
      Map<String, String> fields = entry.getFields();
      String raw = fields == null ? null : fields.get(RedisStreamForwarder.FIELD);
      try {
        if (fields == null) {
          throw new IllegalArgumentException("the entry was deleted from the stream");
        }
        events.add(readEvent(raw));
        sources.add(entry);
      } catch (IllegalArgumentException e) {
        // Not an event in the wire form: no retry can fix it, so it goes to the dead letters.
        dead.add(new DeadLetter(entry.getID(), raw, e.getMessage()));
      } catch (EventValidationException e) {
        dead.add(new DeadLetter(entry.getID(), raw, reason(e)));
      }
    }
    beforePublishForTest.run();
    publishDurably(events, sources, dead);
    beforeAckForTest.run();
    StreamEntryID[] ids = batch.stream().map(StreamEntry::getID).toArray(StreamEntryID[]::new);
    try (AbstractTransaction tx = redis.multi()) {
      for (DeadLetter d : dead) {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("id", d.id().toString());
        fields.put(RedisStreamForwarder.FIELD, d.raw() == null ? "" : d.raw());
        fields.put("reason", d.reason());
        fields.put("group", group);
        fields.put("consumer", consumer);
        tx.xadd(url.stream() + DEAD_LETTER_SUFFIX, XAddParams.xAddParams(), fields);
      }
      tx.xack(url.stream(), group, ids);
      tx.exec();
    }
    acked.addAndGet(ids.length);
    for (DeadLetter d : dead) {
      deadLettered.incrementAndGet();
      log.warn(
          "{} - entry {} is not a valid event ({}); moved to {}{}",
          url,
          d.id(),
          d.reason(),
          url.stream(),
          DEAD_LETTER_SUFFIX);
    }
  }

  /** Returns once the events are committed; invalid ones move from {@code events} to dead. */
  private void publishDurably(
      List<Event> events, List<StreamEntry> sources, List<DeadLetter> dead) {
    while (!events.isEmpty()) {
      PublishResult result;
      try {
        result = aggregator.publish(events).get(commitTimeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (EventValidationException e) {
        // All-or-nothing validation: set the invalid events aside and publish the rest.
        Map<Integer, List<String>> reasons = new LinkedHashMap<>();
        for (EventValidationException.Violation v : e.violations()) {
          reasons
              .computeIfAbsent(v.index(), i -> new ArrayList<>())
              .add(v.field() + ": " + v.rule());
        }
        List<Event> keptEvents = new ArrayList<>(events.size());
        List<StreamEntry> keptSources = new ArrayList<>(events.size());
        for (int i = 0; i < events.size(); i++) {
          if (reasons.containsKey(i)) {
            StreamEntry s = sources.get(i);
            dead.add(
                new DeadLetter(
                    s.getID(),
                    s.getFields().get(RedisStreamForwarder.FIELD),
                    String.join("; ", reasons.get(i))));
          } else {
            keptEvents.add(events.get(i));
            keptSources.add(sources.get(i));
          }
        }
        events.clear();
        events.addAll(keptEvents);
        sources.clear();
        sources.addAll(keptSources);
        continue;
      } catch (QueueFullException e) {
        if (awaitStop(retryDelay)) {
          throw new StopRequested();
        }
        continue;
      } catch (ExecutionException e) {
        throw new IllegalStateException("commit failed: " + e.getCause(), e.getCause());
      } catch (TimeoutException e) {
        throw new IllegalStateException("commit did not complete within " + commitTimeout, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new StopRequested();
      }
      accepted.addAndGet(result.accepted());
      duplicates.addAndGet(result.duplicates());
      return;
    }
  }

  /** Ends the loop without acking the batch in hand: it stays pending, for this name or others. */
  private static final class StopRequested extends RuntimeException {
    private static final long serialVersionUID = 1L;

    StopRequested() {
      super(null, null, false, false);
    }
  }

  /** Waits {@code delay} or until close(); true if closing. */
  private boolean awaitStop(Duration delay) {
    try {
      return stop.await(delay.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return true;
    }
  }

  /** What the source has done so far. */
  public RedisSourceStats stats() {
    return new RedisSourceStats(
        delivered.get(),
        accepted.get(),
        duplicates.get(),
        acked.get(),
        reclaimed.get(),
        deadLettered.get(),
        failures.get(),
        thread.isAlive());
  }

  /** The stream key this source consumes. */
  public String stream() {
    return url.stream();
  }

  /** This consumer's name in the group. */
  public String consumer() {
    return consumer;
  }

  /** The consumer group. */
  public String group() {
    return group;
  }

  /**
   * Stops reading, lets the batch in hand finish (commit and ack, bounded by the commit timeout),
   * and closes the connections. Idempotent. Entries read and not acked stay pending.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    stop.countDown();
    try {
      thread.join(commitTimeout.toMillis() + blockMillis + 5_000L);
      if (thread.isAlive()) {
        thread.interrupt();
        thread.join(5_000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      redis.close();
    }
  }
}
