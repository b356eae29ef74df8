package dev.aggregator.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The fast paths must agree with java.time, which defines what is accepted and what is written. */
class IsoTimestampsTest {
  private static final long MIN_SECOND = Instant.parse("-1000-01-01T00:00:00Z").getEpochSecond();
  private static final long MAX_SECOND = Instant.parse("+12000-01-01T00:00:00Z").getEpochSecond();

  @Test
  void format_isInstantToString_forRandomInstantsAndEveryFractionLength() {
    Random random = new Random(42);
    for (int k = 0; k < 200_000; k++) {
      long second = MIN_SECOND + (long) (random.nextDouble() * (MAX_SECOND - MIN_SECOND));
      int nano =
          switch (k % 4) {
            case 0 -> 0;
            case 1 -> random.nextInt(1000) * 1_000_000;
            case 2 -> random.nextInt(1_000_000) * 1_000;
            default -> random.nextInt(1_000_000_000);
          };
      Instant instant = Instant.ofEpochSecond(second, nano);
      assertEquals(instant.toString(), IsoTimestamps.format(instant));
    }
    for (String edge :
        List.of(
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
            "-0001-12-31T23:59:59Z",
            "+10000-01-01T00:00:00Z",
            "1970-01-01T00:00:00.000000001Z")) {
      Instant instant = Instant.parse(edge);
      assertEquals(instant.toString(), IsoTimestamps.format(instant), edge);
    }
  }

