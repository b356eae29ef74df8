package dev.aggregator;

/** The aggregator was closed: it accepts no more events. */
public final class AggregatorClosedException extends AggregatorException {
  private static final long serialVersionUID = 1L;

  /** An exception with the reason the call was refused. */
  public AggregatorClosedException(String message) {
    super(message);
  }
}
