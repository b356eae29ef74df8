package dev.aggregator.sqlite;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.aggregator.Outcome;
import dev.aggregator.store.PendingEvent;
import dev.aggregator.store.StoreStats;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A false duplicate is lost data. These tests make the dedup index name many stored rows as
 * candidates for every event (a hash that ignores most of the key), more than one verification read
 * holds, and check that each new key is still accepted and each repeated key dropped.
 */
class FalseDuplicateTest {
  private static final Instant T0 = Instant.parse("2026-11-22T00:00:00Z");

  @TempDir Path dir;

  private static PendingEvent event(String topic, String id) {
    return new PendingEvent(topic, id, T0, "test", "{}", T0);
  }

  @Test
  void append_newKeysCollidingWithManyStoredKeys_areAccepted() {
    // Every key hashes to one of two values: each event has ~100 stored candidates.
    KeyHasher twoBuckets = (topic, eventId) -> eventId.hashCode() & 1;
    try (SqliteDedupStore store =
        SqliteDedupStore.builder(dir.resolve("s.db")).keyHasher(twoBuckets).open()) {
      List<PendingEvent> first = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        first.add(event("t" + (i % 3), "e" + i));
      }
      store.append(first);

      List<PendingEvent> second = new ArrayList<>();
      List<Outcome> expected = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        if (i % 3 == 0) {
          second.add(event("t" + (i % 3), "e" + i)); // stored by the first batch iff i < 200
          expected.add(i < 200 ? Outcome.DUPLICATE : Outcome.ACCEPTED);
        } else {
          // Same event id as a stored event but another topic, or a new id: new either way.
          second.add(event("t" + ((i + 1) % 3), "e" + i));
          expected.add(Outcome.ACCEPTED);
        }
      }
      assertEquals(expected, store.append(second));

      StoreStats stats = store.stats();
      long duplicates = expected.stream().filter(o -> o == Outcome.DUPLICATE).count();
      assertEquals(500, stats.received());
      assertEquals(500 - duplicates, stats.uniqueProcessed());
      assertEquals(duplicates, stats.duplicateDropped());
    }
  }

  @Test
  void append_sameIdOtherTopicAfterReopen_isAccepted() {
    KeyHasher idOnly = (topic, eventId) -> eventId.hashCode();
    Path file = dir.resolve("r.db");
    try (SqliteDedupStore store = SqliteDedupStore.builder(file).keyHasher(idOnly).open()) {
      store.append(List.of(event("orders", "x-1"), event("orders", "x-2")));
    }
    try (SqliteDedupStore store = SqliteDedupStore.builder(file).keyHasher(idOnly).open()) {
      assertEquals(
          List.of(Outcome.ACCEPTED, Outcome.DUPLICATE, Outcome.ACCEPTED),
          store.append(
              List.of(event("payments", "x-1"), event("orders", "x-2"), event("orders", "x-3"))));
    }
  }
}
