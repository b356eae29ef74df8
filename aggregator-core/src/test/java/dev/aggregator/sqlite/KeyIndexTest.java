package dev.aggregator.sqlite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The key index: reserve never lets a promised put allocate; putAll loses no entry. */
class KeyIndexTest {
  @Test
  void reserve_thenThatManyPuts_tableDoesNotGrowAndFindsEveryEntry() {
    KeyIndex index = new KeyIndex(10);
    for (int i = 1; i <= 10; i++) {
      index.put(i * 31L, i);
    }
    index.reserve(5_000);
    long bytes = index.bytes();
    for (int i = 11; i <= 5_010; i++) {
      index.put(i * 31L, i);
    }
    assertEquals(bytes, index.bytes(), "a put after reserve grew the table");
    assertEquals(5_010, index.size());
    for (int i = 1; i <= 5_010; i++) {
      long seq = i;
      assertTrue(index.anyMatch(i * 31L, s -> s == seq), "lost entry " + i);
    }
  }

  @Test
  void grownManyTimes_everyEntryFound_eightBytesPerSlot() {
    KeyIndex index = new KeyIndex(1);
    Random random = new Random(5);
    long[] hashes = new long[100_000];
    for (int i = 0; i < hashes.length; i++) {
      hashes[i] = random.nextLong();
      index.put(hashes[i], i + 1L); // grows from 16 slots to 2^18
    }
    for (int i = 0; i < hashes.length; i++) {
      long seq = i + 1L;
      assertTrue(index.anyMatch(hashes[i], s -> s == seq), "lost entry " + i);
    }
    assertEquals(16 + 8L * (1 << 18), index.bytes());
  }

  @Test
  void seqs_upTo32Bits_beyondRefusedWithoutChangingTheTable() {
    KeyIndex index = new KeyIndex(10);
    index.put(42L << 32, KeyIndex.MAX_SEQ);
    assertTrue(index.anyMatch(42L << 32, s -> s == KeyIndex.MAX_SEQ));
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> index.put(43L << 32, KeyIndex.MAX_SEQ + 1));
    assertTrue(e.getMessage().contains("4294967295"), e.getMessage());
    assertEquals(1, index.size());
    assertFalse(index.anyMatch(43L << 32, s -> true));
  }

  @Test
  void reserve_whenRoomAlready_allocatesNothing() {
    KeyIndex index = new KeyIndex(1_000);
    long bytes = index.bytes();
    index.reserve(100);
    assertEquals(bytes, index.bytes());
  }

  @Test
  void putAll_inChunks_findsEverySeqOfEveryHash_includingSharedHashes() {
    Random random = new Random(3);
    int keys = 200_000;
    long[] hashes = new long[keys];
    for (int k = 0; k < keys; k++) {
      // One key in eight shares its hash with an earlier key: collisions must all be kept.
      hashes[k] = k > 0 && k % 8 == 0 ? hashes[random.nextInt(k)] : random.nextLong();
    }
    KeyIndex index = new KeyIndex(keys);
    int chunk = 30_000; // not a divisor of keys: the last chunk is short
    for (int from = 0; from < keys; from += chunk) {
      int count = Math.min(chunk, keys - from);
      long[] part = new long[chunk];
      System.arraycopy(hashes, from, part, 0, count);
      index.putAll(part, count, from + 1L);
    }
    assertEquals(keys, index.size());
    for (int k = 0; k < keys; k++) {
      long seq = k + 1L;
      assertTrue(index.anyMatch(hashes[k], s -> s == seq), "lost seq " + seq);
    }
    long[] seen = new long[keys + 1];
    for (int k = 0; k < keys; k++) {
      index.anyMatch(
          hashes[k],
          s -> {
            seen[(int) s]++;
            return false;
          });
    }
    Map<Long, Integer> keysPerFingerprint = new HashMap<>();
    for (long hash : hashes) {
      keysPerFingerprint.merge(hash >>> 32, 1, Integer::sum);
    }
    for (int k = 0; k < keys; k++) {
      // Each seq is found once per key sharing its fingerprint, the hash's upper 32 bits (itself
      // and the keys of the same hash included), never elsewhere. Among 200,000 random hashes a
      // few pairs share a fingerprint: the candidates the caller's key comparison rules out.
      assertEquals((long) keysPerFingerprint.get(hashes[k] >>> 32), seen[k + 1], "seq " + (k + 1));
    }
  }
}
