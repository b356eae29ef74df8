package dev.aggregator.http;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.concurrent.ScheduledExecutorService;

/**
 * One request as the routes see it: the head, the whole body (already limited to the configured
 * size by the transport), and the event loop of its connection, where a route that completes later
 * continues, so that the writer thread that completed a commit never serializes an answer.
 *
 * @param method the method, as sent
 * @param rawPath the path, still percent-encoded, without the query
 * @param rawQuery the query, still percent-encoded, or {@code null} without one
 * @param headers the request headers (case-insensitive)
 * @param body the body bytes; empty without a body
 * @param loop the connection's event loop
 */
record Request(
    String method,
    String rawPath,
    String rawQuery,
    HttpHeaders headers,
    byte[] body,
    ScheduledExecutorService loop) {

  /** The first value of a header, or {@code null}. */
  String header(String name) {
    return headers.get(name);
  }
}