  @Test
  void parse_commonForms_takeTheFastPathAndAgreeWithJavaTime() {
    Random random = new Random(7);
    DateTimeFormatter seconds = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss");
    for (int k = 0; k < 100_000; k++) {
      long second =
          Instant.parse("0001-01-02T00:00:00Z").getEpochSecond()
              + (long) (random.nextDouble() * 315_000_000_000L);
      ZoneOffset offset =
          ZoneOffset.ofTotalSeconds((random.nextInt(35) - 17) * 3600 + 1800 * (k % 2));
      String text = Instant.ofEpochSecond(second).atOffset(offset).format(seconds);
      text = k % 3 == 0 ? text.replace('T', ' ') : text;
      int fraction = random.nextInt(10);
      if (fraction > 0) {
        text += "." + String.format("%09d", random.nextInt(1_000_000_000)).substring(0, fraction);
      }
      text +=
          switch (k % 3) {
            case 0 -> "";
            case 1 -> "Z";
            default -> offset.getId().equals("Z") ? "+00:00" : offset.getId();
          };
      Instant fast = IsoTimestamps.parseCommon(text);
      assertNotNull(fast, text);
      assertEquals(IsoTimestamps.parseWithJavaTime(text), fast, text);
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "2025-10-23T10:00:00Z",
        "2024-02-29T23:59:59.5-03:30",
        "2025-10-23 10:00:00.123456",
        "2025-10-23T10:00Z", // no seconds: java.time only
        "2025-10-23t10:00:00z", // lower case: java.time only
        "2025-10-23T10:00:00+0700",
        "2025-10-23T10:00:00+07",
        "2025-10-23T10:00:00+18:00",
        "2025-10-23T10:00:00-18:00",
        "2025-10-23T10:00:00+07:00:30",
        " 2025-10-23T10:00:00Z ",
        "0000-01-01T00:00:00Z",
        "+12025-10-23T10:00:00Z",
        "2025-10-23T10:00:00.Z", // an empty fraction: java.time accepts it
        "2025-10-23T10:00:00ZZ", // Z for both optional offsets: java.time accepts it
      })
  void parse_otherValidForms_agreeWithJavaTime(String text) {
    Instant fast = IsoTimestamps.parseCommon(text);
    Instant javaTime = IsoTimestamps.parseWithJavaTime(text);
    if (fast != null) {
      assertEquals(javaTime, fast, text);
    }
    assertEquals(javaTime, IsoTimestamps.parse(text), text);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "2025-10-24T15:00:00+07:00     | 2025-10-24T15:00:00+07:00",
        "2025-10-24T08:00:00Z          | 2025-10-24T08:00:00Z",
        "2025-10-24T08:00:00.1234567Z  | 2025-10-24T08:00:00.1234567Z",
        "2025-10-24T08:00:00.100Z      | 2025-10-24T08:00:00.100Z",
        "2025-10-24T08:00:00           | 2025-10-24T08:00:00Z",
        "2025-10-24 08:00:00.5         | 2025-10-24T08:00:00.5Z",
        "2025-10-24 15:00:00-03:30     | 2025-10-24T15:00:00-03:30",
        "2025-10-24T08:00:00+00:00     | 2025-10-24T08:00:00+00:00",
        "2025-10-24T15:00:00+0700      | 2025-10-24T15:00:00+07:00",
        "2025-10-24T15:00:00.25+07     | 2025-10-24T15:00:00.25+07:00",
        "2025-10-24T15:00:00+07:00:30  | 2025-10-24T15:00:00+07:00:30",
        "2025-10-24T15:00+07:00        | 2025-10-24T15:00:00+07:00",
        "2025-10-24t08:00:00.000z      | 2025-10-24T08:00:00.000Z",
        "2025-10-24T08:00:00+0000      | 2025-10-24T08:00:00+00:00",
        "+12025-10-23T10:00:00Z        | +12025-10-23T10:00:00Z",
      })
  void normalize_keepsOffsetAndFractionDigits_andTheInstant(String text, String kept) {
    assertEquals(kept, IsoTimestamps.normalize(text), text);
    assertEquals(IsoTimestamps.parseWithJavaTime(text), IsoTimestamps.parse(kept), text);
    assertEquals(kept, IsoTimestamps.normalize(kept), "a kept spelling is kept again");
  }

  @Test
  void normalize_fastPathShapes_agreeWithTheJavaTimePath() {
    Random random = new Random(11);
    for (int k = 0; k < 20_000; k++) {
      long second = 1_000_000_000L + random.nextInt(1_000_000_000);
      ZoneOffset offset = ZoneOffset.ofTotalSeconds((random.nextInt(35) - 17) * 3600);
      String text =
          Instant.ofEpochSecond(second)
              .atOffset(offset)
              .format(DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss"));
      int fraction = random.nextInt(10);
      if (fraction > 0) {
        text += "." + String.format("%09d", random.nextInt(1_000_000_000)).substring(0, fraction);
      }
      text +=
          switch (k % 3) {
            case 0 -> "";
            case 1 -> "Z";
            default -> offset.getId().equals("Z") ? "+00:00" : offset.getId();
          };
      text = k % 2 == 0 ? text.replace('T', ' ') : text;
      String fast = IsoTimestamps.normalize(text);
      // Lower case is never on the fast path, so this runs the java.time path on the same text.
      String slow = IsoTimestamps.normalize(text.replace('T', 't').replace(' ', 't'));
      assertEquals(slow, fast, text);
      assertEquals(IsoTimestamps.parse(text), IsoTimestamps.parse(fast), text);
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "2025-02-29T10:00:00Z",
        "2025-13-01T10:00:00Z",
        "2025-00-10T10:00:00Z",
        "2025-10-32T10:00:00Z",
        "2025-10-23T24:00:00Z",
        "2025-10-23T23:60:00Z",
        "2025-10-23T23:59:60Z",
        "2025-10-23T10:00:00.1234567890Z",
        "2025-10-23T10:00:00+19:00",
        "2025-10-23T10:00:00+07:60",
        "2025-10-23T10:00:00Q",
        "2025-1a-23T10:00:00Z",
        "2025-10-23X10:00:00Z",
        "yesterday",
        "",
      })
  void parse_invalid_isRefusedByBothPaths(String text) {
    assertNull(IsoTimestamps.parseCommon(text), text);
    assertThrows(DateTimeParseException.class, () -> IsoTimestamps.parse(text), text);
    assertThrows(DateTimeParseException.class, () -> IsoTimestamps.normalize(text), text);
  }
}
