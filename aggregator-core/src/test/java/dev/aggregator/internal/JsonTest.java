package dev.aggregator.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** What counts as the same payload: the JSON value, not its text. */
class JsonTest {

  @Test
  void sameValue_membersInAnotherOrder_areEqual() {
    assertTrue(
        Json.sameValue(
            "{\"a\":1,\"b\":{\"x\":[1,2],\"y\":null}}",
            "{\"b\":{\"y\":null,\"x\":[1,2]},\"a\":1}"));
  }

  @Test
  void sameValue_numbersSpelledDifferently_areEqual() {
    assertTrue(Json.sameValue("{\"n\":1}", "{\"n\":1.0}"));
    assertTrue(Json.sameValue("{\"n\":1}", "{\"n\":1e0}"));
    assertTrue(Json.sameValue("{\"n\":100}", "{\"n\":1E+2}"));
    assertTrue(Json.sameValue("{\"n\":0.5}", "{\"n\":5e-1}"));
    assertTrue(Json.sameValue("{\"n\":12345678901234567890}", "{\"n\":1.234567890123456789e19}"));
    assertTrue(Json.sameValue("{\"n\":0}", "{\"n\":-0.0}"));
  }

  @Test
  void sameValue_differentValues_areNotEqual() {
    assertFalse(Json.sameValue("{\"n\":1}", "{\"n\":2}"));
    assertFalse(Json.sameValue("{\"n\":0.1}", "{\"n\":0.10000000000000001}"));
    assertFalse(Json.sameValue("{\"n\":1}", "{\"n\":\"1\"}"));
    assertFalse(Json.sameValue("{\"n\":null}", "{}"));
    assertFalse(Json.sameValue("{\"a\":1}", "{\"a\":1,\"b\":1}"));
    assertFalse(Json.sameValue("{\"a\":1,\"b\":1}", "{\"a\":1,\"c\":1}"));
    assertFalse(Json.sameValue("{\"a\":[1,2]}", "{\"a\":[2,1]}"));
    assertFalse(Json.sameValue("{\"a\":[1]}", "{\"a\":[1,1]}"));
    assertFalse(Json.sameValue("{\"a\":true}", "{\"a\":\"true\"}"));
    assertFalse(Json.sameValue("{\"a\":{}}", "{\"a\":[]}"));
    assertFalse(Json.sameValue("{\"s\":\"x\"}", "{\"s\":\"X\"}"));
  }

  @Test
  void sameValue_textThatIsNotJson_equalsOnlyItself() {
    assertTrue(Json.sameValue("{oops", "{oops"));
    assertFalse(Json.sameValue("{oops", "{\"a\":1}"));
  }
}
