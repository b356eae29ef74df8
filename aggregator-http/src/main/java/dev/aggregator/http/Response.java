package dev.aggregator.http;

import java.util.Map;

/**
 * One answer, built by a handler or by {@link Errors}, written once by {@link Api}.
 *
 * @param status the HTTP status
 * @param contentType the Content-Type
 * @param body the body bytes
 * @param headers extra headers (Retry-After, Allow, ...)
 */
record Response(int status, String contentType, byte[] body, Map<String, String> headers) {
  static final String JSON = "application/json; charset=utf-8";
}
