package dev.aggregator.http.spi;

import java.io.IOException;

/**
 * A way to carry the REST API over HTTP/1.1: it accepts connections, reads requests within the
 * limits of its {@link TransportSettings}, hands each to the {@link RequestHandler} (the API, the
 * same for every transport) and writes the one answer it gets back. {@code
 * dev.aggregator.http.AggregatorServer} uses the JDK's {@code com.sun.net.httpserver} unless it is
 * given another transport; {@code aggregator-netty} provides one on Netty.
 *
 * <p>A transport that should be found by {@link #name()} (the standalone server's {@code
 * --transport}, the test suites) is listed in {@code
 * META-INF/services/dev.aggregator.http.spi.HttpTransport}.
 */
public interface HttpTransport {

  /**
   * The transport's short name, as {@code --transport} takes it: {@code "jdk"}, {@code "netty"}.
   */
  String name();

  /**
   * Binds the address of {@code settings} and serves until the returned binding is closed.
   *
   * @throws IOException if the address cannot be bound
   */
  Binding bind(TransportSettings settings, RequestHandler api) throws IOException;
}
