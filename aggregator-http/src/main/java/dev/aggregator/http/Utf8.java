package dev.aggregator.http;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Strict UTF-8 check of a request body. Jackson's UTF-8 reader lets some malformed sequences
 * through (an overlong {@code C0 AF} is read as {@code /}), so the body is checked with the JDK's
 * decoder first: overlong forms, encoded surrogates, truncated sequences and bytes that never start
 * a character are refused as invalid JSON (RFC 8259 requires UTF-8). The check decodes into a small
 * reused buffer, so it allocates almost nothing whatever the body size.
 */
final class Utf8 {
  private Utf8() {}

  static void check(byte[] body) {
    // Jackson guesses UTF-16 or UTF-32 from NUL bytes among the first four (RFC 4627's rule) and
    // then fails with an IOException that is not a JSON error. A NUL byte can start no JSON text
    // in UTF-8, so such a body is refused here and Jackson always reads UTF-8.
    for (int i = 0; i < Math.min(4, body.length); i++) {
      if (body[i] == 0) {
        throw new HttpError(
            400,
            "invalid_json",
            "request body is not valid JSON: a NUL byte at offset "
                + i
                + " (the body must be UTF-8)");
      }
    }
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(body);
    CharBuffer out = CharBuffer.allocate(Math.min(body.length, 8192) + 2);
    while (true) {
      CoderResult r = decoder.decode(in, out, true);
      if (r.isError()) {
        throw invalid(in.position());
      }
      if (r.isUnderflow()) {
        break;
      }
      out.clear(); // overflow: the decoded text is not needed, only the verdict
    }
    out.clear();
    CoderResult end = decoder.flush(out);
    if (end.isError()) {
      throw invalid(in.position());
    }
  }

  private static HttpError invalid(int offset) {
    return new HttpError(
        400,
        "invalid_json",
        "request body is not valid JSON: it is not valid UTF-8 at byte offset " + offset);
  }
}
