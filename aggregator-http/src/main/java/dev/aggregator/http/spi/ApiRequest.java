package dev.aggregator.http.spi;

import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * One whole request, as the API reads it.
 *
 * @param method the method, as sent
 * @param path the path under the API (without a mount prefix), still percent-encoded, without the
 *     query
 * @param rawQuery the query, still percent-encoded, or {@code null} without one
 * @param header the first value of a header by its case-insensitive name, or {@code null}
 * @param body the body bytes, at most the transport's limit; empty without a body
 * @param answerOn where an answer that comes later (after a commit) is built and handed to the
 *     responder: the connection's I/O thread, or a worker pool. A {@link
 *     java.util.concurrent.ScheduledExecutorService} here also runs the API's timeouts for the
 *     request.
 */
public record ApiRequest(
    String method,
    String path,
    String rawQuery,
    Function<String, String> header,
    byte[] body,
    Executor answerOn) {

  /** Checks the values. */
  public ApiRequest {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(header, "header");
    Objects.requireNonNull(body, "body");
    Objects.requireNonNull(answerOn, "answerOn");
  }

  /** The first value of header {@code name}, or {@code null}. */
  public String header(String name) {
    return header.apply(name);
  }
}
