package dev.aggregator.embedding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.sun.net.httpserver.HttpServer;
import dev.aggregator.EventAggregator;
import dev.aggregator.http.AggregatorServer;
import dev.aggregator.store.InMemoryDedupStore;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * aggregator-http inside an application that manages Netty at 4.1 and configures logback itself:
 * the API runs, mounted on the application's own JDK server and on a port of its own; no Netty
 * class is on the classpath; the application's logback configuration is the only one and receives
 * the API's log lines; nothing writes a log file of its own.
 */
class EmbeddedApplicationTest {
  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void classpath_noNetty_andTheApplicationsLogbackConfigurationIsTheOnlyOne() throws Exception {
    assertThrows(ClassNotFoundException.class, () -> Class.forName("io.netty.channel.Channel"));
    List<URL> configs = Collections.list(getClass().getClassLoader().getResources("logback.xml"));
    assertEquals(1, configs.size(), configs.toString());
    assertTrue(configs.get(0).getPath().contains("/test-classes/"), configs.toString());
  }

  @Test
  void api_mountedAndOnItsOwnPort_logsThroughTheApplicationsLogging() throws Exception {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    @SuppressWarnings("unchecked") // logback's appenders of a logger are of its events
    ListAppender<ILoggingEvent> app =
        (ListAppender<ILoggingEvent>)
            assertInstanceOf(ListAppender.class, root.getAppender("APP"), "the app's appender");
    assertInstanceOf(LoggerContext.class, LoggerFactory.getILoggerFactory());
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    ExecutorService executor = Executors.newFixedThreadPool(4);
    server.setExecutor(executor);
    server.start();
    try (EventAggregator aggregator =
            EventAggregator.builder().store(new InMemoryDedupStore()).build();
        AggregatorServer mounted = AggregatorServer.builder(aggregator).mount(server, "/events");
        AggregatorServer own = AggregatorServer.builder(aggregator).port(0).start()) {
      String base = "http://127.0.0.1:" + mounted.port() + "/events";
      HttpResponse<String> published =
          send(
              HttpRequest.newBuilder(URI.create(base + "/publish"))
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"topic\":\"orders\",\"event_id\":\"o-1\"}")));
      assertEquals(200, published.statusCode(), published.body());
      assertTrue(published.body().contains("\"accepted\":1"), published.body());
      HttpResponse<String> stats =
          send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + own.port() + "/stats")));
      assertTrue(stats.body().contains("\"unique_processed\":1"), stats.body());
    } finally {
      server.stop(0);
      executor.shutdownNow();
    }
    assertTrue(
        app.list.stream()
            .anyMatch(e -> e.getFormattedMessage().startsWith("REQUEST: POST /publish")),
        "the API's request line went to the application's appender");
    assertFalse(Files.exists(Path.of("logs")), "a logs/ directory appeared");
  }
}
