package dev.aggregator.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aggregator.Event;
import dev.aggregator.EventAggregator;
import dev.aggregator.EventValidationException;
import dev.aggregator.PublishResult;
import dev.aggregator.http.AggregatorServer.AckMode;
import dev.aggregator.http.spi.ApiRequest;
import dev.aggregator.http.spi.ApiResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /publish}: reads the events, hands them to the aggregator and answers after the
 * commit (durable, 200 with an outcome per event) or once they are queued (202); a forwarding
 * server hands them to its {@link PublishForwarder} instead.
 *
 * <p>Threads: an ordinary body is parsed and enqueued on the thread that handles the request, which
 * never waits for the commit; the answer is built on the request's answer thread when the commit
 * completes. A large body is parsed on the workers, so one 10 MiB request does not hold up an event
 * loop's other connections; a forward runs there too (Redis is a network round trip).
 */
final class PublishRoute implements Router.Route {
  private static final Logger log = LoggerFactory.getLogger(PublishRoute.class);

  /** Larger publish bodies are parsed on the workers, not on the request's thread. */
  private static final int INLINE_PARSE_BYTES = 64 << 10;

  private final EventAggregator aggregator;
  private final JsonBodies bodies;
  private final Commits commits;
  private final Prometheus metrics;
  private final AckMode ackMode;
  private final PublishForwarder forwarder;
  private final Executor workers;

  PublishRoute(
      EventAggregator aggregator,
      JsonBodies bodies,
      Commits commits,
      Prometheus metrics,
      AckMode ackMode,
      PublishForwarder forwarder,
      Executor workers) {
    this.aggregator = aggregator;
    this.bodies = bodies;
    this.commits = commits;
    this.metrics = metrics;
    this.ackMode = ackMode;
    this.forwarder = forwarder;
    this.workers = workers;
  }

  @Override
  public CompletableFuture<ApiResponse> handle(ApiRequest request, Map<String, String> q)
      throws Exception {
    AckMode mode = ackMode(q.get("ack"));
    if (forwarder != null) {
      return onWorkers(() -> forward(bodies.publishedEvents(bodies.parse(request.body()))));
    }
    if (request.body().length > INLINE_PARSE_BYTES) {
      return onWorkers(() -> enqueue(request, mode)).thenCompose(answer -> answer);
    }
    return enqueue(request, mode);
  }

  private AckMode ackMode(String asked) {
    if (asked == null) {
      return ackMode;
    }
    return switch (asked) {
      case "durable" -> AckMode.DURABLE;
      case "queued" -> AckMode.QUEUED;
      default ->
          throw QueryParameters.invalid("ack", "must be durable or queued, was '" + asked + "'");
    };
  }

  /** Parses, checks and enqueues the events; the answer completes after the commit. */
  private CompletableFuture<ApiResponse> enqueue(ApiRequest request, AckMode ack) throws Exception {
    List<Event> events = bodies.publishedEvents(bodies.parse(request.body()));
    long start = System.nanoTime();
    CompletableFuture<PublishResult> committed = aggregator.publish(events);
    if (ack == AckMode.QUEUED) {
      ObjectNode r = bodies.object().put("received", events.size()).put("queued", events.size());
      return CompletableFuture.completedFuture(bodies.json(202, r, Map.of()));
    }
    return commits.answer(
        committed,
        request.answerOn(),
        result -> {
          metrics.publishAck.observeNanos(System.nanoTime() - start);
          return bodies.publishAnswer(events, result);
        });
  }

  /**
   * A forwarding server: hands the events to the forwarder, which checks the aggregator's rules (a
   * violation is 422 as for a local publish), and answers 202 with the ids. Nothing is written to
   * the local store.
   */
  private ApiResponse forward(List<Event> events) {
    List<String> ids;
    try {
      ids = forwarder.forward(events);
    } catch (EventValidationException e) {
      throw e;
    } catch (RuntimeException e) {
      log.warn("POST /publish - cannot forward {} event(s): {}", events.size(), e.getMessage());
      throw new HttpError(
          503,
          "unavailable",
          "cannot forward the events now; retry, duplicates are harmless",
          null,
          Map.of("Retry-After", "1"));
    }
    ObjectNode r = bodies.object().put("received", events.size()).put("queued", events.size());
    ArrayNode streamIds = r.putArray("stream_ids");
    ids.forEach(streamIds::add);
    return bodies.json(202, r, Map.of());
  }

  private <T> CompletableFuture<T> onWorkers(Callable<T> work) {
    return Router.onWorkers(workers, work);
  }
}
