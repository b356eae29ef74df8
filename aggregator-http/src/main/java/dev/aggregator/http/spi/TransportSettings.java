package dev.aggregator.http.spi;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * What a transport must enforce and may use. Every limit is the transport's to apply before the API
 * sees a request, since only the transport sees connections and bytes.
 *
 * @param address where to listen
 * @param backlog the listen backlog
 * @param requestTimeout how long a client may take to send a whole request, counted from when the
 *     server starts waiting for it, and to take an answer; a connection over it is closed without
 *     an answer
 * @param maxConnections the most connections open at once; one more is closed as soon as it is
 *     accepted
 * @param maxBodyBytes the largest request body: a larger {@code Content-Length} is refused before
 *     the body is read, a chunked body as soon as it passes the limit ({@link
 *     Refusal#bodyTooLarge}); the connection is closed after the answer
 * @param workers where work that may block runs (the API's reads; a transport that reads requests
 *     with blocking I/O runs its exchanges there)
 */
public record TransportSettings(
    InetSocketAddress address,
    int backlog,
    Duration requestTimeout,
    int maxConnections,
    long maxBodyBytes,
    Executor workers) {

  /** Checks the values. */
  public TransportSettings {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(requestTimeout, "requestTimeout");
    Objects.requireNonNull(workers, "workers");
  }
}
