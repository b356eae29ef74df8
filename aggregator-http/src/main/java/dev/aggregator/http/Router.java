package dev.aggregator.http;

import dev.aggregator.http.spi.ApiRequest;
import dev.aggregator.http.spi.ApiResponse;
import dev.aggregator.http.spi.Refusal;
import dev.aggregator.http.spi.RequestHandler;
import dev.aggregator.http.spi.Responder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Design of the API layer, shared by every transport.
 *
 * Routes. A fixed table from path to method to route; GET / lists it. The browser pages (UiHandler)
 * are a second, fixed table that needs no API key and is not listed. Unknown paths are 404, known
 * paths with another method 405 with Allow. The routes live in PublishRoute, ReadRoutes,
 * ServiceMetrics and ClaimRoutes; this class only finds them.
 *
 * Threads. handle() runs on the thread the transport read the request on (an event loop, or a
 * worker of the JDK server) and must never block it on I/O or on a commit. A route that may block
 * (store reads, a Redis forward) runs on the workers; a publish enqueues where it is and its answer
 * is built on the request's answerOn when the commit completes (Commits).
 *
 * One answer per request, always: a route's failure, synchronous or not, becomes the one error
 * shape in Errors; the request line is logged and counted exactly once, after the answer is handed
 * to the transport.
 */
/**
 * Finds the route of each request (404, 405 + Allow), checks the API key (401), refuses requests
 * while the server shuts down (503), runs the route, and hands exactly one answer to the transport,
 * then logs the request line and counts it.
 */
final class Router implements RequestHandler {
  private static final Logger requestLog = LoggerFactory.getLogger("dev.aggregator.http.request");

