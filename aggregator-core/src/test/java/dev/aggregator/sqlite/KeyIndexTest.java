package dev.aggregator.sqlite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The key index's reserve: after it, the promised puts never grow (never allocate). */
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
  void reserve_whenRoomAlready_allocatesNothing() {
    KeyIndex index = new KeyIndex(1_000);
    long bytes = index.bytes();
    index.reserve(100);
    assertEquals(bytes, index.bytes());
  }
}
