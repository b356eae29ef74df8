package dev.aggregator.sqlite;

import java.util.function.LongPredicate;

/**
 * A compact hash table from a 64-bit key hash to the sequence number of the stored event: open
 * addressing, linear probing, one long per entry: the hash's upper 32 bits as a fingerprint beside
 * a 32-bit seq. 8 bytes per slot and at most 75% of the slots used, so 11 to 22 bytes per key
 * (ReopenBenchmark measures it: aggregator-bench/RESULTS.md). Seqs run from 1 to {@value #MAX_SEQ}.
 *
 * <p>Why 8 bytes and not the whole hash and seq in 16: half the heap per key, half the memory a
 * rebuild at open and each doubling write (the doubling at 12.6M keys rehashes the whole table
 * within one batch), and twice the entries per cache line. The price: 32-bit seqs, and a
 * fingerprint that is a weaker hint (see {@link #slot}); the caller compares the real keys either
 * way.
 *
 * <p>Several entries may match a hash: two different keys can share a hash, or a slot and a
 * fingerprint, so the table never decides on its own that a key is stored; it only names the
 * candidates ({@link #anyMatch}), and the caller compares the real keys. There is no removal: the
 * store is append-only. Not thread-safe.
 */
final class KeyIndex {
  private static final int MIN_CAPACITY = 16;
  private static final int MAX_CAPACITY = 1 << 30; // slots; a Java array holds at most ~2^31

  /** The largest seq an entry holds: its lower 32 bits. */
  static final long MAX_SEQ = 0xFFFF_FFFFL;

  private long[] slots; // fingerprint << 32 | seq; seq 0 marks an empty slot
  private int mask;
  private int size;
  private int resizeAt;

  /** A table sized to hold {@code expectedKeys} without growing. */
  KeyIndex(long expectedKeys) {
    allocate(capacityFor(expectedKeys));
  }

  /** Adds an entry; {@code seq} must be between 1 and {@value #MAX_SEQ}. */
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

  /**
   * Whether {@code test} accepts the seq of any entry that may be stored under {@code hash}: every
   * entry of that hash, and rarely one of another hash with the same slot and fingerprint.
   */
  boolean anyMatch(long hash, LongPredicate test) {
    long fingerprint = hash >>> 32;
    for (int i = slot(hash, mask); slots[i] != 0; i = (i + 1) & mask) {
      long entry = slots[i];
      if (entry >>> 32 == fingerprint && test.test(entry & MAX_SEQ)) {
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
    long capacity = 2L * slots.length;
    if (capacity > MAX_CAPACITY) {
      throw new IllegalStateException("key index is full: " + size + " keys");
    }
    long[] old = slots;
    allocate((int) capacity);
    for (long entry : old) {
      if (entry != 0) {
        reinsert(entry);
      }
    }
  }

  /** Puts an entry of the old table into the new one: its slot comes from its fingerprint. */
  private void reinsert(long entry) {
    int i = slot(entry, mask);
    while (slots[i] != 0) {
      i = (i + 1) & mask;
    }
    slots[i] = entry;
  }

  private void allocate(int capacity) {
    slots = new long[capacity];
    mask = capacity - 1;
    resizeAt = (int) (capacity * 0.75);
  }

  private static void insert(long[] slots, int mask, long hash, long seq) {
    if (seq < 1 || seq > MAX_SEQ) {
      throw new IllegalStateException(
          "the key index holds seqs 1 to " + MAX_SEQ + ", not " + seq + " (store full)");
    }
    int i = slot(hash, mask);
    while (slots[i] != 0) {
      i = (i + 1) & mask;
    }
    slots[i] = (hash >>> 32) << 32 | seq;
  }

  /**
   * The first slot of a hash, from its upper 32 bits, which the entry keeps as its fingerprint: so
   * a grown table can place an entry without its whole hash. (A key matches an entry only if those
   * 32 bits match, so a new key meets a false candidate once in about 2^32 comparisons; the
   * caller's read of the stored key settles it.)
   */
  private static int slot(long hash, int mask) {
    return (int) (hash >>> 32) & mask;
  }

  private static int capacityFor(long keys) {
    long needed = Math.max(MIN_CAPACITY, (long) Math.ceil(keys / 0.75) + 1);
    if (needed > MAX_CAPACITY) {
      throw new IllegalStateException("key index cannot hold " + keys + " keys");
    }
    return Integer.highestOneBit((int) needed - 1) << 1;
  }
}