  /** A request id that is safe to echo and to log. */
  private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._:\\-]{1,128}");

  /** A route that must not block: it may answer later. */
  @FunctionalInterface
  interface Route {
    CompletableFuture<ApiResponse> handle(ApiRequest request, Map<String, String> query)
        throws Exception;
  }

  /** A route that may block: it runs on the workers. */
  @FunctionalInterface
  interface BlockingRoute {
    ApiResponse handle(ApiRequest request, Map<String, String> query) throws Exception;
  }

  /** Path to (method to route), in the order GET / lists them. */
  private final Map<String, Map<String, Route>> routes = new LinkedHashMap<>();

  private final ApiKeys keys;
  private final boolean protectReads;
  private final Errors errors;
  private final Prometheus metrics;
  private final UiHandler ui;
  private final Executor workers;

  private volatile boolean closing;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Object idle = new Object();

  Router(
      ApiKeys keys,
      boolean protectReads,
      Errors errors,
      Prometheus metrics,
      UiHandler ui,
      Executor workers) {
    this.keys = keys;
    this.protectReads = protectReads;
    this.errors = errors;
    this.metrics = metrics;
    this.ui = ui;
    this.workers = workers;
  }

  void route(String path, String method, Route route) {
    routes.computeIfAbsent(path, p -> new LinkedHashMap<>()).put(method, route);
  }

  /** Adds a route that runs on the workers. */
  void blocking(String path, String method, BlockingRoute route) {
    route(path, method, (request, query) -> onWorkers(workers, () -> route.handle(request, query)));
  }

  /** "METHOD /path" of every route, in table order. */
  List<String> endpoints() {
    List<String> list = new ArrayList<>();
    routes.forEach((path, byMethod) -> byMethod.keySet().forEach(m -> list.add(m + " " + path)));
    return list;
  }

  /** Runs {@code work} on {@code workers}. */
  static <T> CompletableFuture<T> onWorkers(Executor workers, Callable<T> work) {
    CompletableFuture<T> result = new CompletableFuture<>();
    workers.execute(
        () -> {
          try {
            result.complete(work.call());
          } catch (Throwable t) {
            result.completeExceptionally(t);
          }
        });
    return result;
  }

  // ---- lifecycle ----

  /** From now on every request but /health and the pages is answered 503 unavailable. */
  void beginShutdown() {
    closing = true;
  }

  boolean closing() {
    return closing;
  }

  int inFlight() {
    return inFlight.get();
  }

  /** Waits until no request is in flight, at most {@code grace}; whether none is. */
  boolean awaitIdle(Duration grace) {
    long deadline = System.nanoTime() + grace.toNanos();
    synchronized (idle) {
      while (inFlight.get() > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(idle, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
    }
    return true;
  }

  // ---- the request ----

  @Override
  public void handle(ApiRequest request, Responder out) {
    long start = System.nanoTime();
    inFlight.incrementAndGet();
    String method = request.method();
    String path = request.path();
    String requestId = requestId(request);
    CompletableFuture<ApiResponse> answer;
    try {
      answer = dispatch(request);
    } catch (Exception e) {
      answer = CompletableFuture.completedFuture(errors.toResponse(e, method, path, requestId));
    }
    finish(method, path, requestId, start, answer, out);
  }

  @Override
  public void refuse(String method, String path, Refusal refusal, Responder out) {
    long start = System.nanoTime();
    inFlight.incrementAndGet();
    ApiResponse answer = errors.refused(refusal);
    finish(method, path, RequestIds.next(), start, CompletableFuture.completedFuture(answer), out);
  }

  /** The route a path is counted under: one of the table's, or "unmatched" (bounded labels). */
  private String routeLabel(String path) {
    String key = routeKey(path);
    return routes.containsKey(key) || ui.serves(path) ? key : "unmatched";
  }

  /**
   * Once the answer is there: counts the request, hands the answer to the transport, then logs it.
   * Counted before it is sent, so that a client that has its answer finds it in the metrics.
   */
  private void finish(
      String method,
      String path,
      String requestId,
      long start,
      CompletableFuture<ApiResponse> answer,
      Responder out) {
    answer.whenComplete(
        (response, failure) -> {
          ApiResponse r =
              failure == null
                  ? response
                  : errors.toResponse(unwrap(failure), method, path, requestId);
          long nanos = System.nanoTime() - start;
          metrics.request(routeLabel(path), method, r.status(), nanos);
          try {
            out.send(r, requestId);
          } finally {
            if (requestLog.isInfoEnabled()) {
              requestLog.info(
                  "REQUEST: {} {} - STATUS: {} - DURATION: {}ms - ID: {}",
                  LogSafe.escape(method), // the client's bytes: no forged lines, no escapes
                  LogSafe.escape(path),
                  r.status(),
                  millis(nanos),
                  requestId);
            }
            if (inFlight.decrementAndGet() == 0 && closing) {
              synchronized (idle) {
                idle.notifyAll();
              }
            }
          }
        });
  }

  /** "1.84" for 1,840,000 ns: the request line's duration, without String.format's cost. */
  static String millis(long nanos) {
    long hundredths = (Math.max(nanos, 0) + 5_000) / 10_000;
    long fraction = hundredths % 100;
    return hundredths / 100 + (fraction < 10 ? ".0" : ".") + fraction;
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }

  private CompletableFuture<ApiResponse> dispatch(ApiRequest request) throws Exception {
    String method = request.method();
    String path = request.path();
    Map<String, Route> byMethod = routes.get(routeKey(path));
    if (byMethod == null) {
      if (ui.serves(path)) {
        // The pages carry no data of the aggregator: no API key, and served while closing.
        return CompletableFuture.completedFuture(ui.serve(method, path));
      }
      throw new HttpError(404, "not_found", "no such path: " + path);
    }
    Route route = byMethod.get(method);
    if (route == null) {
      String allow = String.join(", ", byMethod.keySet());
      throw new HttpError(
          405,
          "method_not_allowed",
          method + " is not allowed on " + path + "; allowed: " + allow,
          null,
          Map.of("Allow", allow));
    }
    if (path.equals("/") && method.equals("GET") && UiHandler.wantsHtml(request)) {
      // a browser goes to the dashboard
      return CompletableFuture.completedFuture(ui.redirectToDashboard());
    }
    boolean isHealth = path.equals("/health");
    if (closing && !isHealth) {
      return CompletableFuture.completedFuture(errors.unavailable());
    }
    if (keys.enabled() && !isHealth && (!method.equals("GET") || protectReads)) {
      if (!keys.allows(request::header)) {
        throw new HttpError(
            401,
            "unauthorized",
            "missing or wrong API key: send Authorization: Bearer <key> or X-API-Key: <key>",
            null,
            Map.of("WWW-Authenticate", "Bearer"));
      }
    }
    return route.handle(request, QueryParameters.parse(request.rawQuery()));
  }

  /** The route of a path; {@code /metrics} is the same as {@code /metrics/}. */
  private static String routeKey(String path) {
    if (path == null || path.isEmpty()) {
      return "/";
    }
    return path.equals("/metrics") ? "/metrics/" : path;
  }

  private static String requestId(ApiRequest request) {
    String given = request.header("X-Request-Id");
    return given != null && REQUEST_ID.matcher(given).matches() ? given : RequestIds.next();
  }
}
