package dev.aggregator.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * The browser side of the server: the dashboard, the OpenAPI document and Swagger UI. Every file
 * comes from the jar (our own under dev/aggregator/http/ui/, Swagger UI from the org.webjars
 * swagger-ui jar), so the pages work on a machine without internet and the server needs neither
 * Node nor a build step. Files are read once and kept in memory: they are small (Swagger UI's
 * bundle, the largest, is 1.7 MB) and served often by a dashboard that polls.
 *
 * The routes are a fixed table, never a path joined onto a classpath prefix, so no request can
 * reach another resource of the jar ("/docs/../../x"). The pages carry no data of the aggregator:
 * they are served without an API key, and the data they fetch goes through the API, which asks
 * for the key where it is configured. A Content-Security-Policy limits every page to its own
 * origin, so a page cannot fetch anything from outside the server even by mistake.
 */
/**
 * Serves {@code GET /dashboard}, {@code GET /openapi.json} and {@code GET /docs} with their assets,
 * from the jar. Registered on the server's {@link HttpServer} by {@link #register}.
 */
final class UiHandler implements HttpHandler {
  /** The route prefixes this handler owns; {@link #register} creates one context for each. */
  static final String[] CONTEXTS = {"/dashboard", "/docs", "/openapi.json"};

  private static final Logger requestLog = LoggerFactory.getLogger("dev.aggregator.http.request");

  private static final String OWN = "dev/aggregator/http/ui/";
  private static final String CSP =
      "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
          + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

  /** Path -> where the file is and its content type. */
  private final Map<String, Asset> routes;

  private final Map<String, byte[]> cache = new ConcurrentHashMap<>();

  private record Asset(String resource, String contentType) {}

  private final HttpMetrics metrics;

  UiHandler(HttpMetrics metrics) {
    this.metrics = metrics;
    String swagger = "META-INF/resources/webjars/swagger-ui/" + swaggerUiVersion() + "/";
    String html = "text/html; charset=utf-8";
    String js = "text/javascript; charset=utf-8";
    String css = "text/css; charset=utf-8";
    this.routes =
        Map.ofEntries(
            Map.entry("/dashboard", new Asset(OWN + "dashboard.html", html)),
            Map.entry("/dashboard/", new Asset(OWN + "dashboard.html", html)),
            Map.entry("/dashboard/dashboard.js", new Asset(OWN + "dashboard.js", js)),
            Map.entry("/dashboard/dashboard.css", new Asset(OWN + "dashboard.css", css)),
            Map.entry(
                "/openapi.json",
                new Asset(OWN + "openapi.json", "application/json; charset=utf-8")),
            Map.entry("/docs", new Asset(OWN + "docs.html", html)),
            Map.entry("/docs/", new Asset(OWN + "docs.html", html)),
            Map.entry("/docs/docs-init.js", new Asset(OWN + "docs-init.js", js)),
            Map.entry("/docs/swagger-ui.css", new Asset(swagger + "swagger-ui.css", css)),
            Map.entry(
                "/docs/swagger-ui-bundle.js", new Asset(swagger + "swagger-ui-bundle.js", js)),
            Map.entry(
                "/docs/favicon-32x32.png", new Asset(swagger + "favicon-32x32.png", "image/png")));
    for (Asset a : routes.values()) {
      // Fail at start, not at the first request, if the jar was built without a file.
      if (UiHandler.class.getClassLoader().getResource(a.resource()) == null) {
        throw new IllegalStateException("resource missing from the jar: " + a.resource());
      }
    }
  }

  /** Adds this handler's contexts to {@code server}; the JDK routes by the longest prefix. */
  void register(HttpServer server) {
    for (String context : CONTEXTS) {
      server.createContext(context, this);
    }
  }

  /** Every path this handler answers, for the route-coverage test. */
  Set<String> paths() {
    return routes.keySet();
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    long start = System.nanoTime();
    String method = exchange.getRequestMethod();
    String path = exchange.getRequestURI().getRawPath();
    String requestId = UUID.randomUUID().toString();
    int status = 500;
    String route = "unmatched";
    try (exchange) {
      exchange.getResponseHeaders().set("X-Request-Id", requestId);
      Asset asset = routes.get(path);
      if (asset == null) {
        status = 404;
        sendError(exchange, status, "not_found", "no such path: " + path);
        return;
      }
      route = path;
      if (!method.equals("GET")) {
        status = 405;
        exchange.getResponseHeaders().set("Allow", "GET");
        sendError(
            exchange,
            status,
            "method_not_allowed",
            method + " is not allowed on " + path + "; allowed: GET");
        return;
      }
      byte[] body = cache.computeIfAbsent(asset.resource(), UiHandler::load);
      var headers = exchange.getResponseHeaders();
      headers.set("Content-Type", asset.contentType());
      headers.set("Content-Security-Policy", CSP);
      headers.set("X-Content-Type-Options", "nosniff");
      // Revalidated every time: a new jar must show its new pages without a hard reload.
      headers.set("Cache-Control", "no-cache");
      status = 200;
      exchange.sendResponseHeaders(status, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    } finally {
      // The same request line and counters as every API route (Api.handle).
      long nanos = System.nanoTime() - start;
      metrics.request(route, method, status, nanos);
      if (requestLog.isInfoEnabled()) {
        requestLog.info(
            "REQUEST: {} {} - STATUS: {} - DURATION: {}ms - ID: {}",
            method,
            path,
            status,
            String.format(Locale.ROOT, "%.2f", nanos / 1e6),
            requestId);
      }
    }
  }

  /**
   * Whether a {@code GET /} comes from a browser (it asks for HTML), which is then sent to the
   * dashboard instead of getting the service description as JSON.
   */
  static boolean wantsHtml(HttpExchange exchange) {
    String accept = exchange.getRequestHeaders().getFirst("Accept");
    return accept != null && accept.contains("text/html");
  }

  /** {@code 302} to the dashboard; it carries no data, so it needs no API key. */
  static Response redirectToDashboard() {
    return new Response(
        302, "text/plain; charset=utf-8", new byte[0], Map.of("Location", "/dashboard"));
  }

  private static void sendError(HttpExchange exchange, int status, String code, String message)
      throws IOException {
    String json =
        "{\"error\":\"" + code + "\",\"message\":\"" + jsonEscape(message) + "\",\"details\":[]}";
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
    exchange.sendResponseHeaders(status, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  private static String jsonEscape(String s) {
    StringBuilder b = new StringBuilder(s.length() + 8);
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20) {
        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  private static byte[] load(String resource) {
    try (InputStream in = UiHandler.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("resource missing from the jar: " + resource);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + resource + " from the jar", e);
    }
  }

  /** The version of the swagger-ui webjar on the classpath, from the pom.properties it ships. */
  static String swaggerUiVersion() {
    String props = "META-INF/maven/org.webjars/swagger-ui/pom.properties";
    try (InputStream in = UiHandler.class.getClassLoader().getResourceAsStream(props)) {
      if (in == null) {
        throw new IllegalStateException(
            "the org.webjars:swagger-ui jar is not on the classpath (" + props + " missing)");
      }
      Properties p = new Properties();
      p.load(in);
      String version = p.getProperty("version");
      if (version == null) {
        throw new IllegalStateException(props + " has no version");
      }
      return version;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + props, e);
    }
  }
}
