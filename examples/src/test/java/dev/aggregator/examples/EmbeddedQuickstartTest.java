package dev.aggregator.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedQuickstartTest {
  @TempDir Path dir;

  @Test
  void main_freshDatabase_printsOutcomesEventsAndCounters() {
    Path db = dir.resolve("quickstart.db");
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    PrintStream previous = System.out;
    try (PrintStream capture = new PrintStream(buffer, true, StandardCharsets.UTF_8)) {
      System.setOut(capture);
      EmbeddedQuickstart.main(new String[] {db.toString()});
    } finally {
      System.setOut(previous);
    }
    String out = buffer.toString(StandardCharsets.UTF_8);
    assertTrue(out.contains("outcomes: [ACCEPTED] [DUPLICATE, ACCEPTED]"), out);
    assertTrue(out.contains("stored: order-1 {\"amount\":42}"), out);
    assertTrue(out.contains("stored: order-2 {}"), out);
    assertTrue(out.contains("stats: 3 received, 2 unique, 1 duplicates"), out);
    assertTrue(Files.exists(db), "the quick start did not use the given file");
  }
}
