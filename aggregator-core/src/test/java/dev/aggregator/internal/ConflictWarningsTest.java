package dev.aggregator.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ConflictWarningsTest {
  private final AtomicLong nanos = new AtomicLong(5_000_000_000L);
  private final ConflictWarnings warnings = new ConflictWarnings(3, nanos::get);

  @Test
  void line_namesStoreTopicAndEventId() {
    String line = warnings.line("sqlite:/data/a.db", "orders", "evt-1");
    assertEquals(
        "sqlite:/data/a.db - payload conflict: event 'evt-1' of topic 'orders' was published"
            + " again with a different payload; the stored event is kept",
        line);
  }

  @Test
  void line_overTheLimitOfASecond_nullThenCountedInTheNextLine() {
    for (int i = 0; i < 3; i++) {
      assertNotNull(warnings.line("s", "t", "e" + i));
    }
    for (int i = 3; i < 10; i++) {
      assertNull(warnings.line("s", "t", "e" + i), "line " + i);
    }
    nanos.addAndGet(999_999_999L);
    assertNull(warnings.line("s", "t", "e10"), "still the same second");
    nanos.addAndGet(1);
    String next = warnings.line("s", "t", "e11");
    assertTrue(next.contains("event 'e11'"), next);
    assertTrue(next.endsWith("(8 earlier conflicts were not logged, at most 3/s)"), next);
    assertTrue(!warnings.line("s", "t", "e12").contains("not logged"), "counted once");
  }
}
