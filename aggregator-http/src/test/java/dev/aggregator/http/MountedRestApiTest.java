package dev.aggregator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpRequest;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The REST suite again, with every server mounted under {@value #PREFIX} on an application's own
 * JDK {@code HttpServer} (whose root keeps answering the application's own handler), and what
 * mounting adds: the pages name paths under the prefix, the application's routes stay its own, and
 * closing the API leaves the application's server running.
 */
class MountedRestApiTest extends RestApiTest {
  static final String PREFIX = "/aggregator";

  @BeforeAll
  static void mount() {
    TestServer.mountPrefix = PREFIX;
  }

  @AfterAll
  static void unmount() {
    TestServer.mountPrefix = null;
  }

  @Test
  void mounted_applicationRoutesStayItsOwn_apiUnderThePrefix() {
    try (TestServer s = TestServer.inMemory()) {
      TestServer.Reply app = s.send(HttpRequest.newBuilder(URI.create(s.root() + "/")).build());
      assertEquals(200, app.status());
      assertEquals("app", app.text());
      TestServer.Reply stats = s.get("/stats");
      assertEquals(200, stats.status());
      assertEquals(0, stats.json().get("received").asLong());
      TestServer.Reply browser = s.get("/", "Accept", "text/html");
      assertEquals(302, browser.status());
      assertEquals(PREFIX + "/dashboard", browser.header("Location"));
    }
  }

  @Test
  void mounted_pagesReferenceOnlyPathsUnderThePrefix() {
    try (TestServer s = TestServer.inMemory(b -> b.apiKeys(List.of("k")).protectReads(true))) {
      List<String> references = UiHandlerTest.pageReferences(s, PREFIX);
      assertTrue(references.size() >= 10, "too few references found: " + references);
      String servers = s.get("/openapi.json").json().get("servers").toString();
      assertEquals("[{\"url\":\"" + PREFIX + "/\"}]", servers);
    }
  }

  @Test
  void close_removesTheApi_applicationServerKeepsRunning() {
    try (TestServer s = TestServer.inMemory()) {
      s.server.close();
      // The application's root handler now answers what the API answered.
      assertEquals("app", s.get("/stats").text());
      TestServer.Reply app = s.send(HttpRequest.newBuilder(URI.create(s.root() + "/")).build());
      assertEquals("app", app.text());
    }
  }
}
