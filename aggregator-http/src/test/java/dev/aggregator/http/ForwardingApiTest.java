package dev.aggregator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aggregator.Event;
import dev.aggregator.EventAggregator;
import dev.aggregator.EventRules;
import dev.aggregator.store.InMemoryDedupStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /publish} on a forwarding server ({@link AggregatorServer.Builder#forwarder}): 202
 * with one id per event and nothing in the local store; the forwarder's rule violations are 422 and
 * its failures 503 with Retry-After.
 */
class ForwardingApiTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final List<Event> forwarded = new CopyOnWriteArrayList<>();
  private final AtomicBoolean down = new AtomicBoolean();
  private EventAggregator aggregator;
  private AggregatorServer server;

  @BeforeEach
  void start() {
    aggregator = EventAggregator.builder().store(new InMemoryDedupStore()).build();
    PublishForwarder forwarder =
        events -> {
          EventRules.check(events, 64);
          if (down.get()) {
            throw new IllegalStateException("redis://queue:6379/events: connection refused");
          }
          List<String> ids = new ArrayList<>();
          for (Event e : events) {
            forwarded.add(e);
            ids.add("1-" + forwarded.size());
          }
          return ids;
        };
    server = TestServer.builder(aggregator).port(0).forwarder(forwarder).start();
  }

  @AfterEach
  void stop() {
    server.close();
    aggregator.close();
  }

  private HttpResponse<String> post(String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/publish"))
            .timeout(Duration.ofSeconds(10))
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void publish_forwardingServer_202WithIdsAndNothingStoredLocally() throws Exception {
    HttpResponse<String> r =
        post("[{\"topic\":\"t\",\"event_id\":\"a\"},{\"topic\":\"t\",\"event_id\":\"b\"}]");
    assertEquals(202, r.statusCode(), r.body());
    JsonNode body = MAPPER.readTree(r.body());
    assertEquals(2, body.get("received").intValue());
    assertEquals(2, body.get("queued").intValue());
    assertEquals(MAPPER.readTree("[\"1-1\",\"1-2\"]"), body.get("stream_ids"));
    assertEquals(List.of(Event.of("t", "a"), Event.of("t", "b")), forwarded);
    assertEquals(0, aggregator.stats().received());
  }

  @Test
  void publish_forwarderRefusesAnEvent_422AndNothingForwarded() throws Exception {
    HttpResponse<String> r =
        post(
            "[{\"topic\":\"t\",\"event_id\":\"ok\"},"
                + "{\"topic\":\"t\",\"event_id\":\"big\",\"payload\":{\"k\":\""
                + "x".repeat(100)
                + "\"}}]");
    assertEquals(422, r.statusCode(), r.body());
    JsonNode body = MAPPER.readTree(r.body());
    assertEquals("validation_failed", body.get("error").textValue());
    assertEquals(1, body.get("details").get(0).get("index").intValue(), r.body());
    assertEquals("payload", body.get("details").get(0).get("field").textValue(), r.body());
    assertEquals(List.of(), forwarded);
  }

  @Test
  void publish_forwarderFails_503RetryAfterWithoutTheCause() throws Exception {
    down.set(true);
    HttpResponse<String> r = post("{\"topic\":\"t\",\"event_id\":\"a\"}");
    assertEquals(503, r.statusCode(), r.body());
    assertEquals("1", r.headers().firstValue("Retry-After").orElse(null));
    JsonNode body = MAPPER.readTree(r.body());
    assertEquals("unavailable", body.get("error").textValue());
    assertTrue(!r.body().contains("redis://"), "internal address leaked: " + r.body());
  }
}
