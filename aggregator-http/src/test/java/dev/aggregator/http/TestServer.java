package dev.aggregator.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.aggregator.EventAggregator;
import dev.aggregator.EventPage;
import dev.aggregator.EventQuery;
import dev.aggregator.Outcome;
import dev.aggregator.http.spi.HttpTransport;
import dev.aggregator.store.DedupStore;
import dev.aggregator.store.ForwardingDedupStore;
import dev.aggregator.store.InMemoryDedupStore;
import dev.aggregator.store.PendingEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * A real server on port 0 around an aggregator, and an HTTP client for it. The suites run on the
 * transport named by {@code -Daggregator.test.transport} (the JDK's by default; aggregator-netty
 * runs them again with {@code netty}), or mounted on an application's own JDK server.
 */
final class TestServer implements AutoCloseable {
  static final ObjectMapper MAPPER = new ObjectMapper();

  /** The transport under test. */
  static final String TRANSPORT = System.getProperty("aggregator.test.transport", "jdk");

  /**
   * Where the servers a suite builds are mounted on an application's JDK server; null for servers
   * of their own. Set by a suite's subclass that reruns it mounted (MountedRestApiTest).
   */
  static volatile String mountPrefix;

  final EventAggregator aggregator;
  final AggregatorServer server;
  final HttpClient client;

  /** The API's root: {@code http://127.0.0.1:port}, plus the prefix when mounted. */
  final String base;

  /** The application's own server the API is mounted on, or null. */
  final HttpServer app;

  /** The answer to one request, its body parsed as JSON when it is JSON. */
  record Reply(int status, JsonNode json, String text, HttpResponse<String> raw) {
    String header(String name) {
      return raw.headers().firstValue(name).orElse(null);
    }
  }

  TestServer(DedupStore store) {
    this(store, b -> b, b -> b);
  }

  TestServer(
      DedupStore store,
      UnaryOperator<EventAggregator.Builder> aggregatorOptions,
      UnaryOperator<AggregatorServer.Builder> serverOptions) {
    this(store, aggregatorOptions, serverOptions, mountPrefix);
  }

  /**
   * @param mountPrefix null for a server of its own; else the API is mounted there on an
   *     application's JDK server, whose root answers something else
   */
  private TestServer(
      DedupStore store,
      UnaryOperator<EventAggregator.Builder> aggregatorOptions,
      UnaryOperator<AggregatorServer.Builder> serverOptions,
      String mountPrefix) {
    this.aggregator = aggregatorOptions.apply(EventAggregator.builder().store(store)).build();
    this.client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    if (mountPrefix == null) {
      this.app = null;
      this.server = serverOptions.apply(builder(aggregator)).start();
      this.base = "http://127.0.0.1:" + server.port();
    } else {
      this.app = applicationServer();
      this.server =
          serverOptions.apply(AggregatorServer.builder(aggregator)).mount(app, mountPrefix);
      this.base = "http://127.0.0.1:" + app.getAddress().getPort() + mountPrefix;
    }
  }

  /** A builder on port 0 and on the transport under test. */
  static AggregatorServer.Builder builder(EventAggregator aggregator) {
    AggregatorServer.Builder b = AggregatorServer.builder(aggregator).port(0);
    if (!TRANSPORT.equals("jdk")) {
      b.transport(transport(TRANSPORT));
    }
    return b;
  }

  /** Whether the suites run on the JDK transport. */
  static boolean onJdk() {
    return TRANSPORT.equals("jdk");
  }

  private static HttpTransport transport(String name) {
    for (HttpTransport t : ServiceLoader.load(HttpTransport.class)) {
      if (t.name().equals(name)) {
        return t;
      }
    }
    throw new IllegalStateException(
        "no transport named '" + name + "' on the test classpath (aggregator.test.transport)");
  }

  /** An application's own server: its root answers 200 "app", the API is mounted beside it. */
  private static HttpServer applicationServer() {
    try {
      HttpServer app = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      app.createContext(
          "/",
          exchange -> {
            byte[] body = "app".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (exchange) {
              exchange.getResponseBody().write(body);
            }
          });
      app.setExecutor(Executors.newFixedThreadPool(8));
      app.start();
      return app;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The port the API answers on. */
  int port() {
    return server.port();
  }

  /** {@code http://127.0.0.1:port}, where a path outside the API is asked for. */
  String root() {
    return "http://127.0.0.1:" + port();
  }

  static TestServer inMemory() {
    return new TestServer(new InMemoryDedupStore());
  }

  static TestServer inMemory(UnaryOperator<AggregatorServer.Builder> serverOptions) {
    return new TestServer(new InMemoryDedupStore(), b -> b, serverOptions);
  }

  Reply get(String path, String... headers) {
    return send(request(path, headers).GET().build());
  }

  Reply post(String path, String body, String... headers) {
    return send(request(path, headers).POST(HttpRequest.BodyPublishers.ofString(body)).build());
  }

  HttpRequest.Builder request(String path, String... headers) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return b;
  }

  Reply send(HttpRequest request) {
    try {
      HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
      JsonNode json = null;
      if (r.headers().firstValue("Content-Type").orElse("").startsWith("application/json")) {
        json = MAPPER.readTree(r.body());
      }
      return new Reply(r.statusCode(), json, r.body(), r);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    server.close();
    aggregator.close();
    if (app != null) {
      app.stop(0);
      ((java.util.concurrent.ExecutorService) app.getExecutor()).shutdownNow();
    }
  }

  /** A store whose appends wait until {@link #release()}: keeps events queued or in flight. */
  static final class GatedStore extends ForwardingDedupStore {
    private final CountDownLatch gate = new CountDownLatch(1);
    final CountDownLatch appending = new CountDownLatch(1);

    GatedStore() {
      super(new InMemoryDedupStore());
    }

    void release() {
      gate.countDown();
    }

    @Override
    public List<Outcome> append(List<PendingEvent> batch) {
      appending.countDown();
      try {
        if (!gate.await(30, TimeUnit.SECONDS)) {
          throw new IllegalStateException("gate never released");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return super.append(batch);
    }
  }

  /** A store whose reads fail: an unexpected error behind GET /events. */
  static final class BrokenReadStore extends ForwardingDedupStore {
    BrokenReadStore() {
      super(new InMemoryDedupStore());
    }

    @Override
    public EventPage events(EventQuery query) {
      throw new IllegalStateException("disk on fire (test)");
    }
  }
}
