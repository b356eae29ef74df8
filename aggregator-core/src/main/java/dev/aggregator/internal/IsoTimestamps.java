package dev.aggregator.internal;

import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.time.temporal.ChronoField;
import java.time.temporal.TemporalAccessor;

/**
 * ISO-8601 timestamps as the wire form and the stores read and write them (see {@code EventJson}
 * for the accepted forms).
 *
 * <p>Every event goes through one parse (on a request thread) and two formats (on the single
 * writer), so both have a hand-written fast path for the common shape: in JFR of the HTTP server
 * under 100-event batches, {@code DateTimeFormatter.parse} (a HashMap-backed {@code Parsed} per
 * call) was 30% of the request threads' samples, and {@code Instant.toString} about 10% of the
 * writer's. A fast path only ever answers for text it fully understands; anything else (other
 * offsets, lower case, missing seconds, out-of-range fields, errors) goes to java.time, so results
 * and error messages are java.time's. {@code IsoTimestampsTest} checks both paths agree.
 */
public final class IsoTimestamps {
  private static final DateTimeFormatter JAVA_TIME =
      new DateTimeFormatterBuilder()
          .parseCaseInsensitive()
          .append(DateTimeFormatter.ISO_LOCAL_DATE)
          .appendLiteral('T')
          .append(DateTimeFormatter.ISO_LOCAL_TIME)
          .optionalStart()
          .appendOffset("+HH:MM:ss", "Z")
          .optionalEnd()
          .optionalStart()
          .appendOffset("+HHMM", "Z")
          .optionalEnd()
          .optionalStart()
          .appendOffset("+HH", "Z")
          .optionalEnd()
          .toFormatter()
          // Not the default SMART resolver, which reads February 29 of 2025 as February 28 and
          // 24:00 as the next day's midnight: a publisher's typo must not become another time.
          .withResolverStyle(ResolverStyle.STRICT);

  private static final DateTimeFormatter HOURS_MINUTES_SECONDS =
      DateTimeFormatter.ofPattern("HH:mm:ss");

  /**
   * 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the years Instant.toString writes as 4 digits.
   */
  private static final long FIRST_FOUR_DIGIT_SECOND = -62_167_219_200L;

  private static final long LAST_FOUR_DIGIT_SECOND = 253_402_300_799L;

  private IsoTimestamps() {}

  /**
   * Parses a timestamp: {@code Z}, an offset or none (UTC); {@code T} or a space between date and
   * time.
   *
   * @throws DateTimeParseException naming the text if it is not such a timestamp
   */
  public static Instant parse(String text) {
    Instant common = parseCommon(text);
    return common != null ? common : parseWithJavaTime(text);
  }

  /**
   * The spelling a timestamp is kept and answered in: the date, {@code T}, the time with seconds,
   * the fraction with as many digits as {@code text} has, and the offset {@code text} has as {@code
   * Z} or {@code ±HH:MM[:ss]} ({@code Z} for none: a naive timestamp is UTC). So {@code 2025-10-24
   * 15:00:00.1234567+0700} is kept as {@code 2025-10-24T15:00:00.1234567+07:00}, and {@link #parse}
   * of the result is the instant of {@code text}. Text in that spelling already, the usual case, is
   * returned as it is.
   *
   * @throws DateTimeParseException naming the text if it is not a timestamp {@link #parse} accepts
   */
  public static String normalize(String text) {
    if (parseCommon(text) != null) {
      // The fast path's shape differs from the kept spelling only in a space for T and a missing Z.
      int n = text.length();
      char last = text.charAt(n - 1);
      boolean naive = last != 'Z' && text.charAt(n - 6) != '+' && text.charAt(n - 6) != '-';
      if (text.charAt(10) == 'T' && !naive) {
        return text;
      }
      StringBuilder b = new StringBuilder(n + 1).append(text);
      b.setCharAt(10, 'T');
      return naive ? b.append('Z').toString() : b.toString();
    }
    String t = text.strip();
    if (t.length() > 10 && t.charAt(10) == ' ') {
      t = t.substring(0, 10) + 'T' + t.substring(11);
    }
    TemporalAccessor parsed = JAVA_TIME.parse(t);
    LocalDateTime local = LocalDateTime.from(parsed);
    int fractionDigits = 0;
    int dot = t.indexOf('.', 11);
    if (dot >= 0) {
      while (dot + 1 + fractionDigits < t.length() && isDigit(t.charAt(dot + 1 + fractionDigits))) {
        fractionDigits++;
      }
    }
    StringBuilder b = new StringBuilder(40);
    b.append(local.toLocalDate()).append('T');
    b.append(local.toLocalTime().format(HOURS_MINUTES_SECONDS));
    if (fractionDigits > 0) {
      String nanos = String.valueOf(1_000_000_000 + local.getNano()).substring(1);
      b.append('.').append(nanos, 0, fractionDigits);
    }
    if (!parsed.isSupported(ChronoField.OFFSET_SECONDS)) {
      return b.append('Z').toString();
    }
    ZoneOffset offset = ZoneOffset.ofTotalSeconds(parsed.get(ChronoField.OFFSET_SECONDS));
    char sign = t.charAt(t.length() - 1);
    if (offset.getTotalSeconds() == 0 && sign != 'Z' && sign != 'z') {
      return b.append("+00:00")
          .toString(); // an explicit zero offset stays one, as on the fast path
    }
    return b.append(offset.getId()).toString();
  }

