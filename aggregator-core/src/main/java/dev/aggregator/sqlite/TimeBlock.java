package dev.aggregator.sqlite;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A row of time_blocks: the events [first, end) have timestamps (nanoseconds since the epoch,
 * saturated) in [minNs, maxNs]; all of them but the outliers lie in the core [coreMinNs,
 * coreMaxNs], and each outlier is listed with its timestamp, seq and topic.
 *
 * <p>Why outliers: a few late events (a retry minutes later, a publisher with a wrong clock) would
 * otherwise stretch the bounds of nearly every block, and a range query would read every block of
 * the minutes after its range. An event more than {@link #SPAN_NS} outside the core so far is
 * listed instead, up to {@link #MAX_OUTLIERS} a block; a query reads a block's rows only if its
 * core overlaps the range, and looks up only the listed outliers in the range. The core of a new
 * block starts from where the previous one's ended, so one late event at the start of a block does
 * not become its core. Beyond {@code MAX_OUTLIERS} the core widens: still correct, slower.
 */
final class TimeBlock {
  /** How far outside the core an event may lie and still join it. */
  static final long SPAN_NS = 10_000_000_000L;

  /** Outliers listed per block; 20 bytes each. */
  static final int MAX_OUTLIERS = 32;

  final long first;
  final long end;
  final long minNs;
  final long maxNs;
  final long coreMinNs; // > coreMaxNs while no event is in the core
  final long coreMaxNs;
  final long[] outlierNs;
  final long[] outlierSeqs;
  final int[] outlierTopics;

  TimeBlock(
      long first,
      long end,
      long minNs,
      long maxNs,
      long coreMinNs,
      long coreMaxNs,
      long[] outlierNs,
      long[] outlierSeqs,
      int[] outlierTopics) {
    this.first = first;
    this.end = end;
    this.minNs = minNs;
    this.maxNs = maxNs;
    this.coreMinNs = coreMinNs;
    this.coreMaxNs = coreMaxNs;
    this.outlierNs = outlierNs;
    this.outlierSeqs = outlierSeqs;
    this.outlierTopics = outlierTopics;
  }

  /** Events whose timestamps are not known here: every range query reads them. */
  static TimeBlock unknown(long first, long end) {
    return new TimeBlock(
        first,
        end,
        Long.MIN_VALUE,
        Long.MAX_VALUE,
        Long.MIN_VALUE,
        Long.MAX_VALUE,
        new long[0],
        new long[0],
        new int[0]);
  }

  boolean isUnknown() {
    return coreMinNs == Long.MIN_VALUE && coreMaxNs == Long.MAX_VALUE;
  }

  boolean hasCore() {
    return coreMinNs <= coreMaxNs;
  }

  /** Whether the core may hold an event of [fromNs, toNs]. */
  boolean coreOverlaps(long fromNs, long toNs) {
    return hasCore() && coreMaxNs >= fromNs && coreMinNs <= toNs;
  }

  /**
   * A new block of the {@code n} events from seq {@code first} with timestamps {@code ns}; its core
   * starts where {@code previous} (may be null) ended, else at the median of the events.
   */
  static TimeBlock start(long first, TimeBlock previous, long[] ns, int[] topics, int n) {
    long reference;
    if (previous != null && !previous.isUnknown() && previous.hasCore()) {
      reference = previous.coreMaxNs;
    } else {
      long[] sorted = Arrays.copyOf(ns, n);
      Arrays.sort(sorted);
      reference = sorted[n / 2];
    }
    TimeBlock empty =
        new TimeBlock(
            first,
            first,
            Long.MAX_VALUE,
            Long.MIN_VALUE,
            Long.MAX_VALUE,
            Long.MIN_VALUE,
            new long[0],
            new long[0],
            new int[0]);
    return empty.add(ns, topics, n, reference);
  }

  /** This block with the {@code n} events from seq {@code end} on added. */
  TimeBlock extend(long[] ns, int[] topics, int n) {
    long reference = hasCore() ? coreMaxNs : ns[0];
    return add(ns, topics, n, reference);
  }

  private TimeBlock add(long[] ns, int[] topics, int n, long reference) {
    long coreMin = coreMinNs;
    long coreMax = coreMaxNs;
    long lo = Math.min(reference, coreMin); // the core so far, or the reference while it is empty
    long hi = Math.max(reference, coreMax);
    int count = outlierNs.length;
    long[] oNs = Arrays.copyOf(outlierNs, Math.min(MAX_OUTLIERS, count + n));
    long[] oSeqs = Arrays.copyOf(outlierSeqs, oNs.length);
    int[] oTopics = Arrays.copyOf(outlierTopics, oNs.length);
    long min = minNs;
    long max = maxNs;
    for (int k = 0; k < n; k++) {
      long t = ns[k];
      min = Math.min(min, t);
      max = Math.max(max, t);
      boolean near = t >= saturatedMinus(lo) && t <= saturatedPlus(hi);
      if (near || count == MAX_OUTLIERS) {
        coreMin = Math.min(coreMin, t);
        coreMax = Math.max(coreMax, t);
        lo = Math.min(lo, t);
        hi = Math.max(hi, t);
      } else {
        oNs[count] = t;
        oSeqs[count] = end + k;
        oTopics[count] = topics[k];
        count++;
      }
    }
    return new TimeBlock(
        first,
        end + n,
        min,
        max,
        coreMin,
        coreMax,
        Arrays.copyOf(oNs, count),
        Arrays.copyOf(oSeqs, count),
        Arrays.copyOf(oTopics, count));
  }

  private static long saturatedMinus(long t) {
    return t < Long.MIN_VALUE + SPAN_NS ? Long.MIN_VALUE : t - SPAN_NS;
  }

  private static long saturatedPlus(long t) {
    return t > Long.MAX_VALUE - SPAN_NS ? Long.MAX_VALUE : t + SPAN_NS;
  }

  /** The outliers as stored: ns, seq (8 bytes each) and topic id (4), little-endian. */
  byte[] outliersBlob() {
    ByteBuffer b = ByteBuffer.allocate(20 * outlierNs.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int k = 0; k < outlierNs.length; k++) {
      b.putLong(outlierNs[k]).putLong(outlierSeqs[k]).putInt(outlierTopics[k]);
    }
    return b.array();
  }

  /** A block read back from its columns. */
  static TimeBlock read(
      long first, long end, long minNs, long maxNs, long coreMin, long coreMax, byte[] blob) {
    int count = blob == null ? 0 : blob.length / 20;
    long[] ns = new long[count];
    long[] seqs = new long[count];
    int[] topics = new int[count];
    ByteBuffer b =
        ByteBuffer.wrap(blob == null ? new byte[0] : blob).order(ByteOrder.LITTLE_ENDIAN);
    for (int k = 0; k < count; k++) {
      ns[k] = b.getLong();
      seqs[k] = b.getLong();
      topics[k] = b.getInt();
    }
    return new TimeBlock(first, end, minNs, maxNs, coreMin, coreMax, ns, seqs, topics);
  }
}
