package dev.aggregator;

/**
 * The queue has no room for the events of a publish call; nothing of the call was queued. Retry
 * later: this is backpressure, not a failure of the aggregator.
 */
public final class QueueFullException extends AggregatorException {
  private static final long serialVersionUID = 1L;

  private final int depth;
  private final int capacity;
  private final int requested;

  /** An exception naming the queue's depth and capacity and the size of the rejected call. */
  public QueueFullException(int depth, int capacity, int requested) {
    super(
        "queue full: "
            + depth
            + " of "
            + capacity
            + " events queued, no room for "
            + requested
            + " more; retry later");
    this.depth = depth;
    this.capacity = capacity;
    this.requested = requested;
  }

  /** Events queued when the call was rejected. */
  public int depth() {
    return depth;
  }

  /** The queue's capacity in events. */
  public int capacity() {
    return capacity;
  }

  /** The number of events of the rejected call. */
  public int requested() {
    return requested;
  }
}
