package dev.aggregator.server;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * {@code --retention}'s value: a whole number and a unit, {@code 90s}, {@code 15m}, {@code 12h},
 * {@code 7d} (or an ISO-8601 duration, {@code PT36H}); blank (an empty environment variable) for no
 * retention.
 */
final class RetentionOption implements CommandLine.ITypeConverter<Duration> {
  private static final Pattern SHORT = Pattern.compile("(\\d{1,12})\\s*(s|m|h|d)");

  @Override
  public Duration convert(String value) {
    return parse(value);
  }

  /** The duration {@code value} names, or {@code null} for blank. */
  static Duration parse(String value) {
    String v = value.strip().toLowerCase(Locale.ROOT);
    if (v.isEmpty()) {
      return null;
    }
    Duration d;
    Matcher m = SHORT.matcher(v);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      d =
          switch (m.group(2)) {
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
          };
    } else {
      try {
        d = Duration.parse(value.strip().toUpperCase(Locale.ROOT));
      } catch (RuntimeException e) {
        throw new CommandLine.TypeConversionException(
            "must be a number and a unit (90s, 15m, 12h, 7d), was '" + value + "'");
      }
    }
    if (d.isZero() || d.isNegative()) {
      throw new CommandLine.TypeConversionException("must be positive, was '" + value + "'");
    }
    return d;
  }
}
