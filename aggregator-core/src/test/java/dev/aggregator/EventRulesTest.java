package dev.aggregator;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.aggregator.EventValidationException.Violation;
import java.util.List;
import org.junit.jupiter.api.Test;

class EventRulesTest {
  @Test
  void check_validEvents_passes() {
    assertDoesNotThrow(
        () ->
            EventRules.check(
                List.of(Event.of("t", "a"), Event.of("t", "b")),
                EventRules.DEFAULT_MAX_PAYLOAD_BYTES));
  }

  @Test
  void check_invalidEvents_namesEveryViolationLikePublish() {
    List<Event> events =
        List.of(
            Event.of("t", "ok"),
            Event.of(" ", "x"),
            new Event(
                "t",
                "big",
                null,
                null,
                JsonNodeFactory.instance.objectNode().put("k", "0123456789")));
    EventValidationException e =
        assertThrows(EventValidationException.class, () -> EventRules.check(events, 10));
    assertEquals(
        List.of(
            new Violation(1, "topic", "must not be blank"),
            new Violation(2, "payload", "must be at most 10 bytes as JSON")),
        e.violations());
  }

  @Test
  void check_nonPositiveLimit_throws() {
    assertThrows(IllegalArgumentException.class, () -> EventRules.check(List.of(), 0));
  }
}
