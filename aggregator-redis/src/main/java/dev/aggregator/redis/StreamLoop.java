package dev.aggregator.redis;

import dev.aggregator.EventAggregator;
import java.util.List;
import java.util.Map;
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
 * A stream read through a consumer group: entries are read with XREADGROUP under this consumer's
 * name and released with XACK; until then they sit in the group's pending list (PEL).
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
 * Dead letters are XADDed to <stream>:dead-letter in the MULTI/EXEC of the batch's XACK, with every
 * field of the original entry, so an operator can fix and re-add it as it was.
 */
/** The loop of a source on a Redis stream; see the comment above. */
final class StreamLoop extends ConsumerLoop<StreamEntry> {
  private static final Logger log = LoggerFactory.getLogger(StreamLoop.class);

  private static final StreamEntryID ZERO = new StreamEntryID(0, 0);

  private final RedisStreamUrl url;
  private final String group;
  private final long claimIdleMillis;
  private final long claimIntervalNanos;

  private boolean ownPending = true;
  private StreamEntryID claimCursor = ZERO;
  private long nextClaim = System.nanoTime();

  /**
   * Creates the group if missing (reading the stream from its beginning); takes over {@code redis}.
   *
   * @throws RedisTransportException naming the stream if Redis cannot be reached
   */
  StreamLoop(
      RedisStreamUrl url,
      String group,
      EventAggregator aggregator,
      SourceSettings settings,
      JedisPooled redis) {
    super(url.toString(), "redis-source-" + url.stream(), aggregator, settings, redis);
    this.url = url;
    this.group = group;
    this.claimIdleMillis = settings.claimIdle.toMillis();
    this.claimIntervalNanos = Math.max(1, settings.claimIdle.toNanos() / 2);
    ensureGroup();
    log.info("{} - consuming as {} in group {}", url, consumer, group);
  }

  String group() {
    return group;
  }

  @Override
  String deadLetterKey() {
    return url.stream() + RedisSource.DEAD_LETTER_SUFFIX;
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

  @Override
  List<StreamEntry> next() {
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
      List<StreamEntry> batch = claimed.getValue();
      if (!batch.isEmpty()) {
        reclaimed.addAndGet(batch.size());
        log.info("{} - {} reclaimed {} idle entries", url, consumer, batch.size());
      }
      return batch;
    }
    if (ownPending) {
      List<StreamEntry> batch = read(ZERO, false);
      if (batch.isEmpty()) {
        ownPending = false;
      }
      return batch;
    }
    return read(StreamEntryID.XREADGROUP_UNDELIVERED_ENTRY, true);
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

  @Override
  RedisEvents.Parsed parse(StreamEntry entry) {
    return RedisEvents.fromEntry(entry.getFields());
  }

  @Override
  void settle(List<StreamEntry> batch, List<DeadLetter<StreamEntry>> dead) {
    StreamEntryID[] ids = batch.stream().map(StreamEntry::getID).toArray(StreamEntryID[]::new);
    try (AbstractTransaction tx = redis.multi()) {
      for (DeadLetter<StreamEntry> d : dead) {
        Map<String, String> fields =
            RedisEvents.deadLetterEntry(
                d.unit().getFields(), d.unit().getID().toString(), d.reason(), group, consumer);
        tx.xadd(deadLetterKey(), XAddParams.xAddParams(), fields);
      }
      tx.xack(url.stream(), group, ids);
      tx.exec();
    }
  }

  @Override
  String describe(StreamEntry entry) {
    return "entry " + entry.getID();
  }

  @Override
  void afterFailure(RuntimeException e) {
    ownPending = true;
    if (e instanceof JedisDataException && String.valueOf(e.getMessage()).startsWith("NOGROUP")) {
      // The stream or the group was deleted under us: recreate both, keep consuming.
      ensureGroup();
    }
  }
}
