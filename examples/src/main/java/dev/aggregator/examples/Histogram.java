package dev.aggregator.examples;

/**
 * Latencies in microseconds, in log-linear buckets: exact below 1,024 µs, within 0.1% above (1,024
 * buckets per power of two), so a 10-minute soak at 20,000 requests/s needs 256 KiB, not 100 MB.
 */
final class Histogram {
  private static final int SUB = 1024;
  private static final int SUB_BITS = 10;
  private final long[] counts = new long[SUB + 54 * SUB];
  private long total;
  private long max;

  void record(long micros) {
    long v = Math.max(0, micros);
    counts[index(v)]++;
    total++;
    max = Math.max(max, v);
  }

  void add(Histogram other) {
    for (int i = 0; i < counts.length; i++) {
      counts[i] += other.counts[i];
    }
    total += other.total;
    max = Math.max(max, other.max);
  }

  long count() {
    return total;
  }

  long max() {
    return max;
  }

  /** The smallest recorded value (bucket's lower bound) with at least p% of values at or below. */
  long percentile(double p) {
    if (total == 0) {
      return 0;
    }
    long rank = Math.max(1, (long) Math.ceil(total * p / 100.0));
    long seen = 0;
    for (int i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= rank) {
        return Math.min(max, lowerBound(i));
      }
    }
    return max;
  }

  static int index(long v) {
    if (v < SUB) {
      return (int) v;
    }
    int e = 63 - Long.numberOfLeadingZeros(v); // >= SUB_BITS
    int sub = (int) (v >>> (e - SUB_BITS)) & (SUB - 1);
    return SUB + (e - SUB_BITS) * SUB + sub;
  }

  static long lowerBound(int i) {
    if (i < SUB) {
      return i;
    }
    int e = (i - SUB) / SUB + SUB_BITS;
    long sub = (i - SUB) % SUB;
    return (1L << e) | (sub << (e - SUB_BITS));
  }
}
