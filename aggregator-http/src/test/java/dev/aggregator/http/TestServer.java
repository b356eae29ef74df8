package dev.aggregator.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aggregator.EventAggregator;
import dev.aggregator.EventPage;
import dev.aggregator.EventQuery;
import dev.aggregator.Outcome;
import dev.aggregator.store.DedupStore;
import dev.aggregator.store.ForwardingDedupStore;
import dev.aggregator.store.InMemoryDedupStore;
import dev.aggregator.store.PendingEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/** A real server on port 0 around an aggregator, and an HTTP client for it. */
final class TestServer implements AutoCloseable {
  static final ObjectMapper MAPPER = new ObjectMapper();

  final EventAggregator aggregator;
  final AggregatorServer server;
  final HttpClient client;
  final URI base;

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
    this.aggregator = aggregatorOptions.apply(EventAggregator.builder().store(store)).build();
    this.server = serverOptions.apply(AggregatorServer.builder(aggregator).port(0)).start();
    this.client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    this.base = URI.create("http://127.0.0.1:" + server.port());
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
        HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30));
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
