package dev.aggregator;

/**
 * The store failed: it could not be opened, or a batch could not be committed (and was rolled back,
 * so none of its events is stored). The message names the store and, where there is one, the
 * database's error code.
 */
public final class StoreException extends AggregatorException {
  private static final long serialVersionUID = 1L;

  /** An exception that says what failed. */
  public StoreException(String message) {
    super(message);
  }

  /** An exception that says what failed, with its cause. */
  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
