package dev.aggregator.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aggregator.Event;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;

/**
 * The events every benchmark publishes, generated before the measured code runs: random UUID event
 * ids over 5 topics, a JSON payload of about 100 bytes, and a given share of duplicates. A
 * duplicate repeats the key of one of the last 65,536 generated events (a retry of something
 * recent, as at-least-once delivery produces), with a new timestamp.
 *
 * <p>Deterministic for a given seed, and it counts the distinct keys it produced, so a benchmark
 * can check that the system under test accepted exactly those.
 */
final class Workload {
  static final String[] TOPICS = {"orders", "payments", "shipments", "invoices", "audit"};
  private static final int RING = 1 << 16;
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final SplittableRandom random;
  private final double dupRatio;
  private final String[] recentIds = new String[RING];
  private final int[] recentTopics = new int[RING];
  private final int[] recentPayloads = new int[RING];
  private final ObjectNode[] payloads = new ObjectNode[64];
  private long fresh;
  private long generated;
  private final long epochMillis = Instant.parse("2026-11-22T00:00:00Z").toEpochMilli();

  Workload(long seed, double dupRatio) {
    this.random = new SplittableRandom(seed);
    this.dupRatio = dupRatio;
    for (int i = 0; i < payloads.length; i++) {
      ObjectNode p = MAPPER.createObjectNode();
      p.put("customer", "c-" + (10_000 + random.nextInt(90_000)));
      p.put("amount", random.nextInt(1_000_000) / 100.0);
      p.put("currency", i % 2 == 0 ? "EUR" : "USD");
      p.put("items", 1 + random.nextInt(9));
      p.put("note", "priority delivery " + i);
      payloads[i] = p;
    }
  }

  /** The JSON text of a typical payload, for baselines that store one. */
  String samplePayloadJson() {
    return payloads[0].toString();
  }

  /** {@code events} events cut into publish calls of {@code batch} events. */
  List<List<Event>> calls(int events, int batch) {
    List<List<Event>> calls = new ArrayList<>(events / batch + 1);
    List<Event> call = new ArrayList<>(batch);
    for (int i = 0; i < events; i++) {
      call.add(next());
      if (call.size() == batch) {
        calls.add(call);
        call = new ArrayList<>(batch);
      }
    }
    if (!call.isEmpty()) {
      calls.add(call);
    }
    return calls;
  }

  /** The next event: a duplicate of a recent key with probability dupRatio, else a new key. */
  Event next() {
    int topic;
    String id;
    int payload;
    long recent = Math.min(generated, RING);
    if (recent > 0 && random.nextDouble() < dupRatio) {
      int slot = (int) ((generated - 1 - random.nextInt((int) recent)) & (RING - 1));
      topic = recentTopics[slot];
      id = recentIds[slot];
      payload = recentPayloads[slot];
    } else {
      topic = random.nextInt(TOPICS.length);
      id = newId();
      payload = (int) ((generated + 1) & (payloads.length - 1));
      fresh++;
    }
    int slot = (int) (generated & (RING - 1));
    recentTopics[slot] = topic;
    recentIds[slot] = id;
    recentPayloads[slot] = payload;
    generated++;
    return new Event(
        TOPICS[topic],
        id,
        Instant.ofEpochMilli(epochMillis + generated),
        "bench",
        payloads[payload]);
  }

  /** A random (version 4 layout) UUID; SplittableRandom because SecureRandom would dominate. */
  String newId() {
    long hi = (random.nextLong() & ~0xF000L) | 0x4000L;
    long lo = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(hi, lo).toString();
  }

  /** A random topic name, for pre-filled baseline tables. */
  String randomTopic() {
    return TOPICS[random.nextInt(TOPICS.length)];
  }

  /** How many distinct keys this workload has produced so far. */
  long distinctKeys() {
    return fresh;
  }
}
