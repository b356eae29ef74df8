package dev.aggregator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aggregator.EventAggregator;
import dev.aggregator.sqlite.SqliteDedupStore;
import dev.aggregator.testing.Await;
import dev.aggregator.testing.RequiresChromium;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * The dashboard and Swagger UI in a real headless Chromium (the system's {@code chromium} and
 * {@code chromedriver}; nothing is downloaded), against a real server on port 0.
 *
 * <p>Every test also reads Chromium's network log and fails if the page sent any request outside
 * the server, and reads the console and fails on any error (a Content-Security-Policy violation
 * shows there). Screenshots go to {@code target/screenshots/}.
 *
 * <p>Chromium missing skips the test with a line naming it, and fails it under CI ({@code
 * CI=true}): CI must run it ({@code .ci/run} installs Chromium first).
 */
@RequiresChromium
class DashboardBrowserIT {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Path SCREENSHOTS = Paths.get("target", "screenshots");

  private static ChromeDriverService service;
  private static ChromeDriver driver;
  private static Path profile;

  private final HttpClient http = HttpClient.newHttpClient();
  private EventAggregator aggregator;
  private AggregatorServer server;
  private String base;

  @BeforeAll
  static void startBrowser() throws IOException {
    String chromium = System.getProperty("chromium.binary", "/usr/bin/chromium");
    String chromedriver = System.getProperty("chromedriver.binary", "/usr/bin/chromedriver");
    // Selenium then uses this driver and never asks Selenium Manager to find or fetch one.
    System.setProperty("webdriver.chrome.driver", chromedriver);
    profile = Files.createTempDirectory("dashboard-chromium-");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(chromium);
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        // Without these Chromium calls home (updates, sync, safe browsing); on a closed network
        // those connections are refused, and they would be requests outside the server.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--window-size=1400,1100",
        "--user-data-dir=" + profile.toAbsolutePath());
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.PERFORMANCE, Level.ALL);
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability(ChromeOptions.LOGGING_PREFS, logs);
    service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(new File(chromedriver))
            .usingAnyFreePort()
            .build();
    driver = new ChromeDriver(service, options);
    Files.createDirectories(SCREENSHOTS);
  }

  @AfterAll
  static void stopBrowser() throws IOException {
    if (driver != null) {
      driver.quit();
    }
    if (service != null) {
      service.stop();
    }
    if (profile != null) {
      try (var files = Files.walk(profile)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @BeforeEach
  void startServer(@TempDir Path dir) {
    startServer(dir, List.of());
  }

  private void startServer(Path dir, List<String> keys) {
    aggregator =
        EventAggregator.builder().store(SqliteDedupStore.open(dir.resolve("agg.db"))).build();
    server =
        TestServer.builder(aggregator).port(0).apiKeys(keys).protectReads(!keys.isEmpty()).start();
    base = "http://127.0.0.1:" + server.port();
    drainLogs(); // what earlier tests left in the browser's logs is theirs
  }

  @AfterEach
  void stopServer() {
    // Leave the page first: a dashboard still open would keep polling this server while the next
    // test runs, and its requests would show up there as requests to another origin.
    driver.get("about:blank");
    drainLogs();
    server.close();
    aggregator.close();
  }

  @Test
  void dashboard_publishesAndPaging_updateLiveWithoutReload() throws Exception {
    driver.get(base + "/");
    waitFor("a browser at / to land on /dashboard", d -> d.getCurrentUrl().endsWith("/dashboard"));
    // A mark in the page's JavaScript state: still there at the end means no reload happened.
    js("window.__noReload = 'still the same page';");
    waitForText("received", "0");
    waitFor("health to be healthy", d -> text("health").equals("health: healthy"));
    assertTrue(text("queue").endsWith("/ 100,000"), text("queue"));

    // 45 order events, 5 user events, and 10 of the orders again: 60 received, 10 duplicates.
    List<ObjectNode> events = new ArrayList<>();
    for (int i = 1; i <= 45; i++) {
      events.add(
          event(
              "orders",
              String.format("ord-%03d", i),
              new java.util.TreeMap<>(Map.of("n", i, "sku", "A-" + i))));
    }
    for (int i = 1; i <= 5; i++) {
      events.add(event("users", "usr-" + i, Map.of("user", i)));
    }
    for (int i = 1; i <= 10; i++) {
      events.add(event("orders", String.format("ord-%03d", i), Map.of("n", i)));
    }
    // In four waves, each seen by the page before the next: the counters move on the same page,
    // and the rate chart gets a curve rather than one spike.
    for (int wave = 0; wave < 4; wave++) {
      publish(events.subList(wave * 15, wave * 15 + 15));
      waitForText("received", Integer.toString(wave * 15 + 15));
    }
    waitForText("unique", "50");
    waitForText("duplicates", "10");
    waitForText("dup-rate", "16.7 %");
    waitForText("stored", "50");
    waitForText("expired", "0");
    // The ten orders sent again carry another payload (no "sku"): each is a conflict.
    waitForText("conflicts", "10");
    waitFor(
        "the rate chart to show accepted and duplicate events",
        d ->
            Double.parseDouble(attr("rate-chart", "data-peak-accepted")) > 0
                && Double.parseDouble(attr("rate-chart", "data-peak-duplicates")) > 0);
    waitFor(
        "the accepted line to have at least two points",
        d -> attr("rate-line-accepted", "points").split(" ").length >= 2);

    // The topic table, with each topic's count and last event time.
    waitFor("the orders row", d -> topicRow("orders") != null);
    waitFor(
        "orders: 45 events and a last-event time",
        d -> {
          WebElement row = topicRow("orders");
          List<WebElement> cells = row.findElements(By.tagName("td"));
          return cells.get(1).getText().equals("45") && cells.get(2).getText().endsWith("ago");
        });

    // The event browser: pick a topic, newest first, 20 per page, payload as formatted JSON.
    topicRow("orders").click();
    waitFor(
        "page 1 of orders", d -> eventIds().size() == 20 && eventIds().get(0).equals("ord-045"));
    assertEquals("ord-026", eventIds().get(19));
    String payload = driver.findElement(By.cssSelector("#event-list li pre")).getText();
    assertEquals("{\n  \"n\": 45,\n  \"sku\": \"A-45\"\n}", payload);
    click("browse-next");
    waitFor("page 2", d -> !eventIds().isEmpty() && eventIds().get(0).equals("ord-025"));
    click("browse-next");
    waitFor("page 3", d -> eventIds().size() == 5 && eventIds().get(4).equals("ord-001"));
    waitFor("no page after the last", d -> !d.findElement(By.id("browse-next")).isEnabled());
    click("browse-prev");
    waitFor("back to page 2", d -> eventIds().size() == 20 && eventIds().get(0).equals("ord-025"));

    // Service metrics: one chart per service.
    postMetric("m-1", "order-service", 40.0, 55.0, 100, 0);
    postMetric("m-2", "order-service", 60.0, 65.0, 140, 2);
    postMetric("m-3", "auth-service", 12.5, 30.0, 20, 0);
    waitFor(
        "the order-service chart",
        d -> {
          List<WebElement> cards =
              d.findElements(By.cssSelector(".service[data-service='order-service'] .bar-value"));
          return cards.size() == 4
              && cards.get(0).getText().equals("50 %")
              && cards.get(1).getText().equals("60 %")
              && cards.get(2).getText().equals("140 ms")
              && cards.get(3).getText().equals("50 %");
        });
    waitFor(
        "the auth-service chart",
        d -> !d.findElements(By.cssSelector(".service[data-service='auth-service']")).isEmpty());

    // One more publish: the counters move again, on the same page.
    publish(List.of(event("users", "usr-6", Map.of("user", 6))));
    // 60 events, 3 service-metrics records (events on the internal topic), and this one.
    waitForText("received", "64");
    assertEquals("still the same page", js("return window.__noReload;"));
    screenshot("dashboard.png");
    assertNoRequestLeftTheServer();
    assertNoConsoleErrors();
  }

  @Test
  void dashboard_10000TopicsUnderIngestLoad_staysResponsive() throws Exception {
    List<ObjectNode> topics = new ArrayList<>(10_000);
    for (int i = 0; i < 10_000; i++) {
      topics.add(event(String.format("load.topic-%05d", i), "e-0", Map.of("i", i)));
    }
    publish(topics);
    driver.get(base + "/dashboard");
    waitForText("topic-total", "10,000");

    // Full ingest load while the page is used: a publisher sends batches as fast as it is answered.
    AtomicBoolean loading = new AtomicBoolean(true);
    AtomicLong sent = new AtomicLong();
    Thread load =
        new Thread(
            () -> {
              long n = 0;
              while (loading.get()) {
                List<ObjectNode> batch = new ArrayList<>(500);
                for (int i = 0; i < 500; i++, n++) {
                  batch.add(
                      event(
                          String.format("load.topic-%05d", n % 10_000), "l-" + n, Map.of("n", n)));
                }
                try {
                  publish(batch);
                  sent.addAndGet(batch.size());
                } catch (Exception e) {
                  return;
                }
              }
            },
            "dashboard-load");
    load.setDaemon(true);
    load.start();
    try {
      long before = Long.parseLong(text("received").replace(",", ""));
      waitFor(
          "the counters to move under load",
          d -> Long.parseLong(text("received").replace(",", "")) > before + 2_000);
      waitFor(
          "at most 100 topic rows",
          d -> {
            int rows = d.findElements(By.cssSelector("#topic-rows tr")).size();
            return rows == 100 && text("topic-note").startsWith("showing 100 of 10,000");
          });
      WebElement filter = driver.findElement(By.id("topic-filter"));
      filter.sendKeys("topic-0777");
      waitFor(
          "the filter to find the 10 topics load.topic-07770..07779",
          d -> d.findElements(By.cssSelector("#topic-rows tr")).size() == 10);
      topicRow("load.topic-07777").click();
      waitFor(
          "the events of load.topic-07777",
          d -> !eventIds().isEmpty() && eventIds().get(eventIds().size() - 1).equals("e-0"));
      // Several renders under load, each measured by the page itself.
      double worst = 0;
      for (int i = 0; i < 5; i++) {
        String seen = attr("received", "textContent");
        waitFor("another poll", d -> !attr("received", "textContent").equals(seen));
        worst = Math.max(worst, Double.parseDouble(attr("topic-rows", "data-render-ms")));
      }
      filter.clear();
      js("document.getElementById('topic-filter').dispatchEvent(new Event('input'));");
      waitFor(
          "100 rows again", d -> d.findElements(By.cssSelector("#topic-rows tr")).size() == 100);
      System.out.printf(
          "dashboard under load: %d events published meanwhile, worst topic-table render %.1f ms"
              + " (10,000 topics, 100 rows shown)%n",
          sent.get(), worst);
      assertTrue(worst < 250, "a topic-table render took " + worst + " ms with 10,000 topics");
      screenshot("dashboard-10000-topics.png");
    } finally {
      loading.set(false);
      load.join(WAIT.toMillis());
    }
    assertNoRequestLeftTheServer();
    assertNoConsoleErrors();
  }

  @Test
  void dashboard_readsProtectedByKey_asksForTheKey(@TempDir Path dir) throws Exception {
    stopServer();
    startServer(dir, List.of("s3cret-key"));
    driver.get(base + "/dashboard");
    js("window.sessionStorage.clear();");
    driver.navigate().refresh();
    waitFor(
        "the API-key prompt", d -> d.findElement(By.id("key-dialog")).getAttribute("open") != null);
    driver.findElement(By.id("key-input")).sendKeys("s3cret-key");
    driver.findElement(By.cssSelector("#key-form button")).click();
    waitForText("received", "0");
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/publish"))
                .header("X-API-Key", "s3cret-key")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        MAPPER.writeValueAsString(event("secure", "s-1", Map.of()))))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    waitForText("received", "1");
    js("window.sessionStorage.clear();");
    // The 401s before the key was given are the expected answers, not page errors.
    drainLogs();
  }

  @Test
  void docs_listsEveryDocumentedRoute_offline() throws Exception {
    driver.get(base + "/docs");
    JsonNode doc = MAPPER.readTree(get("/openapi.json"));
    Set<String> documented = new TreeSet<>();
    doc.path("paths")
        .properties()
        .forEach(
            p ->
                p.getValue()
                    .fieldNames()
                    .forEachRemaining(
                        m ->
                            documented.add(
                                m.toUpperCase(java.util.Locale.ROOT) + " " + p.getKey())));
    Function<WebDriver, Set<String>> shown =
        d -> {
          Set<String> ops = new TreeSet<>();
          for (WebElement op : d.findElements(By.cssSelector(".opblock-summary"))) {
            String method = op.findElement(By.cssSelector(".opblock-summary-method")).getText();
            String path =
                op.findElement(By.cssSelector(".opblock-summary-path")).getAttribute("data-path");
            ops.add(method + " " + path);
          }
          return ops;
        };
    waitFor("Swagger UI to list every route", d -> shown.apply(d).equals(documented));
    assertEquals(16, documented.size(), documented.toString());
    screenshot("docs.png");
    assertNoRequestLeftTheServer();
    assertNoConsoleErrors();
  }

  // ---- the browser ----

  private static Object js(String script) {
    return ((JavascriptExecutor) driver).executeScript(script);
  }

  private static String text(String id) {
    return driver.findElement(By.id(id)).getText();
  }

  private static String attr(String id, String name) {
    String v = driver.findElement(By.id(id)).getDomAttribute(name);
    return v != null ? v : driver.findElement(By.id(id)).getDomProperty(name);
  }

  private static void click(String id) {
    driver.findElement(By.id(id)).click();
  }

  private static WebElement topicRow(String topic) {
    for (WebElement row : driver.findElements(By.cssSelector("#topic-rows tr"))) {
      if (topic.equals(row.getDomAttribute("data-topic"))) {
        return row;
      }
    }
    return null;
  }

  private static List<String> eventIds() {
    List<String> ids = new ArrayList<>();
    for (WebElement li : driver.findElements(By.cssSelector("#event-list li"))) {
      ids.add(li.getDomAttribute("data-event-id"));
    }
    return ids;
  }

  /**
   * Polls {@code condition} until it holds or {@link #WAIT} passes. The page changes on its own (it
   * polls the server), so there is no event to wait on; exceptions from elements that are replaced
   * while being read count as "not yet".
   */
  private static void waitFor(String what, Function<WebDriver, Boolean> condition) {
    Await.value(what, WAIT, () -> condition.apply(driver), Boolean.TRUE::equals);
  }

  private static void waitForText(String id, String expected) {
    try {
      waitFor("#" + id + " to read " + expected, d -> text(id).equals(expected));
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; it reads " + text(id), e);
    }
  }

  /** A PNG of the whole page, not only the window, through Chromium's own screenshot command. */
  private static void screenshot(String name) throws IOException {
    Number width = (Number) js("return document.documentElement.scrollWidth;");
    Number height = (Number) js("return document.documentElement.scrollHeight;");
    Map<String, Object> clip =
        Map.of("x", 0, "y", 0, "width", width, "height", height.intValue(), "scale", 1);
    Map<String, Object> shot =
        driver.executeCdpCommand(
            "Page.captureScreenshot",
            Map.of("format", "png", "captureBeyondViewport", true, "clip", clip));
    Files.write(
        SCREENSHOTS.resolve(name), java.util.Base64.getDecoder().decode((String) shot.get("data")));
  }

  private static void drainLogs() {
    driver.manage().logs().get(LogType.PERFORMANCE);
    driver.manage().logs().get(LogType.BROWSER);
  }

  /**
   * Every request since the last check stayed on this server: nothing went over the network to
   * another host, and the dashboard's own document loaded nothing from anywhere else.
   *
   * <p>Requests the browser makes for itself (its {@code chrome://resources/...} icons, seen once
   * in CI) are not the page's and never leave the machine, so they are not counted against it.
   */
  private void assertNoRequestLeftTheServer() throws IOException {
    List<String> outside = new ArrayList<>();
    int requests = 0;
    for (LogEntry entry : driver.manage().logs().get(LogType.PERFORMANCE)) {
      JsonNode message = MAPPER.readTree(entry.getMessage()).path("message");
      if (!message.path("method").asText().equals("Network.requestWillBeSent")) {
        continue;
      }
      requests++;
      JsonNode params = message.path("params");
      String url = params.path("request").path("url").asText();
      String document = params.path("documentURL").asText();
      boolean onThisServer =
          url.startsWith(base + "/") || url.startsWith("data:") || url.equals("about:blank");
      boolean overTheNetwork = url.matches("(?i)(https?|wss?|ftp)://.*");
      boolean fromTheDashboard = document.startsWith(base + "/");
      if (!onThisServer && (overTheNetwork || fromTheDashboard)) {
        outside.add(url + " (from " + document + ")");
      }
    }
    assertTrue(requests > 0, "the network log recorded no request at all");
    assertEquals(List.of(), outside, "requests outside " + base);
  }

  private static void assertNoConsoleErrors() {
    List<String> errors = new ArrayList<>();
    for (LogEntry entry : driver.manage().logs().get(LogType.BROWSER)) {
      if (entry.getLevel().intValue() >= Level.SEVERE.intValue()) {
        errors.add(entry.getMessage());
      }
    }
    assertEquals(List.of(), errors, "errors in the browser console");
  }

  // ---- the API ----

  private static ObjectNode event(String topic, String id, Map<String, Object> payload) {
    ObjectNode e = MAPPER.createObjectNode();
    e.put("topic", topic);
    e.put("event_id", id);
    e.put("source", "browser-test");
    e.set("payload", MAPPER.valueToTree(payload));
    return e;
  }

  private void publish(List<ObjectNode> events) throws Exception {
    ArrayNode body = MAPPER.createArrayNode().addAll(events);
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/publish"))
                .POST(HttpRequest.BodyPublishers.ofString(MAPPER.writeValueAsString(body)))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
  }

  private void postMetric(String id, String service, double cpu, double mem, int latency, int errs)
      throws Exception {
    ObjectNode m = MAPPER.createObjectNode();
    m.put("id_data", id).put("service_name", service).put("cpu_usage", cpu);
    m.put("memory_usage", mem).put("latency", latency).put("error_count", errs);
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/metrics/"))
                .POST(HttpRequest.BodyPublishers.ofString(MAPPER.writeValueAsString(m)))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(201, r.statusCode(), r.body());
  }

  private String get(String path) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(base + path)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return r.body();
  }
}
