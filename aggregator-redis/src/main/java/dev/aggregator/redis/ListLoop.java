package dev.aggregator.redis;

import dev.aggregator.EventAggregator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.AbstractTransaction;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.args.ListDirection;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.params.SetParams;

/*
 * A list read as a reliable queue: publishers RPUSH items (one event's JSON, or an array of them),
 * consumers take them from the head.
 *
 * Taking an item moves it, atomically (LMOVE, or BLMOVE when the list is empty), from the list to
 * this consumer's processing list <list>:processing:<consumer>; it leaves that list (LREM) only
 * after its events are committed, in the MULTI/EXEC that also pushes the rejected items to the
 * dead-letter list <list>:dead-letter. An item is therefore always in the list, in one processing
 * list, or done; a crash anywhere leaves it in the processing list, and:
 *  - on start, and after any failed round, the loop first re-drives its own processing list
 *    (LRANGE from its head) before it takes new items: a consumer restarted under the same name
 *    resumes its own work;
 *  - a consumer that never comes back (killed, and restarted under another name, such as the
 *    default host-pid one) is found through the set <list>:consumers, where every consumer enters
 *    its name, and its lease <list>:lease:<consumer>, a key that it renews every third of the
 *    claim timeout and that expires after the claim timeout. Every half claim timeout, each
 *    consumer moves the items of the processing lists whose lease has expired to its own, and
 *    processes them (counted as reclaimed); a consumer whose processing list is empty and whose
 *    lease is gone leaves the set. As for streams, the timeout must exceed one commit; a too short
 *    one only costs duplicates (a live consumer and a claimer process the same item), never loss.
 * Several consumers share one list: each item is moved to exactly one processing list.
 *
 * Why LREM by value and not LTRIM: the batch is the head of the processing list only as long as no
 * claimer took items from it. Removing by value is right whichever copy it removes: items with the
 * same bytes hold the same events, and those are committed. The batch is at the head, so each LREM
 * stops early.
 *
 * Items are bytes throughout, not decoded strings: an item that is not UTF-8 must still be removed
 * by its exact value (and is dead-lettered as base64).
 */
/** The loop of a source on a Redis list; see the comment above. */
final class ListLoop extends ConsumerLoop<byte[]> {
  private static final Logger log = LoggerFactory.getLogger(ListLoop.class);

  /** Appended to the list key, then the consumer name, to name a processing list. */
  static final String PROCESSING_INFIX = ":processing:";

  /** Appended to the list key to name the set of the consumers that have a processing list. */
  static final String CONSUMERS_SUFFIX = ":consumers";

  /** Appended to the list key, then the consumer name, to name a consumer's lease. */
  static final String LEASE_INFIX = ":lease:";

  /** Moves up to ARGV[1] items from the head of KEYS[1] to the tail of KEYS[2]; returns them. */
  private static final byte[] MOVE =
      bytes(
          "local moved = {}\n"
              + "for i = 1, tonumber(ARGV[1]) do\n"
              + "  local v = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')\n"
              + "  if not v then break end\n"
              + "  moved[#moved + 1] = v\n"
              + "end\n"
              + "return moved\n");

  /**
   * Removes ARGV[1] from the set KEYS[1] if its lease KEYS[2] is gone and its processing list
   * KEYS[3] is empty; in one script, so that a consumer renewing its lease meanwhile stays in.
   */
  private static final byte[] FORGET =
      bytes(
          "if redis.call('EXISTS', KEYS[2]) == 0 and redis.call('LLEN', KEYS[3]) == 0 then\n"
              + "  return redis.call('SREM', KEYS[1], ARGV[1])\n"
              + "end\n"
              + "return 0\n");

  private final RedisStreamUrl url;
  private final String list;
  private final byte[] listKey;
  private final String processing;
  private final byte[] processingKey;
  private final byte[] deadLetterKey;
  private final String consumers;
  private final long claimIdleMillis;
  private final long claimIntervalNanos;
  private final long renewIntervalNanos;

  private boolean redrive = true;
  private long nextClaim;
  private long nextRenew;

  /** The processing list of {@code consumer} on {@code list}. */
  static String processingList(String list, String consumer) {
    return list + PROCESSING_INFIX + consumer;
  }

  /**
   * Enters this consumer in the set of consumers and takes its lease; takes over {@code redis}.
   *
   * @throws RedisTransportException naming the list if Redis cannot be reached
   */
  ListLoop(
      RedisStreamUrl url, EventAggregator aggregator, SourceSettings settings, JedisPooled redis) {
    super(url.toString(), "redis-source-" + url.stream(), aggregator, settings, redis);
    this.url = url;
    this.list = url.stream();
    this.listKey = bytes(list);
    this.processing = processingList(list, consumer);
    this.processingKey = bytes(processing);
    this.deadLetterKey = bytes(list + RedisSource.DEAD_LETTER_SUFFIX);
    this.consumers = list + CONSUMERS_SUFFIX;
    this.claimIdleMillis = settings.claimIdle.toMillis();
    this.claimIntervalNanos = Math.max(1, settings.claimIdle.toNanos() / 2);
    this.renewIntervalNanos = Math.max(1, settings.claimIdle.toNanos() / 3);
    long left;
    try {
      renewLease();
      left = redis.llen(processingKey);
    } catch (JedisException e) {
      throw new RedisTransportException("cannot reach " + url + ": " + e.getMessage(), e);
    }
    this.nextClaim = System.nanoTime(); // a first claim pass once its own list is re-driven
    if (left > 0) {
      reclaimed.addAndGet(left);
      log.info("{} - {} re-drives {} items left in {}", url, consumer, left, processing);
    }
    log.info("{} - consuming the list as {} through {}", url, consumer, processing);
  }