  /** Writes {@code instant} exactly as {@link Instant#toString()} does. */
  public static String format(Instant instant) {
    long second = instant.getEpochSecond();
    if (second < FIRST_FOUR_DIGIT_SECOND || second > LAST_FOUR_DIGIT_SECOND) {
      return instant.toString();
    }
    int nano = instant.getNano();
    LocalDateTime t = LocalDateTime.ofEpochSecond(second, 0, ZoneOffset.UTC);
    // Like Instant.toString: the fraction in groups of three digits, as few as are needed.
    int fractionDigits = nano == 0 ? 0 : nano % 1_000_000 == 0 ? 3 : nano % 1_000 == 0 ? 6 : 9;
    byte[] b = new byte[20 + (fractionDigits == 0 ? 0 : 1 + fractionDigits)];
    put(b, 0, t.getYear(), 4);
    b[4] = '-';
    put(b, 5, t.getMonthValue(), 2);
    b[7] = '-';
    put(b, 8, t.getDayOfMonth(), 2);
    b[10] = 'T';
    put(b, 11, t.getHour(), 2);
    b[13] = ':';
    put(b, 14, t.getMinute(), 2);
    b[16] = ':';
    put(b, 17, t.getSecond(), 2);
    if (fractionDigits > 0) {
      b[19] = '.';
      put(b, 20, nano / pow10(9 - fractionDigits), fractionDigits);
    }
    b[b.length - 1] = 'Z';
    return new String(b, StandardCharsets.ISO_8859_1);
  }

  /**
   * The fast path: {@code yyyy-MM-dd(T| )HH:mm:ss[.f{1,9}][Z|±HH:MM]} with fields in range, or null
   * to let java.time decide.
   */
  static Instant parseCommon(String s) {
    int n = s.length();
    if (n < 19
        || s.charAt(4) != '-'
        || s.charAt(7) != '-'
        || (s.charAt(10) != 'T' && s.charAt(10) != ' ')
        || s.charAt(13) != ':'
        || s.charAt(16) != ':') {
      return null;
    }
    int year = digits(s, 0, 4);
    int month = digits(s, 5, 2);
    int day = digits(s, 8, 2);
    int hour = digits(s, 11, 2);
    int minute = digits(s, 14, 2);
    int second = digits(s, 17, 2);
    if (year < 0 || month < 0 || day < 0 || hour > 23 || minute > 59 || second > 59) {
      return null; // also when a field is not digits (-1)
    }
    int i = 19;
    int nano = 0;
    if (i < n && s.charAt(i) == '.') {
      int start = ++i;
      while (i < n && i - start < 9 && isDigit(s.charAt(i))) {
        nano = nano * 10 + (s.charAt(i) - '0');
        i++;
      }
      if (i == start || (i < n && isDigit(s.charAt(i)))) {
        return null;
      }
      nano *= pow10(9 - (i - start));
    }
    int offsetSeconds;
    if (i == n || (i == n - 1 && s.charAt(i) == 'Z')) {
      offsetSeconds = 0;
    } else if (i == n - 6 && (s.charAt(i) == '+' || s.charAt(i) == '-') && s.charAt(i + 3) == ':') {
      int offsetHours = digits(s, i + 1, 2);
      int offsetMinutes = digits(s, i + 4, 2);
      if (offsetHours < 0 || offsetHours > 17 || offsetMinutes < 0 || offsetMinutes > 59) {
        return null;
      }
      offsetSeconds = (s.charAt(i) == '-' ? -1 : 1) * (offsetHours * 3600 + offsetMinutes * 60);
    } else {
      return null;
    }
    long epochDay;
    try {
      epochDay = LocalDate.of(year, month, day).toEpochDay();
    } catch (DateTimeException e) {
      return null; // February 30 and the like: java.time words the error
    }
    long epochSecond = epochDay * 86_400 + hour * 3_600 + minute * 60 + second - offsetSeconds;
    return Instant.ofEpochSecond(epochSecond, nano);
  }

  /** The slow path, and the definition of what is accepted. */
  static Instant parseWithJavaTime(String text) {
    String t = text.strip();
    if (t.length() > 10 && t.charAt(10) == ' ') {
      t = t.substring(0, 10) + 'T' + t.substring(11);
    }
    TemporalAccessor parsed = JAVA_TIME.parse(t);
    LocalDateTime local = LocalDateTime.from(parsed);
    ZoneOffset offset =
        parsed.isSupported(ChronoField.OFFSET_SECONDS)
            ? ZoneOffset.ofTotalSeconds(parsed.get(ChronoField.OFFSET_SECONDS))
            : ZoneOffset.UTC;
    return local.toInstant(offset);
  }

  /** The value of {@code count} decimal digits at {@code from}, or -1 if one is not a digit. */
  private static int digits(String s, int from, int count) {
    int value = 0;
    for (int i = from; i < from + count; i++) {
      char c = s.charAt(i);
      if (!isDigit(c)) {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static void put(byte[] b, int at, int value, int width) {
    for (int i = at + width - 1; i >= at; i--) {
      b[i] = (byte) ('0' + value % 10);
      value /= 10;
    }
  }

  private static int pow10(int exponent) {
    int p = 1;
    for (int i = 0; i < exponent; i++) {
      p *= 10;
    }
    return p;
  }
}
