package dev.aggregator.http.spi;

/**
 * The API as a transport sees it: every request goes in, exactly one answer comes out through the
 * {@link Responder}, now or later. Routing, the API key, the error shape, the request log and the
 * metrics are all on this side, shared by every transport.
 */
public interface RequestHandler {

  /**
   * Answers {@code request} exactly once through {@code responder}: at once, or later from {@link
   * ApiRequest#answerOn()} (never from the aggregator's writer thread). Never throws; must not
   * block on I/O or on a commit.
   */
  void handle(ApiRequest request, Responder responder);

  /**
   * Answers a request that the transport refused before it could become an {@link ApiRequest} (a
   * body over the limit, malformed HTTP), logged and counted like every other request. {@code
   * method} and {@code path} are {@code "-"} when the request head could not be read.
   */
  void refuse(String method, String path, Refusal refusal, Responder responder);
}
