package dev.aggregator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aggregator.EventValidationException.Violation;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class EventJsonTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private static JsonNode json(String text) throws Exception {
    return MAPPER.readTree(text);
  }

  @Test
  void read_fullEvent_readsEveryField() throws Exception {
    Event e =
        EventJson.read(
            json(
                "{\"topic\":\"user.login\",\"event_id\":\"evt-1\",\"timestamp\":\"2025-10-23T10:00:00Z\","
                    + "\"source\":\"auth\",\"payload\":{\"user\":7},\"unknown\":[1,2]}"),
            0);
    assertEquals("user.login", e.topic());
    assertEquals("evt-1", e.eventId());
    assertEquals(Instant.parse("2025-10-23T10:00:00Z"), e.timestamp());
    assertEquals("auth", e.source());
    assertEquals(7, e.payload().get("user").intValue());
  }

  @Test
  void read_onlyKey_optionalFieldsNull() throws Exception {
    Event e =
        EventJson.read(
            json("{\"topic\":\"t\",\"event_id\":\"e\",\"source\":null,\"payload\":null}"), 0);
    assertEquals(Event.of("t", "e"), e);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "2025-10-23T10:00:00Z|2025-10-23T10:00:00Z",
        "2025-10-23T10:00:00|2025-10-23T10:00:00Z",
        "2025-10-23 10:00:00|2025-10-23T10:00:00Z",
        "2025-10-23T12:00:00+02:00|2025-10-23T10:00:00Z",
        "2025-10-23T03:30:00-0630|2025-10-23T10:00:00Z",
        "2025-10-23T17:00:00+07|2025-10-23T10:00:00Z",
        "2025-10-23T10:00:00.5Z|2025-10-23T10:00:00.500Z",
        "2025-10-23 10:00:00.123456|2025-10-23T10:00:00.123456Z",
        "2025-10-23T10:00:00.123456789+00:00|2025-10-23T10:00:00.123456789Z",
        "2025-10-23t10:00:00z|2025-10-23T10:00:00Z",
        "2025-10-23T10:00|2025-10-23T10:00:00Z"
      })
  void parseTimestamp_isoVariants_sameInstant(String text, String expected) {
    assertEquals(Instant.parse(expected), EventJson.parseTimestamp(text));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"", "yesterday", "2025-10-23", "2025-13-01T00:00:00Z", "1729677600", "10:00:00"})
  void parseTimestamp_notIso_throws(String text) {
    assertThrows(DateTimeParseException.class, () -> EventJson.parseTimestamp(text));
  }

  @Test
  void read_timestampWithOffset_keepsItsSpellingAndItsInstant() throws Exception {
    Event e =
        EventJson.read(
            MAPPER.readTree(
                "{\"topic\":\"t\",\"event_id\":\"e\",\"timestamp\":\"2025-10-24 15:00:00.1234567+0700\"}"),
            0);
    assertEquals("2025-10-24T15:00:00.1234567+07:00", e.timestampText());
    assertEquals(Instant.parse("2025-10-24T08:00:00.1234567Z"), e.timestamp());
    assertEquals(
        "2025-10-24T15:00:00.1234567+07:00", EventJson.write(e).get("timestamp").textValue());
  }

  @Test
  void event_timestampAndTextThatDisagree_isRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new Event(
                "t",
                "e",
                Instant.parse("2025-10-24T15:00:00Z"),
                null,
                null,
                "2025-10-24T15:00:00+07:00"));
    assertThrows(
        IllegalArgumentException.class, () -> new Event("t", "e", null, null, null, "soon"));
    Event fromInstant = new Event("t", "e", Instant.parse("2025-10-24T08:00:00Z"), null, null);
    assertEquals("2025-10-24T08:00:00Z", fromInstant.timestampText());
  }

  @Test
  void readAll_typeErrors_namesIndexFieldAndRuleOfEach() throws Exception {
    JsonNode batch =
        json(
            "[{\"topic\":\"t\",\"event_id\":\"ok\"},"
                + "{\"topic\":5,\"event_id\":\"e\",\"payload\":[1]},"
                + "{\"event_id\":true,\"timestamp\":\"soon\",\"source\":{}},"
                + "\"not an event\"]");
    List<JsonNode> nodes = List.of(batch.get(0), batch.get(1), batch.get(2), batch.get(3));
    EventValidationException e =
        assertThrows(EventValidationException.class, () -> EventJson.readAll(nodes));
    assertEquals(
        List.of(
            new Violation(1, "topic", "must be a string"),
            new Violation(1, "payload", "must be a JSON object"),
            new Violation(2, "topic", "is required"),
            new Violation(2, "event_id", "must be a string"),
            new Violation(2, "source", "must be a string"),
            new Violation(2, "timestamp", EventJson.TIMESTAMP_RULE),
            new Violation(3, "event", "must be a JSON object")),
        e.violations());
  }

  @Test
  void readAll_validEvents_keepsOrder() throws Exception {
    JsonNode batch =
        json("[{\"topic\":\"t\",\"event_id\":\"a\"},{\"topic\":\"t\",\"event_id\":\"b\"}]");
    List<Event> events = EventJson.readAll(List.of(batch.get(0), batch.get(1)));
    assertEquals(List.of(Event.of("t", "a"), Event.of("t", "b")), events);
  }

  @Test
  void write_storedEvent_wireFormWithReceivedAt() throws Exception {
    ObjectNode payload = (ObjectNode) json("{\"k\":[1,{\"n\":null}]}");
    StoredEvent stored =
        new StoredEvent(
            new Event("t", "e", Instant.parse("2025-10-23T10:00:00.25Z"), "src", payload),
            Instant.parse("2025-10-23T10:00:01Z"));
    assertEquals(
        json(
            "{\"topic\":\"t\",\"event_id\":\"e\",\"timestamp\":\"2025-10-23T10:00:00.250Z\","
                + "\"source\":\"src\",\"payload\":{\"k\":[1,{\"n\":null}]},"
                + "\"received_at\":\"2025-10-23T10:00:01Z\"}"),
        EventJson.write(stored));
  }

  @Test
  void write_thenRead_roundTrips() throws Exception {
    Event original =
        new Event("t", "e", Instant.parse("2025-01-01T00:00:00.000000001Z"), "s", null);
    JsonNode written = EventJson.write(new StoredEvent(original, Instant.EPOCH));
    Event back = EventJson.read(written, 0);
    assertEquals(original.timestamp(), back.timestamp());
    assertEquals("t", back.topic());
    assertEquals(0, back.payload().size());
  }

  @Test
  void writeEvent_fullEvent_readsBackEqual() throws Exception {
    ObjectNode payload = MAPPER.createObjectNode().put("user", 7);
    Event e =
        new Event("user.login", "evt-1", Instant.parse("2025-10-23T10:00:00.5Z"), "auth", payload);
    ObjectNode written = EventJson.write(e);
    assertEquals("2025-10-23T10:00:00.500Z", written.get("timestamp").textValue());
    assertEquals(e, EventJson.read(json(MAPPER.writeValueAsString(written)), 0));
  }

  @Test
  void writeEvent_onlyKey_leavesOptionalFieldsOut() throws Exception {
    ObjectNode written = EventJson.write(Event.of("t", "e"));
    assertEquals(json("{\"topic\":\"t\",\"event_id\":\"e\"}"), written);
    assertEquals(Event.of("t", "e"), EventJson.read(written, 0));
  }
}
