package dev.aggregator.http.spi;

/** Where the API hands a request's one answer: the transport, which writes it to the connection. */
@FunctionalInterface
public interface Responder {

  /**
   * Writes {@code response} (with {@code X-Request-Id: requestId}) to the request's connection.
   * Called exactly once per request, from the thread that handled it or from its {@link
   * ApiRequest#answerOn()}.
   */
  void send(ApiResponse response, String requestId);
}
