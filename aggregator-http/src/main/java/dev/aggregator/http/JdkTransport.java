package dev.aggregator.http;

import com.sun.net.httpserver.HttpServer;
import dev.aggregator.http.spi.Binding;
import dev.aggregator.http.spi.HttpTransport;
import dev.aggregator.http.spi.RequestHandler;
import dev.aggregator.http.spi.TransportSettings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicBoolean;

/*
 * The default transport: the JDK's own com.sun.net.httpserver, so an application that embeds the
 * API carries no HTTP library. Its dispatcher thread accepts connections and hands each request to
 * the workers, where the head is read, then the body (JdkExchangeHandler), and the request is
 * handed to the API; a durable publish frees its worker at once and is answered from a worker when
 * the commit completes, so no thread waits per publish. One request at a time per connection: the
 * JDK starts a connection's next request only after the answer to the previous one, so pipelined
 * requests are answered in order.
 *
 * Limits: the body size is the handler's (413 from Content-Length, or as a chunked body passes the
 * limit); slow clients are cut off by the ExchangeWatchdog; idle connections and the connection
 * cap are the JDK server's own, JVM-wide settings (JdkServerProperties).
 */
/** The API on the JDK's {@code com.sun.net.httpserver}. */
final class JdkTransport implements HttpTransport {

  @Override
  public String name() {
    return "jdk";
  }

  @Override
  public Binding bind(TransportSettings settings, RequestHandler api) throws IOException {
    JdkServerProperties.apply(settings.requestTimeout(), settings.maxConnections());
    HttpServer server = HttpServer.create(settings.address(), settings.backlog());
    ExchangeWatchdog watchdog = new ExchangeWatchdog(settings.requestTimeout());
    server.setExecutor(watchdog.watching(settings.workers()));
    server.createContext(
        "/",
        new JdkExchangeHandler(api, "", settings.maxBodyBytes(), settings.workers(), watchdog));
    server.start();
    AtomicBoolean closed = new AtomicBoolean();
    return new Binding() {
      @Override
      public InetSocketAddress address() {
        return server.getAddress();
      }

      @Override
      public String description() {
        return "JDK HttpServer";
      }

      @Override
      public void close() {
        if (closed.compareAndSet(false, true)) {
          server.stop(0); // closes every connection; the API has drained the requests in flight
          watchdog.close();
        }
      }
    };
  }
}