  String processingList() {
    return processing;
  }

  @Override
  String deadLetterKey() {
    return list + RedisSource.DEAD_LETTER_SUFFIX;
  }

  private void renewLease() {
    try (AbstractTransaction tx = redis.multi()) {
      tx.sadd(consumers, consumer);
      tx.set(lease(consumer), "1", SetParams.setParams().px(claimIdleMillis));
      tx.exec();
    }
    nextRenew = System.nanoTime() + renewIntervalNanos;
  }

  private String lease(String name) {
    return list + LEASE_INFIX + name;
  }

  @Override
  List<byte[]> next() {
    long now = System.nanoTime();
    if (now - nextRenew >= 0) {
      renewLease();
    }
    if (redrive) {
      List<byte[]> batch = redis.lrange(processingKey, 0, batchSize - 1);
      if (batch.isEmpty()) {
        redrive = false;
      }
      return batch;
    }
    if (now - nextClaim >= 0) {
      List<byte[]> claimed = claim();
      if (claimed.isEmpty()) {
        nextClaim = System.nanoTime() + claimIntervalNanos; // every lapsed list is empty
      }
      return claimed;
    }
    List<byte[]> batch = move(listKey, batchSize);
    if (!batch.isEmpty()) {
      return batch;
    }
    byte[] first =
        redis.blmove(
            listKey, processingKey, ListDirection.LEFT, ListDirection.RIGHT, blockMillis / 1000.0);
    if (first == null) {
      return List.of();
    }
    List<byte[]> more = batchSize > 1 ? move(listKey, batchSize - 1) : List.of();
    List<byte[]> all = new ArrayList<>(1 + more.size());
    all.add(first);
    all.addAll(more);
    return all;
  }

  /** Up to {@code count} items moved from the head of {@code from} to this processing list. */
  private List<byte[]> move(byte[] from, int count) {
    Object reply =
        redis.eval(MOVE, List.of(from, processingKey), List.of(bytes(Integer.toString(count))));
    List<byte[]> items = new ArrayList<>();
    if (reply instanceof List<?> values) {
      for (Object v : values) {
        items.add(v instanceof byte[] b ? b : bytes(String.valueOf(v)));
      }
    }
    return items;
  }

  /** Takes a batch from the processing list of a consumer whose lease lapsed, if there is one. */
  private List<byte[]> claim() {
    for (String other : redis.smembers(consumers)) {
      if (other.equals(consumer) || redis.exists(lease(other))) {
        continue;
      }
      String theirs = processingList(list, other);
      List<byte[]> batch = move(bytes(theirs), batchSize);
      if (!batch.isEmpty()) {
        reclaimed.addAndGet(batch.size());
        log.info(
            "{} - {} reclaimed {} items of {}, whose lease lapsed",
            url,
            consumer,
            batch.size(),
            other);
        return batch;
      }
      redis.eval(
          FORGET,
          List.of(bytes(consumers), bytes(lease(other)), bytes(theirs)),
          List.of(bytes(other)));
    }
    return List.of();
  }

  @Override
  RedisEvents.Parsed parse(byte[] item) {
    return RedisEvents.fromItem(item);
  }

  @Override
  void settle(List<byte[]> batch, List<DeadLetter<byte[]>> dead) {
    try (AbstractTransaction tx = redis.multi()) {
      for (DeadLetter<byte[]> d : dead) {
        tx.rpush(deadLetterKey, RedisEvents.deadLetterItem(d.unit(), d.reason(), consumer));
      }
      for (byte[] item : batch) {
        tx.lrem(processingKey, 1, item);
      }
      tx.exec();
    }
  }

  @Override
  String describe(byte[] item) {
    String text = new String(item, StandardCharsets.UTF_8);
    return "item '" + (text.length() > 80 ? text.substring(0, 80) + "..." : text) + "'";
  }

  @Override
  void afterFailure(RuntimeException e) {
    redrive = true;
  }

  /**
   * Gives the lease up, so that what is left in the processing list (only after failed rounds) can
   * be claimed at once, and leaves the set of consumers if nothing is left.
   */
  @Override
  void afterStop() {
    String lease = lease(consumer);
    redis.del(lease);
    redis.eval(
        FORGET, List.of(bytes(consumers), bytes(lease), processingKey), List.of(bytes(consumer)));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
