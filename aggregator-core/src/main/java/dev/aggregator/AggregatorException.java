package dev.aggregator;

/** The base of every exception the aggregator throws on purpose. */
public class AggregatorException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** An exception with a message that says what went wrong. */
  public AggregatorException(String message) {
    super(message);
  }

  /** An exception with a message and the failure that caused it. */
  public AggregatorException(String message, Throwable cause) {
    super(message, cause);
  }
}
