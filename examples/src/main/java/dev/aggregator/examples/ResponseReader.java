package dev.aggregator.examples;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads HTTP/1.1 responses from bytes as they arrive on a non-blocking connection: the status, a
 * body framed by Content-Length or chunked encoding, and whether the server closes the connection.
 * Only what answers to keep-alive POSTs need.
 */
final class ResponseReader {
  private byte[] buf = new byte[8192];
  private int len;

  private int status;
  private boolean close;
  private String body = "";

  /**
   * Takes the bytes {@code in} has left; returns true once a whole response is in, whose fields are
   * then readable until the next call.
   *
   * @throws IOException if the bytes are not an HTTP/1.x response
   */
  boolean feed(ByteBuffer in) throws IOException {
    int n = in.remaining();
    if (len + n > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
    }
    in.get(buf, len, n);
    len += n;
    return parse();
  }

  /** Forgets what was read: the connection it came from is closed. */
  void reset() {
    len = 0;
  }

  int status() {
    return status;
  }

  /** Whether the server said {@code Connection: close}. */
  boolean close() {
    return close;
  }

  String body() {
    return body;
  }

  private boolean parse() throws IOException {
    int headEnd = indexOf(buf, len, 0, "\r\n\r\n");
    if (headEnd < 0) {
      return false;
    }
    String head = new String(buf, 0, headEnd, StandardCharsets.ISO_8859_1);
    if (!head.startsWith("HTTP/1.") || head.length() < 12) {
      throw new IOException("not an HTTP response: " + head.lines().findFirst().orElse(""));
    }
    int code;
    try {
      code = Integer.parseInt(head.substring(9, 12));
    } catch (NumberFormatException e) {
      throw new IOException("no status in: " + head.lines().findFirst().orElse(""));
    }
    long length = 0;
    boolean chunked = false;
    boolean closes = false;
    // The header lines, scanned in place: head.split("\r\n") compiled a regex per response, and
    // with the names lower-cased and trimmed it was a fifth of the load generator's CPU, taken
    // from the server it measures on a shared machine.
    for (int from = head.indexOf("\r\n") + 2, to; from < head.length(); from = to + 2) {
      to = head.indexOf("\r\n", from);
      if (to < 0) {
        to = head.length();
      }
      int colon = head.indexOf(':', from);
      if (colon < 0 || colon > to) {
        continue;
      }
      if (isName(head, from, colon, "content-length")) {
        length = Long.parseLong(head.substring(colon + 1, to).trim());
      } else if (isName(head, from, colon, "transfer-encoding")) {
        chunked = head.substring(colon + 1, to).trim().equalsIgnoreCase("chunked");
      } else if (isName(head, from, colon, "connection")) {
        closes = head.substring(colon + 1, to).trim().equalsIgnoreCase("close");
      }
    }
    int bodyStart = headEnd + 4;
    int end;
    byte[] content;
    if (chunked) {
      ChunkedBody c = chunked(bodyStart);
      if (c == null) {
        return false;
      }
      end = c.end;
      content = c.content;
    } else {
      if (len - bodyStart < length) {
        return false;
      }
      end = bodyStart + (int) length;
      content = Arrays.copyOfRange(buf, bodyStart, end);
    }
    status = code;
    close = closes;
    body = new String(content, StandardCharsets.UTF_8);
    System.arraycopy(buf, end, buf, 0, len - end); // anything after it belongs to the next
    len -= end;
    return true;
  }

  /** Whether the header name from {@code from} to {@code colon} is {@code name}, in any case. */
  private static boolean isName(String head, int from, int colon, String name) {
    return colon - from == name.length() && head.regionMatches(true, from, name, 0, name.length());
  }

  private record ChunkedBody(byte[] content, int end) {}

  /** The chunked body starting at {@code from}, or null while it is incomplete. */
  private ChunkedBody chunked(int from) throws IOException {
    java.io.ByteArrayOutputStream content = new java.io.ByteArrayOutputStream();
    int at = from;
    while (true) {
      int eol = indexOf(buf, len, at, "\r\n");
      if (eol < 0) {
        return null;
      }
      String size = new String(buf, at, eol - at, StandardCharsets.ISO_8859_1);
      int semi = size.indexOf(';');
      int n;
      try {
        n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
      } catch (NumberFormatException e) {
        throw new IOException("bad chunk size: " + size);
      }
      at = eol + 2;
      if (n == 0) {
        // trailers, then an empty line
        while (true) {
          int t = indexOf(buf, len, at, "\r\n");
          if (t < 0) {
            return null;
          }
          boolean empty = t == at;
          at = t + 2;
          if (empty) {
            return new ChunkedBody(content.toByteArray(), at);
          }
        }
      }
      if (len - at < n + 2) {
        return null;
      }
      content.write(buf, at, n);
      at += n + 2;
    }
  }

  private static int indexOf(byte[] b, int len, int from, String what) {
    byte first = (byte) what.charAt(0);
    outer:
    for (int i = from; i <= len - what.length(); i++) {
      if (b[i] != first) {
        continue;
      }
      for (int k = 1; k < what.length(); k++) {
        if (b[i + k] != (byte) what.charAt(k)) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
