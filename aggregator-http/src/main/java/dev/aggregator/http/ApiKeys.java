package dev.aggregator.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.function.Function;

/**
 * The configured API keys and the check of a request against them. Keys are kept as SHA-256 digests
 * and compared with {@link MessageDigest#isEqual}, which takes the same time whatever the content:
 * neither the length nor a matching prefix of a key leaks through response times.
 */
final class ApiKeys {
  private final List<byte[]> digests;

  ApiKeys(List<String> keys) {
    this.digests = keys.stream().map(ApiKeys::sha256).toList();
  }

  boolean enabled() {
    return !digests.isEmpty();
  }

  /** Whether the request carries one of the keys, as a Bearer token or in X-API-Key. */
  boolean allows(Function<String, String> headers) {
    String presented = presented(headers);
    if (presented == null) {
      return false;
    }
    byte[] digest = sha256(presented);
    boolean match = false;
    for (byte[] d : digests) {
      // No early exit: every key is compared, so the time does not tell which one matched.
      match |= MessageDigest.isEqual(d, digest);
    }
    return match;
  }

  private static String presented(Function<String, String> headers) {
    String auth = headers.apply("Authorization");
    if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return auth.substring(7).strip();
    }
    String key = headers.apply("X-API-Key");
    return key == null ? null : key.strip();
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java runtime", e);
    }
  }
}
