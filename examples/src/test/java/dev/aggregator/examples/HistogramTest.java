package dev.aggregator.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HistogramTest {
  @Test
  void percentile_smallValues_exact() {
    Histogram h = new Histogram();
    for (int v = 1; v <= 100; v++) {
      h.record(v);
    }
    assertEquals(50, h.percentile(50));
    assertEquals(99, h.percentile(99));
    assertEquals(100, h.percentile(100));
    assertEquals(100, h.max());
  }

  @Test
  void percentile_largeValues_withinATenthOfAPercent() {
    Histogram h = new Histogram();
    for (long v = 1; v <= 100_000; v++) {
      h.record(v * 1000);
    }
    long p50 = h.percentile(50);
    assertTrue(Math.abs(p50 - 50_000_000L) <= 50_000, "p50 " + p50);
    long p99 = h.percentile(99);
    assertTrue(Math.abs(p99 - 99_000_000L) <= 99_000, "p99 " + p99);
  }

  @Test
  void index_lowerBound_roundTrip() {
    for (long v : new long[] {0, 1, 1023, 1024, 1025, 4096, 123_456_789L, 1L << 40}) {
      long lb = Histogram.lowerBound(Histogram.index(v));
      assertTrue(lb <= v && v - lb <= Math.max(0, v / 1000), v + " -> " + lb);
    }
  }

  @Test
  void add_merges() {
    Histogram a = new Histogram();
    Histogram b = new Histogram();
    a.record(10);
    b.record(20);
    a.add(b);
    assertEquals(2, a.count());
    assertEquals(20, a.max());
  }
}
