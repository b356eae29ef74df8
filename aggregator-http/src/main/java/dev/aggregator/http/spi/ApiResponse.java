package dev.aggregator.http.spi;

import java.util.Map;

/**
 * One answer, which the transport writes as it is: status, {@code Content-Type}, the body with its
 * {@code Content-Length}, the extra headers, and {@code X-Request-Id}.
 *
 * @param status the HTTP status
 * @param contentType the Content-Type
 * @param body the body bytes (may be empty)
 * @param headers extra headers ({@code Retry-After}, {@code Allow}, {@code Location}...); {@code
 *     Connection: close} asks the transport to close the connection after this answer
 */
public record ApiResponse(
    int status, String contentType, byte[] body, Map<String, String> headers) {

  /** The Content-Type of every JSON answer. */
  public static final String JSON = "application/json; charset=utf-8";

  /** Whether the connection must close after this answer. */
  public boolean closesConnection() {
    return "close".equalsIgnoreCase(headers.get("Connection"));
  }
}
