package dev.aggregator.server;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The one owner of what the server opens: each part is added once it is open, and {@link #close()}
 * closes them in the reverse order, once, whether the server is stopping or failed to start half
 * way. A part that fails to close does not keep the others open; the first failure is rethrown with
 * the later ones suppressed.
 */
final class Parts implements AutoCloseable {
  private final Deque<AutoCloseable> open = new ArrayDeque<>();

  /** Takes {@code part} into ownership and returns it. */
  synchronized <T extends AutoCloseable> T add(T part) {
    open.push(part);
    return part;
  }

  @Override
  public synchronized void close() {
    RuntimeException failure = null;
    while (!open.isEmpty()) {
      AutoCloseable part = open.pop();
      try {
        part.close();
      } catch (Exception e) {
        RuntimeException wrapped =
            e instanceof RuntimeException r ? r : new IllegalStateException(e.getMessage(), e);
        if (failure == null) {
          failure = wrapped;
        } else {
          failure.addSuppressed(wrapped);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
