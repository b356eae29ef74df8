package dev.aggregator.redis;

import dev.aggregator.AggregatorException;

/** Redis could not be reached or refused a command; the message names the stream. */
public final class RedisTransportException extends AggregatorException {
  private static final long serialVersionUID = 1L;

  /** An exception that says what failed, with its cause. */
  public RedisTransportException(String message, Throwable cause) {
    super(message, cause);
  }
}
