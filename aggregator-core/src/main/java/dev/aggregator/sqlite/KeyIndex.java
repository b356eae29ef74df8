package dev.aggregator.sqlite;

import java.util.function.LongPredicate;

/**
 * A compact hash table from a 64-bit key hash to the sequence number of the stored event: open
 * addressing, linear probing, one long per entry: the hash's upper 32 bits as a fingerprint beside
 * 32 bits of the seq. 8 bytes per slot and at most 75% of the slots used, so 11 to 22 bytes per key
 * (ReopenBenchmark measures it: aggregator-bench/RESULTS.md).
 *
 * <p>Seqs grow for as long as the store lives, past 2^32 when retention removes old events, but the
 * entries present always lie within {@value #WINDOW} seqs of the oldest one, the {@linkplain
 * #floor(long) floor}: an entry keeps its seq modulo {@value #WINDOW}, and the floor tells which
 * seq of that residue it is.
 *
 * <p>Why 8 bytes and not the whole hash and seq in 16: half the heap per key, half the memory a
 * rebuild at open and each doubling write (the doubling at 12.6M keys rehashes the whole table
 * within one batch), and twice the entries per cache line. The price: a window of 2^32 seqs, and a
 * fingerprint that is a weaker hint (see {@link #slot}); the caller compares the real keys either
 * way.
 *
 * <p>Several entries may match a hash: two different keys can share a hash, or a slot and a
 * fingerprint, so the table never decides on its own that a key is stored; it only names the
 * candidates ({@link #anyMatch}), and the caller compares the real keys. Entries are removed by
 * backward shifting (no tombstones), so the slots of expired keys serve new keys at once, and
 * {@link #trim} shrinks the table when few entries are left. Not thread-safe.
 */
final class KeyIndex {
  private static final int MIN_CAPACITY = 16;
  private static final int MAX_CAPACITY = 1 << 30; // slots; a Java array holds at most ~2^31

  /** How many consecutive seqs the entries may span: the number of nonzero 32-bit codes. */
  static final long WINDOW = 0xFFFF_FFFFL;

  private static final long CODE = 0xFFFF_FFFFL;

  private long[] slots; // fingerprint << 32 | code(seq); code 0 marks an empty slot
  private int mask;
  private int size;
  private int resizeAt;
  private long floor = 1; // every entry's seq is in [floor, floor + WINDOW)
  private long floorCode = 1; // code(floor)

  /** A table sized to hold {@code expectedKeys} without growing. */
  KeyIndex(long expectedKeys) {
    allocate(capacityFor(expectedKeys));
  }

  /**
   * Adds an entry; {@code seq} must lie within {@value #WINDOW} seqs from the {@linkplain
   * #floor(long) floor}.
   */
  void put(long hash, long seq) {
    long code = code(seq);
    if (size >= resizeAt) {
      grow();
    }
    insert(slots, mask, hash, code);
    size++;
  }

  /**
   * Says that no entry has a seq below {@code floor} any more (the caller removed them), so seqs up
   * to {@code floor + WINDOW - 1} may be added. Never lowered.
   */
  void floor(long floor) {
    if (floor < this.floor) {
      throw new IllegalArgumentException("floor " + floor + " is below " + this.floor);
    }
    this.floor = floor;
    this.floorCode = (floor - 1) % WINDOW + 1;
  }

  /**
   * Removes the entry of {@code seq} under {@code hash}, if present. Allocates nothing, so it may
   * run after a commit. Later entries of the probe run move back into the freed slot, so every
   * lookup still finds them without tombstones.
   *
   * @return whether the entry was there
   */
  boolean remove(long hash, long seq) {
    long entry = (hash >>> 32) << 32 | code(seq);
    int i = slot(hash, mask);
    while (slots[i] != entry) {
      if (slots[i] == 0) {
        return false;
      }
      i = (i + 1) & mask;
    }
    // Backward shift: an entry further along may move into the hole unless its home slot lies
    // cyclically after the hole and at or before the entry itself.
    int hole = i;
    for (int j = (hole + 1) & mask; slots[j] != 0; j = (j + 1) & mask) {
      int home = slot(slots[j], mask);
      boolean stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (!stays) {
        slots[hole] = slots[j];
        hole = j;
      }
    }
    slots[hole] = 0;
    size--;
    return true;
  }

  /**
   * Halves the table while at most a sixteenth of its slots would stay used, so that memory follows
   * the keys down after many expired. Allocates: the store calls it before a transaction, where an
   * OutOfMemoryError only fails that batch.
   */
  void trim() {
    int target = capacityFor(2L * size);
    if (target <= slots.length / 4) {
      rehash(target);
    }
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
    if (count > 0) {
      code(firstSeq);
      code(firstSeq + count - 1);
    }
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
      insert(slots, mask, sortedHashes[at], code(firstSeq + sortedOffsets[at]));
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
      if (entry >>> 32 == fingerprint
          && test.test(floor + Math.floorMod((entry & CODE) - floorCode, WINDOW))) {
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
    rehash((int) capacity);
  }

  private void rehash(int capacity) {
    long[] old = slots;
    allocate(capacity);
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

  /** The 32-bit code of {@code seq}: never 0, distinct for the seqs of the window. */
  private long code(long seq) {
    if (seq < floor || seq - floor >= WINDOW) {
      throw new IllegalStateException(
          "the key index holds seqs "
              + floor
              + " to "
              + (floor + WINDOW - 1)
              + ", not "
              + seq
              + " (store full)");
    }
    return (seq - 1) % WINDOW + 1;
  }

  private static void insert(long[] slots, int mask, long hash, long code) {
    int i = slot(hash, mask);
    while (slots[i] != 0) {
      i = (i + 1) & mask;
    }
    slots[i] = (hash >>> 32) << 32 | code;
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
