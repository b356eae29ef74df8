package dev.aggregator.internal;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The WARN lines of payload conflicts: one per conflict, naming topic and event id, but at most
 * {@code perSecond} a second, so that a publisher retrying a whole stream with changed payloads
 * cannot flood the log. A line after a quiet spell says how many were not logged before it. Writer
 * thread only.
 */
final class ConflictWarnings {
  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

  private final int perSecond;
  private final LongSupplier nanoTime;
  private long windowStart;
  private int inWindow;
  private long notLogged;

  ConflictWarnings(int perSecond, LongSupplier nanoTime) {
    this.perSecond = perSecond;
    this.nanoTime = nanoTime;
    this.windowStart = nanoTime.getAsLong() - SECOND;
  }

  /** The line to log for this conflict, or null if the limit of this second is reached. */
  String line(String store, String topic, String eventId) {
    long now = nanoTime.getAsLong();
    if (now - windowStart >= SECOND) {
      windowStart = now;
      inWindow = 0;
    }
    if (inWindow == perSecond) {
      notLogged++;
      return null;
    }
    inWindow++;
    String line =
        store
            + " - payload conflict: event '"
            + eventId
            + "' of topic '"
            + topic
            + "' was published again with a different payload; the stored event is kept";
    if (notLogged > 0) {
      line += " (" + notLogged + " earlier conflicts were not logged, at most " + perSecond + "/s)";
      notLogged = 0;
    }
    return line;
  }
}
