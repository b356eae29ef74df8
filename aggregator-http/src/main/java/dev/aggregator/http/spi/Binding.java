package dev.aggregator.http.spi;

import java.net.InetSocketAddress;

/** A transport serving on an address, until {@link #close()}. */
public interface Binding extends AutoCloseable {

  /** The address bound: the one asked for, with the port the system chose for port 0. */
  InetSocketAddress address();

  /** What serves the connections, for the start-up line: {@code "Netty, 1 I/O thread"}. */
  String description();

  /**
   * Stops listening and closes every connection. Called once the API has answered the requests in
   * flight (or given up waiting for them). Idempotent.
   */
  @Override
  void close();
}
