package dev.aggregator.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ResponseReaderTest {
  private static ByteBuffer bytes(String s) {
    return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
  }

  /** Feeds {@code response} one byte at a time; true only with the last byte. */
  private static ResponseReader byteByByte(String response) throws IOException {
    ResponseReader r = new ResponseReader();
    byte[] b = response.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < b.length; i++) {
      boolean done = r.feed(ByteBuffer.wrap(b, i, 1));
      assertEquals(i == b.length - 1, done, "complete after byte " + i + " of " + b.length);
    }
    return r;
  }

  @Test
  void contentLength_completeOnlyWithTheLastByte() throws IOException {
    ResponseReader r =
        byteByByte("HTTP/1.1 200 OK\r\ncontent-length: 11\r\nX-Request-Id: a\r\n\r\n{\"ok\":true}");
    assertEquals(200, r.status());
    assertEquals("{\"ok\":true}", r.body());
    assertFalse(r.close());
  }

  @Test
  void chunked_withExtensionAndTrailer_joinsTheChunks() throws IOException {
    ResponseReader r =
        byteByByte(
            "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n"
                + "Connection: close\r\n\r\n4;x=y\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\nT: v\r\n\r\n");
    assertEquals(503, r.status());
    assertEquals("{\"a\":1}", r.body());
    assertTrue(r.close());
  }

  @Test
  void twoResponsesInOneRead_secondKeptForTheNextCall() throws IOException {
    ResponseReader r = new ResponseReader();
    String one = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na";
    String two = "HTTP/1.1 422 Unprocessable Entity\r\nContent-Length: 2\r\n\r\nbc";
    assertTrue(r.feed(bytes(one + two.substring(0, 10))));
    assertEquals("a", r.body());
    assertTrue(r.feed(bytes(two.substring(10))));
    assertEquals(422, r.status());
    assertEquals("bc", r.body());
  }

  @Test
  void notHttp_isAnError() {
    assertThrows(IOException.class, () -> new ResponseReader().feed(bytes("SSH-2.0\r\n\r\n")));
  }
}
