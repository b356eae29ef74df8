package dev.aggregator.internal;

import java.time.Instant;

/**
 * Page cursors of stores that number their events with an ascending sequence: in ingest order the
 * cursor is the sequence number of the last event of the page; in timestamp order it is that
 * event's instant and sequence number, {@code t<epochSecond>_<nano>_<seq>}, so the two orders never
 * take each other's cursors. Opaque to users; they only hand it back.
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

  /** The place of an event in timestamp order: its instant, then its sequence number. */
  public record Position(Instant timestamp, long seq) implements Comparable<Position> {
    @Override
    public int compareTo(Position o) {
      int c = timestamp.compareTo(o.timestamp);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }

  /** The timestamp-order cursor after {@code last}. */
  public static String encode(Position last) {
    Instant t = last.timestamp();
    return "t" + t.getEpochSecond() + "_" + t.getNano() + "_" + last.seq();
  }

  /**
   * The position in a timestamp-order cursor.
   *
   * @throws IllegalArgumentException naming the cursor if it was not made by {@link
   *     #encode(Position)}
   */
  public static Position decodePosition(String cursor) {
    String[] parts = cursor.startsWith("t") ? cursor.substring(1).split("_", -1) : new String[0];
    if (parts.length == 3) {
      try {
        long second = Long.parseLong(parts[0]);
        int nano = Integer.parseInt(parts[1]);
        long seq = Long.parseLong(parts[2]);
        if (nano >= 0 && nano < 1_000_000_000 && seq >= 0) {
          return new Position(Instant.ofEpochSecond(second, nano), seq);
        }
      } catch (NumberFormatException | java.time.DateTimeException e) {
        // fall through to the one message below
      }
    }
    throw new IllegalArgumentException(
        "cursor '" + cursor + "' is not a cursor returned by this store");
  }
}
