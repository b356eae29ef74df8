package dev.aggregator.http;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.aggregator.http.spi.ApiRequest;
import dev.aggregator.http.spi.ApiResponse;
import dev.aggregator.http.spi.Refusal;
import dev.aggregator.http.spi.RequestHandler;
import dev.aggregator.http.spi.Responder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API as a JDK {@link HttpHandler}: on the JDK transport's own server, or on an application's
 * server under a prefix. It refuses a method that is not an HTTP token, a body over the limit
 * before reading it (from Content-Length) or as soon as a chunked body passes it, and a body that
 * cannot be read; hands the request to the API; and writes the one answer, possibly later from
 * another thread: a durable publish returns the exchange's thread at once and is answered from
 * {@code answerOn} when its commit completes.
 */
final class JdkExchangeHandler implements HttpHandler {
  private static final Logger log = LoggerFactory.getLogger(JdkExchangeHandler.class);

  /**
   * How long a refused request's connection is read and dropped after its answer. Closing with the
   * rest of a refused body unread makes the kernel send a reset, and a reset can reach the client
   * before it has read the answer, which it then never sees.
   */
  private static final Duration LINGER = Duration.ofSeconds(2);

  /** RFC 9110 5.6.2: a method is a token. */
  private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

  private final RequestHandler api;
  private final String prefix;
  private final long maxBodyBytes;
  private final Executor answerOn;
  private final ExchangeWatchdog watchdog;

  /**
   * @param prefix the path the handler's context is mounted at ({@code ""} at the root); removed
   *     from the path the API sees
   */
  JdkExchangeHandler(
      RequestHandler api,
      String prefix,
      long maxBodyBytes,
      Executor answerOn,
      ExchangeWatchdog watchdog) {
    this.api = api;
    this.prefix = prefix;
    this.maxBodyBytes = maxBodyBytes;
    this.answerOn = answerOn;
    this.watchdog = watchdog;
  }

  @Override
  public void handle(HttpExchange exchange) {
    String method = exchange.getRequestMethod();
    URI uri = exchange.getRequestURI();
    String path = uri.getRawPath().substring(prefix.length());
    if (path.isEmpty()) {
      path = "/";
    }
    Headers headers = exchange.getRequestHeaders();
    Responder out = (response, requestId) -> answer(exchange, response, requestId);
    if (!isToken(method)) {
      // Not HTTP: neither method nor path is logged (they are the client's bytes, not a request).
      refuse("-", "-", Refusal.malformed("the method is not a token"), out, exchange);
      return;
    }
    // The JDK server has refused a Content-Length that is not one non-negative number.
    String declared = headers.getFirst("Content-Length");
    if (declared != null && Long.parseLong(declared.strip()) > maxBodyBytes) {
      long length = Long.parseLong(declared.strip());
      refuse(method, path, Refusal.bodyTooLarge(length, maxBodyBytes), out, exchange);
      return;
    }
    byte[] body;
    try {
      body = readBody(exchange.getRequestBody(), declared);
    } catch (IOException e) {
      // A broken chunked body, or a client that went away (answered if it can still hear), or one
      // too slow that is being cut off (not answered).
      Refusal unreadable = Refusal.malformed("the body cannot be read: " + e.getMessage());
      refuse(method, path, unreadable, out, exchange);
      return;
    }
    if (body == null) {
      refuse(method, path, Refusal.bodyTooLarge(-1, maxBodyBytes), out, exchange);
      return;
    }
    if (!watchdog.shield()) {
      exchange.close();
      return;
    }
    api.handle(
        new ApiRequest(method, path, uri.getRawQuery(), headers::getFirst, body, answerOn), out);
  }

  /** Whether {@code method} is an HTTP token; the methods the API knows are, without a regex. */
  private static boolean isToken(String method) {
    return method.equals("POST") || method.equals("GET") || TOKEN.matcher(method).matches();
  }

  private void refuse(
      String method, String path, Refusal refusal, Responder out, HttpExchange exchange) {
    if (watchdog.shield()) {
      api.refuse(method, path, refusal, out);
    } else {
      exchange.close(); // cut off for being too slow: no answer
    }
  }

  /**
   * Reads what the client still sends of a refused request, until it ends or the linger stops it.
   */
  private static void drop(InputStream in) {
    byte[] buf = new byte[16 << 10];
    try {
      while (in.read(buf) >= 0) {
        // dropped
      }
    } catch (IOException e) {
      // ended by the linger's interrupt, or by the client: the connection closes either way
    }
  }

  /**
   * The whole body, or {@code null} once it passes the limit (the rest is left unread). The buffer
   * is the declared length when there is one, so an ordinary body is read into an array of its own
   * size.
   */
  private byte[] readBody(InputStream in, String declared) throws IOException {
    long size = declared != null ? Long.parseLong(declared.strip()) : 1024;
    byte[] buf = new byte[(int) Math.min(Math.min(maxBodyBytes + 1, Math.max(size, 1)), 1 << 30)];
    int n = 0;
    for (int r; (r = in.read(buf, n, buf.length - n)) >= 0; ) {
      n += r;
      if (n > maxBodyBytes) {
        return null;
      }
      if (n == buf.length) {
        if (declared != null && in.read() < 0) {
          break; // exactly the declared length, as it must be
        }
        buf = Arrays.copyOf(buf, (int) Math.min(maxBodyBytes + 1, (long) buf.length * 2));
      }
    }
    return n == buf.length ? buf : Arrays.copyOf(buf, n);
  }

  private void answer(HttpExchange exchange, ApiResponse response, String requestId) {
    watchdog.exposed(() -> write(exchange, response, requestId));
  }

  private void write(HttpExchange exchange, ApiResponse response, String requestId) {
    try {
      Headers h = exchange.getResponseHeaders();
      h.set("Content-Type", response.contentType());
      h.set("X-Request-Id", requestId);
      for (Map.Entry<String, String> e : response.headers().entrySet()) {
        h.set(e.getKey(), e.getValue());
      }
      byte[] body = response.body();
      boolean head = exchange.getRequestMethod().equals("HEAD");
      // -1: no body; 0 would mean a chunked body of unknown length.
      exchange.sendResponseHeaders(response.status(), body.length == 0 || head ? -1 : body.length);
      try (OutputStream os = exchange.getResponseBody()) {
        if (body.length > 0 && !head) {
          os.write(body);
          os.flush();
        }
        if (response.closesConnection()) {
          watchdog.lingering(LINGER, () -> drop(exchange.getRequestBody()));
        }
      }
    } catch (IOException e) {
      log.debug("answer not written: {}", e.toString()); // the client went away, or was cut off
    } finally {
      exchange.close();
    }
  }
}
