package dev.aggregator.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * An error answer decided by the API itself (unknown path, bad query parameter, too large...),
 * thrown from a handler and written by {@link Errors} in the one error shape.
 */
final class HttpError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  final int status;
  final String code;
  final transient JsonNode details;
  final transient Map<String, String> headers;

  HttpError(int status, String code, String message) {
    this(status, code, message, null, Map.of());
  }

  HttpError(
      int status, String code, String message, JsonNode details, Map<String, String> headers) {
    super(message, null, false, false); // an answer, not a failure: no stack trace needed
    this.status = status;
    this.code = code;
    this.details = details;
    this.headers = headers;
  }
}
