package dev.aggregator.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/*
 * The browser side of the server: the dashboard, the OpenAPI document and Swagger UI. Every file
 * comes from the jar (our own under dev/aggregator/http/ui/, Swagger UI from the org.webjars
 * swagger-ui jar), so the pages work on a machine without internet and the server needs neither
 * Node nor a build step. Files are read once, at start, and kept in memory: they are small
 * (Swagger UI's bundle, the largest, is 1.7 MB) and served often by a dashboard that polls, from
 * the event loop without a copy or a blocking read.
 *
 * The routes are a fixed table, never a path joined onto a classpath prefix, so no request can
 * reach another resource of the jar ("/docs/../../x"). The pages carry no data of the aggregator:
 * they are served without an API key, and the data they fetch goes through the API, which asks
 * for the key where it is configured. A Content-Security-Policy limits every page to its own
 * origin, so a page cannot fetch anything from outside the server even by mistake.
 */
/**
 * Serves {@code GET /dashboard}, {@code GET /openapi.json} and {@code GET /docs} with their assets,
 * from the jar, for {@link Api}'s router.
 */
final class UiHandler {
  /** The route prefixes of the pages, as the OpenAPI document lists them. */
  static final String[] CONTEXTS = {"/dashboard", "/docs", "/openapi.json"};

  private static final String OWN = "dev/aggregator/http/ui/";
  private static final String CSP =
      "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
          + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

  /** Path -> the answer, built once: the files are small and the dashboard polls. */
  private final Map<String, Response> pages = new HashMap<>();

  UiHandler() {
    String swagger = "META-INF/resources/webjars/swagger-ui/" + swaggerUiVersion() + "/";
    String html = "text/html; charset=utf-8";
    String js = "text/javascript; charset=utf-8";
    String css = "text/css; charset=utf-8";
    page("/dashboard", OWN + "dashboard.html", html);
    page("/dashboard/", OWN + "dashboard.html", html);
    page("/dashboard/dashboard.js", OWN + "dashboard.js", js);
    page("/dashboard/dashboard.css", OWN + "dashboard.css", css);
    page("/openapi.json", OWN + "openapi.json", "application/json; charset=utf-8");
    page("/docs", OWN + "docs.html", html);
    page("/docs/", OWN + "docs.html", html);
    page("/docs/docs-init.js", OWN + "docs-init.js", js);
    page("/docs/swagger-ui.css", swagger + "swagger-ui.css", css);
    page("/docs/swagger-ui-bundle.js", swagger + "swagger-ui-bundle.js", js);
    page("/docs/favicon-32x32.png", swagger + "favicon-32x32.png", "image/png");
  }

  /** Read at start: a jar built without a file fails then, not at the first request. */
  private void page(String path, String resource, String contentType) {
    pages.put(
        path,
        new Response(
            200,
            contentType,
            load(resource),
            Map.of(
                "Content-Security-Policy",
                CSP,
                "X-Content-Type-Options",
                "nosniff",
                // Revalidated every time: a new jar must show its new pages without a hard reload.
                "Cache-Control",
                "no-cache")));
  }

  /** Whether {@code path} is one of the pages. */
  boolean serves(String path) {
    return pages.containsKey(path);
  }

  /** The page at {@code path}, which {@link #serves} it; 405 for any method but GET. */
  Response serve(String method, String path) {
    if (!method.equals("GET")) {
      throw new HttpError(
          405,
          "method_not_allowed",
          method + " is not allowed on " + path + "; allowed: GET",
          null,
          Map.of("Allow", "GET"));
    }
    return pages.get(path);
  }

  /**
   * Whether a {@code GET /} comes from a browser (it asks for HTML), which is then sent to the
   * dashboard instead of getting the service description as JSON.
   */
  static boolean wantsHtml(Request request) {
    String accept = request.header("Accept");
    return accept != null && accept.contains("text/html");
  }

  /** {@code 302} to the dashboard; it carries no data, so it needs no API key. */
  static Response redirectToDashboard() {
    return new Response(
        302, "text/plain; charset=utf-8", new byte[0], Map.of("Location", "/dashboard"));
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
