package dev.aggregator.http;

/**
 * Makes a request-supplied value safe to put in a log line: control characters (CR, LF, ESC, NUL,
 * DEL, the C1 range, and the Unicode line and paragraph separators) become {@code \n}, {@code \r},
 * {@code \t} or {@code \\uXXXX}, so a client cannot forge log lines or send terminal escape
 * sequences to whoever reads the log. Long values are cut, so one request cannot flood the log.
 */
final class LogSafe {
  /** The most characters of one value that go to the log. */
  static final int MAX_CHARS = 512;

  private LogSafe() {}

  static String escape(String s) {
    if (s == null) {
      return "null";
    }
    int n = Math.min(s.length(), MAX_CHARS);
    int i = 0;
    while (i < n && !needsEscape(s.charAt(i))) {
      i++;
    }
    if (i == n && s.length() <= MAX_CHARS) {
      return s; // the usual case: nothing to do, no copy
    }
    StringBuilder b = new StringBuilder(n + 16).append(s, 0, i);
    for (; i < n; i++) {
      char c = s.charAt(i);
      if (!needsEscape(c)) {
        b.append(c);
      } else if (c == '\n') {
        b.append("\\n");
      } else if (c == '\r') {
        b.append("\\r");
      } else if (c == '\t') {
        b.append("\\t");
      } else {
        b.append(String.format("\\u%04x", (int) c));
      }
    }
    if (s.length() > MAX_CHARS) {
      b.append("...(").append(s.length()).append(" chars)");
    }
    return b.toString();
  }

  private static boolean needsEscape(char c) {
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029';
  }
}
