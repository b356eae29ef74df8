package dev.aggregator.sqlite;

/**
 * The 64-bit hash of a key {@code (topic, eventId)}. Only a hint for {@link KeyIndex}: equal keys
 * always hash equal, different keys collide rarely (about n²/2⁶⁵ pairs among n keys) but may, so
 * every match is confirmed against the stored key. Tests replace it with a colliding one to prove
 * that dedup stays exact.
 */
@FunctionalInterface
interface KeyHasher {

  long hash(String topic, String eventId);

  /**
   * FNV-1a over the UTF-16 chars, finished with MurmurHash3's mixer. The seed is random per store
   * and persisted with the hashes, so nobody can prepare keys that collide in every store.
   */
  static KeyHasher seeded(long seed) {
    return (topic, eventId) -> {
      // Lengths go in first, so ("ab", "c") and ("a", "bc") differ without a separator character.
      long h = mix(seed ^ ((long) topic.length() << 32 | eventId.length()));
      for (int i = 0; i < topic.length(); i++) {
        h = (h ^ topic.charAt(i)) * 0x100000001b3L;
      }
      h = mix(h);
      for (int i = 0; i < eventId.length(); i++) {
        h = (h ^ eventId.charAt(i)) * 0x100000001b3L;
      }
      return mix(h);
    };
  }

  /** MurmurHash3's 64-bit finalizer: every input bit affects every output bit. */
  private static long mix(long h) {
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return h;
  }
}
