package dev.aggregator.sqlite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The key index: reserve never lets a promised put allocate; putAll and remove lose no entry; seqs
 * go past 32 bits while their window stays within 32.
 */
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
  void seqs_beyondTheWindowOfTheFloor_refusedWithoutChangingTheTable() {
    KeyIndex index = new KeyIndex(10);
    index.put(42L << 32, KeyIndex.WINDOW);
    assertTrue(index.anyMatch(42L << 32, s -> s == KeyIndex.WINDOW));
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> index.put(43L << 32, KeyIndex.WINDOW + 1));
    assertTrue(e.getMessage().contains("4294967295"), e.getMessage());
    assertEquals(1, index.size());
    assertFalse(index.anyMatch(43L << 32, s -> true));
    assertThrows(IllegalStateException.class, () -> index.put(44L << 32, 0));
  }

  @Test
  void seqsPast32Bits_floorRaised_eachEntryComesBackWithItsFullSeq() {
    KeyIndex index = new KeyIndex(16);
    long first = (1L << 32) - 5; // the codes wrap around within these seqs
    index.floor(first);
    for (long seq = first; seq < first + 10; seq++) {
      index.put(seq * 0x9E3779B97F4A7C15L, seq);
    }
    for (long seq = first; seq < first + 10; seq++) {
      long expected = seq;
      assertTrue(index.anyMatch(seq * 0x9E3779B97F4A7C15L, s -> s == expected), "seq " + seq);
    }
    // A window later, the same codes mean other seqs: remove the old ones, raise the floor.
    for (long seq = first; seq < first + 10; seq++) {
      assertTrue(index.remove(seq * 0x9E3779B97F4A7C15L, seq));
    }
    long later = first + KeyIndex.WINDOW;
    index.floor(later);
    index.put(7L << 32, later);
    assertTrue(index.anyMatch(7L << 32, s -> s == later));
    assertThrows(IllegalStateException.class, () -> index.put(8L << 32, later - 1));
    assertThrows(IllegalArgumentException.class, () -> index.floor(later - 1));
  }

  @Test
  void remove_randomPutsAndRemoves_agreeWithAMapAtEveryStep() {
    // A small table with few distinct home slots: long probe runs that wrap around the end, where
    // backward shifting is easiest to get wrong.
    KeyIndex index = new KeyIndex(1);
    Map<Long, Long> model = new HashMap<>(); // seq -> hash
    Random random = new Random(11);
    long nextSeq = 1;
    for (int step = 0; step < 20_000; step++) {
      if (model.isEmpty() || random.nextInt(3) > 0 && model.size() < 200) {
        long hash = ((long) random.nextInt(40) << 59) | random.nextInt(1 << 20);
        index.put(hash, nextSeq);
        model.put(nextSeq++, hash);
      } else {
        long seq = model.keySet().stream().skip(random.nextInt(model.size())).findFirst().get();
        assertTrue(index.remove(model.get(seq), seq), "entry of seq " + seq + " not found");
        assertFalse(index.remove(model.get(seq), seq), "removed twice");
        model.remove(seq);
      }
      assertEquals(model.size(), index.size());
      if (step % 97 == 0) {
        for (Map.Entry<Long, Long> e : model.entrySet()) {
          long seq = e.getKey();
          assertTrue(index.anyMatch(e.getValue(), s -> s == seq), "lost seq " + seq);
        }
      }
    }
  }

  @Test
  void trim_afterMostEntriesRemoved_shrinksTheTableAndKeepsTheRest() {
    KeyIndex index = new KeyIndex(1);
    Random random = new Random(9);
    long[] hashes = new long[100_000];
    for (int i = 0; i < hashes.length; i++) {
      hashes[i] = random.nextLong();
      index.put(hashes[i], i + 1L);
    }
    long full = index.bytes();
    index.trim();
    assertEquals(full, index.bytes(), "trimmed a table that is still well used");
    for (int i = 0; i < 95_000; i++) {
      assertTrue(index.remove(hashes[i], i + 1L));
    }
    index.floor(95_001);
    index.trim();
    assertEquals(16 + (full - 16) / 16, index.bytes(), "5,000 keys take 16,384 slots");
    assertEquals(5_000, index.size());
    for (int i = 95_000; i < hashes.length; i++) {
      long seq = i + 1L;
      assertTrue(index.anyMatch(hashes[i], s -> s == seq), "lost seq " + seq);
    }
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
