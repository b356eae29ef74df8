package dev.aggregator.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one owner of the server's parts: reverse order, once, and failures that do not stop it. */
class PartsTest {

  @Test
  void close_closesInReverseOrderOnce() {
    List<String> closed = new ArrayList<>();
    Parts parts = new Parts();
    parts.add(() -> closed.add("store"));
    parts.add(() -> closed.add("aggregator"));
    parts.add(() -> closed.add("server"));
    parts.close();
    parts.close();
    assertEquals(List.of("server", "aggregator", "store"), closed);
  }

  @Test
  void close_aPartFails_theOthersStillClose_firstFailureRethrownWithTheRest() {
    List<String> closed = new ArrayList<>();
    Parts parts = new Parts();
    parts.add(() -> closed.add("store"));
    parts.add(
        () -> {
          throw new IllegalStateException("aggregator failed");
        });
    parts.add(
        () -> {
          throw new java.io.IOException("server failed");
        });
    IllegalStateException e = assertThrows(IllegalStateException.class, parts::close);
    assertEquals("server failed", e.getMessage());
    assertEquals("aggregator failed", e.getSuppressed()[0].getMessage());
    assertEquals(List.of("store"), closed);
  }
}
