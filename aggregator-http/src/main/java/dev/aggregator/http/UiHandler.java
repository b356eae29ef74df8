package dev.aggregator.http;

import dev.aggregator.http.spi.ApiRequest;
import dev.aggregator.http.spi.ApiResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/*
 * The browser side of the server: the dashboard, the OpenAPI document and Swagger UI. Every file
 * comes from the jar (our own under dev/aggregator/http/ui/, Swagger UI from the org.webjars
 * swagger-ui jar when it is on the classpath), so the pages work on a machine without internet and
 * the server needs neither Node nor a build step. Files are read once, at start, and kept in
 * memory: they are small and served often by a dashboard that polls.
 *
 * Our own files name the API's paths as {{base}}/..., filled in with the path the API is mounted
 * under ("" at the root of its own server), so the pages work under an application's prefix too.
 *
 * The routes are a fixed table, never a path joined onto a classpath prefix, so no request can
 * reach another resource of the jar ("/docs/../../x"). The pages carry no data of the aggregator:
 * they are served without an API key, and the data they fetch goes through the API, which asks
 * for the key where it is configured. A Content-Security-Policy limits every page to its own
 * origin, so a page cannot fetch anything from outside the server even by mistake.
 */
/**
 * Serves {@code GET /dashboard}, {@code GET /openapi.json} and {@code GET /docs} with their assets,
 * from the jar, for the {@link Router}.
 */
final class UiHandler {
  private static final String OWN = "dev/aggregator/http/ui/";
  private static final String SWAGGER_POM = "META-INF/maven/org.webjars/swagger-ui/pom.properties";
  private static final String CSP =
      "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
          + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

  /** Path -> the answer, built once: the files are small and the dashboard polls. */
  private final Map<String, ApiResponse> pages = new HashMap<>();

  private final String base;
  private final boolean swaggerUi;

  /**
   * @param base the path the API is mounted under: {@code ""} at the root, else {@code "/x"}
   */
  UiHandler(String base) {
    this.base = base;
    String html = "text/html; charset=utf-8";
    String js = "text/javascript; charset=utf-8";
    String css = "text/css; charset=utf-8";
    own("/dashboard", "dashboard.html", html);
    own("/dashboard/", "dashboard.html", html);
    own("/dashboard/dashboard.js", "dashboard.js", js);
    own("/dashboard/dashboard.css", "dashboard.css", css);
    own("/openapi.json", "openapi.json", "application/json; charset=utf-8");
    String swagger = swaggerUiDirectory();
    this.swaggerUi = swagger != null;
    if (swaggerUi) {
      own("/docs", "docs.html", html);
      own("/docs/", "docs.html", html);
      own("/docs/docs-init.js", "docs-init.js", js);
      page("/docs/swagger-ui.css", load(swagger + "swagger-ui.css"), css);
      page("/docs/swagger-ui-bundle.js", load(swagger + "swagger-ui-bundle.js"), js);
      page("/docs/favicon-32x32.png", load(swagger + "favicon-32x32.png"), "image/png");
    }
  }

  /** One of our own files, with {{base}} filled in. */
  private void own(String path, String file, String contentType) {
    String text = new String(load(OWN + file), StandardCharsets.UTF_8);
    page(path, text.replace("{{base}}", base).getBytes(StandardCharsets.UTF_8), contentType);
  }

  private void page(String path, byte[] content, String contentType) {
    pages.put(
        path,
        new ApiResponse(
            200,
            contentType,
            content,
            Map.of(
                "Content-Security-Policy",
                CSP,
                "X-Content-Type-Options",
                "nosniff",
                // Revalidated every time: a new jar must show its new pages without a hard reload.
                "Cache-Control",
                "no-cache")));
  }

  /** Whether {@code path} is one of the pages (or {@code /docs} without Swagger UI). */
  boolean serves(String path) {
    return pages.containsKey(path)
        || (!swaggerUi && (path.equals("/docs") || path.equals("/docs/")));
  }

  /** The page at {@code path}, which {@link #serves} it; 405 for any method but GET. */
  ApiResponse serve(String method, String path) {
    if (!method.equals("GET")) {
      throw new HttpError(
          405,
          "method_not_allowed",
          method + " is not allowed on " + path + "; allowed: GET",
          null,
          Map.of("Allow", "GET"));
    }
    ApiResponse page = pages.get(path);
    if (page == null) {
      throw new HttpError(
          404,
          "not_found",
          "the API docs page needs Swagger UI (org.webjars:swagger-ui) on the classpath; the"
              + " OpenAPI document is at "
              + base
              + "/openapi.json");
    }
    return page;
  }

  /**
   * Whether a {@code GET /} comes from a browser (it asks for HTML), which is then sent to the
   * dashboard instead of getting the service description as JSON.
   */
  static boolean wantsHtml(ApiRequest request) {
    String accept = request.header("Accept");
    return accept != null && accept.contains("text/html");
  }

  /** {@code 302} to the dashboard; it carries no data, so it needs no API key. */
  ApiResponse redirectToDashboard() {
    return new ApiResponse(
        302, "text/plain; charset=utf-8", new byte[0], Map.of("Location", base + "/dashboard"));
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

  /**
   * Where the swagger-ui webjar on the classpath keeps its files, from the pom.properties it ships;
   * {@code null} without it (it is an optional dependency: an application that embeds the API may
   * leave it out, and then has no {@code /docs}).
   */
  private static String swaggerUiDirectory() {
    try (InputStream in = UiHandler.class.getClassLoader().getResourceAsStream(SWAGGER_POM)) {
      if (in == null) {
        return null;
      }
      Properties p = new Properties();
      p.load(in);
      String version = p.getProperty("version");
      if (version == null) {
        throw new IllegalStateException(SWAGGER_POM + " has no version");
      }
      return "META-INF/resources/webjars/swagger-ui/" + version + "/";
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + SWAGGER_POM, e);
    }
  }
}
