package dev.aggregator.sqlite;

import java.util.function.LongPredicate;

/**
 * A compact hash table from a 64-bit key hash to the sequence number of the stored event: open
 * addressing, linear probing, both longs of an entry side by side in one array so a probe touches
 * one cache line. About 16 bytes per slot and at most 75% of the slots used, so 21 to 43 bytes per
 * key (27 at 10M keys).
 *
 * <p>Several entries may share a hash: two different keys can collide, so the table never decides
 * on its own that a key is stored; it only names the candidates ({@link #anyMatch}), and the caller
 * compares the real keys. There is no removal: the store is append-only. Not thread-safe.
 */
final class KeyIndex {
  private static final int MIN_CAPACITY = 16;
  private static final int MAX_CAPACITY = 1 << 30; // 2 * 2^30 longs is the largest Java array

  private long[] slots; // [2i] = hash, [2i + 1] = seq; seq 0 marks an empty slot
  private int mask;
  private int size;
  private int resizeAt;

  /** A table sized to hold {@code expectedKeys} without growing. */
  KeyIndex(long expectedKeys) {
    allocate(capacityFor(expectedKeys));
  }

  /** Adds an entry; {@code seq} must be positive. */
  void put(long hash, long seq) {
    if (size >= resizeAt) {
      grow();
    }
    insert(slots, mask, hash, seq);
    size++;
  }

  /**
   * Adds {@code hashes[k] -> firstSeq + k} for every {@code k < count}, as {@link #put} would, but
   * in the order of the slots they land in.
   *
   * <p>Why: reopening a store rebuilds the table from the key blocks, and in seq order every put
   * lands on a random slot of a table far larger than the CPU caches (256 MiB at 10M keys): a cache
   * and TLB miss per key, 77% of a 10M reopen in JFR. Sorted by slot (a counting sort on the slot's
   * top bits), the same puts sweep the table front to back, which the hardware prefetches. Lookups
   * are unaffected: linear probing finds every entry of a hash whatever the insertion order.
   */
  void putAll(long[] hashes, int count, long firstSeq) {
    reserve(count);
    int slotBits = Integer.numberOfTrailingZeros(mask + 1);
    int bucketBits = Math.min(slotBits, 12);
    int shift = slotBits - bucketBits;
    int[] next = new int[(1 << bucketBits) + 1];
    for (int k = 0; k < count; k++) {
      next[(slot(hashes[k], mask) >>> shift) + 1]++;
    }
    for (int b = 1; b < next.length; b++) {
      next[b] += next[b - 1]; // next[b] = where bucket b starts
    }
    long[] sortedHashes = new long[count];
    int[] sortedOffsets = new int[count];
    for (int k = 0; k < count; k++) {
      int at = next[slot(hashes[k], mask) >>> shift]++;
      sortedHashes[at] = hashes[k];
      sortedOffsets[at] = k;
    }
    for (int at = 0; at < count; at++) {
      insert(slots, mask, sortedHashes[at], firstSeq + sortedOffsets[at]);
    }
    size += count;
  }

  /**
   * Grows the table now, if needed, so that {@code additional} more entries fit without growing.
   * The store calls it before a commit: growing allocates (the largest allocation of the store),
   * and an OutOfMemoryError after the commit would leave the table and the file disagreeing.
   */
  void reserve(int additional) {
    while ((long) size + additional > resizeAt) {
      grow();
    }
  }

  /** Whether {@code test} accepts the seq of any entry stored under {@code hash}. */
  boolean anyMatch(long hash, LongPredicate test) {
    for (int i = slot(hash, mask); slots[2 * i + 1] != 0; i = (i + 1) & mask) {
      if (slots[2 * i] == hash && test.test(slots[2 * i + 1])) {
        return true;
      }
    }
    return false;
  }

  int size() {
    return size;
  }

  /** Heap bytes held by the table. */
  long bytes() {
    return 16L + 8L * slots.length;
  }

  private void grow() {
    int capacity = slots.length; // twice the old slot count
    if (capacity > MAX_CAPACITY) {
      throw new IllegalStateException("key index is full: " + size + " keys");
    }
    long[] old = slots;
    allocate(capacity);
    for (int i = 0; i < old.length; i += 2) {
      if (old[i + 1] != 0) {
        insert(slots, mask, old[i], old[i + 1]);
      }
    }
  }

  private void allocate(int capacity) {
    slots = new long[2 * capacity];
    mask = capacity - 1;
    resizeAt = (int) (capacity * 0.75);
  }

  private static void insert(long[] slots, int mask, long hash, long seq) {
    int i = slot(hash, mask);
    while (slots[2 * i + 1] != 0) {
      i = (i + 1) & mask;
    }
    slots[2 * i] = hash;
    slots[2 * i + 1] = seq;
  }

  private static int slot(long hash, int mask) {
    return (int) (hash ^ (hash >>> 32)) & mask;
  }

  private static int capacityFor(long keys) {
    long needed = Math.max(MIN_CAPACITY, (long) Math.ceil(keys / 0.75) + 1);
    if (needed > MAX_CAPACITY) {
      throw new IllegalStateException("key index cannot hold " + keys + " keys");
    }
    return Integer.highestOneBit((int) needed - 1) << 1;
  }
}
