package dev.aggregator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The browser pages as HTTP resources: types, headers, what they reference, and the key rule. */
class UiHandlerTest {
  private static final Map<String, String> TYPES =
      Map.of(
          "/dashboard", "text/html; charset=utf-8",
          "/dashboard/dashboard.js", "text/javascript; charset=utf-8",
          "/dashboard/dashboard.css", "text/css; charset=utf-8",
          "/openapi.json", "application/json; charset=utf-8",
          "/docs", "text/html; charset=utf-8",
          "/docs/docs-init.js", "text/javascript; charset=utf-8",
          "/docs/swagger-ui.css", "text/css; charset=utf-8",
          "/docs/swagger-ui-bundle.js", "text/javascript; charset=utf-8",
          "/docs/favicon-32x32.png", "image/png");

  /** src="..." and href="..." in our HTML, url(...) in CSS, api('...') in our JS. */
  private static final Pattern REFERENCE =
      Pattern.compile("(?:src|href)=\"([^\"]*)\"|url\\(([^)]*)\\)|api\\('([^']*)'");

  private TestServer server;

  @BeforeEach
  void start() {
    server = TestServer.inMemory(b -> b.apiKeys(List.of("k")).protectReads(true));
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void get_everyPage_isServedWithItsTypeAndASameOriginPolicy_withoutAKey() {
    TYPES.forEach(
        (path, type) -> {
          TestServer.Reply r = server.get(path);
          assertEquals(200, r.status(), path);
          assertEquals(type, r.header("Content-Type"), path);
          String csp = r.header("Content-Security-Policy");
          assertNotNull(csp, path);
          assertTrue(csp.contains("default-src 'self'"), path + ": " + csp);
          assertTrue(csp.contains("connect-src 'self'"), path + ": " + csp);
          assertEquals("nosniff", r.header("X-Content-Type-Options"), path);
        });
    // The data behind the pages still needs the key.
    assertEquals(401, server.get("/stats").status());
  }

  @Test
  void get_rootFromABrowser_isRedirectedEvenWhenReadsNeedAKey() {
    TestServer.Reply r = server.get("/", "Accept", "text/html");
    assertEquals(302, r.status());
    assertEquals("/dashboard", r.header("Location"));
    assertEquals(401, server.get("/", "Accept", "application/json").status());
  }

  @Test
  void post_onAPage_is405WithAllow() {
    TestServer.Reply r = server.post("/dashboard", "{}");
    assertEquals(405, r.status());
    assertEquals("GET", r.header("Allow"));
    assertEquals("method_not_allowed", r.json().path("error").asText());
  }

  @Test
  void pages_referenceOnlyTheirOwnServer() {
    List<String> references = pageReferences(server, "");
    assertTrue(references.size() >= 10, "too few references found: " + references);
  }

  /**
   * Every reference in the pages as served: an href or src is a path under the API's {@code prefix}
   * (or a data: URL) that answers 200; an API call is a path under the API that answers 200 with
   * the key. No page names another host.
   */
  static List<String> pageReferences(TestServer server, String prefix) {
    List<String> references = new ArrayList<>();
    for (String page :
        List.of(
            "/dashboard",
            "/dashboard/dashboard.js",
            "/dashboard/dashboard.css",
            "/docs",
            "/docs/docs-init.js")) {
      String text = server.get(page).text();
      Matcher m = REFERENCE.matcher(text);
      while (m.find()) {
        String ref = m.group(1) != null ? m.group(1) : m.group(2);
        boolean apiCall = ref == null;
        if (apiCall) {
          ref = m.group(3);
        }
        references.add(page + ": " + ref);
        if (ref.startsWith("data:")) {
          continue;
        }
        assertTrue(ref.startsWith("/"), page + " references " + ref + ", not on this server");
        if (ref.contains("?")) {
          continue;
        }
        String underApi = apiCall ? ref : ref.substring(prefix.length());
        assertTrue(
            apiCall || ref.startsWith(prefix + "/"),
            page + " references " + ref + " outside " + prefix);
        int status = server.get(underApi, "X-API-Key", "k").status();
        assertEquals(200, status, page + " references " + ref + ", answered " + status);
      }
      // The SVG namespace is a name, not a request.
      String urls = text.replace("http://www.w3.org/2000/svg", "");
      assertTrue(!urls.contains("http://") && !urls.contains("https://"), page + " has a URL");
    }
    String init = server.get("/docs/docs-init.js").text();
    assertTrue(init.contains("url: '" + prefix + "/openapi.json'"), init);
    assertTrue(init.contains("validatorUrl: null"), init);
    return references;
  }
}
