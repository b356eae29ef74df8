package dev.aggregator.http.spi;

/**
 * Why a transport refused a request before the API could read it; the API answers it in its error
 * shape ({@code {"error": code, "message": message, ...}}), logs it and counts it.
 *
 * @param status the HTTP status
 * @param code the {@code error} code
 * @param message what the client needs to know
 */
public record Refusal(int status, String code, String message) {

  /**
   * 413 {@code payload_too_large} for a body over the limit.
   *
   * @param declaredBytes the {@code Content-Length}, or -1 for a chunked body cut at the limit
   */
  public static Refusal bodyTooLarge(long declaredBytes, long limitBytes) {
    String what =
        declaredBytes >= 0
            ? "body of " + declaredBytes + " bytes is larger than the limit of "
            : "body is larger than the limit of ";
    return new Refusal(413, "payload_too_large", what + limitBytes + " bytes");
  }

  /** 400 {@code bad_request} for a request that is not HTTP; {@code why} is already log-safe. */
  public static Refusal malformed(String why) {
    return new Refusal(400, "bad_request", "malformed HTTP request: " + why);
  }
}
