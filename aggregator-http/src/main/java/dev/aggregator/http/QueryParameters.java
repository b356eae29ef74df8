package dev.aggregator.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.aggregator.EventJson;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The query string of a request, decoded, and the checks of its values: a bad value is a 422 that
 * names the parameter and its rule.
 */
final class QueryParameters {
  /** An offset at the end of a timestamp whose + was decoded as a space. */
  private static final Pattern UNESCAPED_OFFSET = Pattern.compile(" (\\d\\d(?::?\\d\\d)?)$");

  private QueryParameters() {}

  /** The decoded parameters; the first value of a name given twice wins. */
  static Map<String, String> parse(String raw) {
    Map<String, String> q = new HashMap<>();
    if (raw == null || raw.isEmpty()) {
      return q;
    }
    for (String pair : raw.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq);
      String v = eq < 0 ? "" : pair.substring(eq + 1);
      try {
        q.putIfAbsent(
            URLDecoder.decode(k, StandardCharsets.UTF_8),
            URLDecoder.decode(v, StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        throw new HttpError(
            400,
            "bad_request",
            "query parameter "
                + LogSafe.escape(k)
                + " is not percent-encoded correctly: a % must be followed by two hex digits");
      }
    }
    return q;
  }

  /** 422 for parameter {@code name}, which breaks {@code rule}. */
  static HttpError invalid(String name, String rule) {
    ArrayNode details = JsonNodeFactory.instance.arrayNode();
    details.addObject().put("field", name).put("rule", rule);
    return new HttpError(
        422, "validation_failed", "query parameter " + name + " " + rule, details, Map.of());
  }

  /** An integer parameter in {@code [min, max]}, or {@code dflt} when absent. */
  static int intParameter(Map<String, String> q, String name, int dflt, int min, int max) {
    String v = q.get(name);
    if (v == null) {
      return dflt;
    }
    try {
      int n = Integer.parseInt(v.strip());
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // one message below
    }
    throw invalid(name, "must be an integer between " + min + " and " + max + ", was '" + v + "'");
  }

  /**
   * A timestamp parameter as events spell theirs (ISO-8601, offset optional, naive is UTC), or null
   * when absent. A {@code +} of an offset sent unescaped arrives decoded as a space, as a query
   * string encodes spaces; it is read as the {@code +} it was.
   */
  static Instant timestamp(Map<String, String> q, String name) {
    String v = q.get(name);
    if (v == null) {
      return null;
    }
    Matcher offset = UNESCAPED_OFFSET.matcher(v);
    String text = offset.find() && offset.start() > 10 ? offset.replaceFirst("+$1") : v;
    try {
      return EventJson.parseTimestamp(text);
    } catch (DateTimeParseException e) {
      throw invalid(
          name,
          "must be an ISO-8601 date-time such as 2025-10-23T10:00:00Z (offset optional, naive is"
              + " UTC), was '"
              + v
              + "'");
    }
  }

  /** A required, non-blank parameter. */
  static String required(Map<String, String> q, String name) {
    String v = q.get(name);
    if (v == null) {
      throw invalid(name, "is required");
    }
    if (v.isBlank()) {
      throw invalid(name, "must not be blank");
    }
    return v;
  }
}
