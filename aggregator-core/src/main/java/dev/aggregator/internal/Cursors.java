package dev.aggregator.internal;

/**
 * Page cursors of stores that number their events with an ascending sequence: the cursor is the
 * sequence number of the last event of the page. Opaque to users; they only hand it back.
 */
public final class Cursors {
  private Cursors() {}

  /** The cursor after the event numbered {@code seq}. */
  public static String encode(long seq) {
    return Long.toString(seq);
  }

  /**
   * The sequence number in {@code cursor}.
   *
   * @throws IllegalArgumentException naming the cursor if it was not made by {@link #encode}
   */
  public static long decode(String cursor) {
    try {
      long seq = Long.parseLong(cursor);
      if (seq >= 0) {
        return seq;
      }
    } catch (NumberFormatException e) {
      // fall through to the one message below
    }
    throw new IllegalArgumentException(
        "cursor '" + cursor + "' is not a cursor returned by this store");
  }
}
