package dev.aggregator.openapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.EventAggregator;
import dev.aggregator.client.ApiClient;
import dev.aggregator.client.ApiException;
import dev.aggregator.client.api.ClaimsApi;
import dev.aggregator.client.api.EventsApi;
import dev.aggregator.client.api.MonitoringApi;
import dev.aggregator.client.model.ClaimAnswer;
import dev.aggregator.client.model.ConfirmAnswer;
import dev.aggregator.client.model.ConfirmRequest;
import dev.aggregator.client.model.Event;
import dev.aggregator.client.model.EventPage;
import dev.aggregator.client.model.PublishRequest;
import dev.aggregator.client.model.PublishResult;
import dev.aggregator.client.model.PublishResultResultsInner;
import dev.aggregator.client.model.ReleaseAnswer;
import dev.aggregator.client.model.ReleaseRequest;
import dev.aggregator.client.model.Stats;
import dev.aggregator.client.model.StoredEvent;
import dev.aggregator.client.model.TopicCount;
import dev.aggregator.client.model.TopicPage;
import dev.aggregator.http.AggregatorServer;
import dev.aggregator.sqlite.SqliteDedupStore;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java client that openapi-generator makes from {@code openapi.json} (library {@code native},
 * generated at build time into {@code target/generated-sources/openapi}), used as a user would,
 * against a real server on port 0 with a SQLite store: publish one event and a batch, read a page
 * of events and the counters, and get the answers the document promises, field by field.
 */
class GeneratedClientTest {
  private EventAggregator aggregator;
  private AggregatorServer server;
  private EventsApi events;
  private MonitoringApi monitoring;
  private ApiClient client;

  @BeforeEach
  void start(@TempDir Path dir) {
    aggregator =
        EventAggregator.builder().store(SqliteDedupStore.open(dir.resolve("agg.db"))).build();
    server = AggregatorServer.builder(aggregator).port(0).start();
    client = new ApiClient();
    // The document's server is the path the API is served under; the host is the user's to give.
    client.updateBaseUri("http://127.0.0.1:" + server.port());
    events = new EventsApi(client);
    monitoring = new MonitoringApi(client);
  }

  @AfterEach
  void stop() {
    server.close();
    aggregator.close();
  }

  @Test
  void publish_singleEvent_accepted() throws ApiException {
    PublishResult r = events.publish(single("user.login", "evt-001", Map.of("user_id", 42)), null);
    assertEquals(1, r.getReceived());
    assertEquals(1, r.getAccepted());
    assertEquals(0, r.getDuplicates());
    assertEquals(1, r.getResults().size());
    assertResult(r.getResults().get(0), "evt-001", "accepted", null);
  }

  @Test
  void publish_batchWithDuplicates_outcomePerEventInOrder() throws ApiException {
    events.publish(single("user.login", "evt-001", Map.of("user_id", 42)), null);
    PublishRequest batch =
        new PublishRequest()
            .events(
                List.of(
                    event("user.login", "evt-002", Map.of("user_id", 7)),
                    event("order.created", "ord-1", Map.of("total", 59.9)),
                    // a retry of the single event above, with another payload: a conflict
                    event("user.login", "evt-001", Map.of("user_id", 99)),
                    // the same key twice in one batch: the second is a duplicate
                    event("order.created", "ord-1", Map.of("total", 59.9))));
    PublishResult r = events.publish(batch, "durable");
    assertEquals(4, r.getReceived());
    assertEquals(2, r.getAccepted());
    assertEquals(2, r.getDuplicates());
    List<PublishResultResultsInner> results = r.getResults();
    assertEquals(4, results.size());
    assertResult(results.get(0), "evt-002", "accepted", null);
    assertResult(results.get(1), "ord-1", "accepted", null);
    assertResult(results.get(2), "evt-001", "duplicate", true);
    assertResult(results.get(3), "ord-1", "duplicate", null);
  }

  @Test
  void events_pagesWithTheirFields_andStatsExactCounts() throws ApiException {
    events.publish(single("user.login", "evt-001", Map.of("user_id", 42, "ip", "10.0.0.7")), null);
    events.publish(
        new PublishRequest()
            .events(
                List.of(
                    event("user.login", "evt-002", null),
                    event("order.created", "ord-1", Map.of("total", 59.9)),
                    event("user.login", "evt-003", Map.of("nested", Map.of("a", List.of(1, 2)))),
                    event("user.login", "evt-001", Map.of("user_id", 42, "ip", "10.0.0.7")))),
        null);

    EventPage first = events.events("user.login", 2, null, "asc", null, null, null);
    assertEquals("user.login", first.getTopic());
    assertEquals(2, first.getCount());
    assertEquals(2, first.getEvents().size());
    StoredEvent e = first.getEvents().get(0);
    assertEquals("user.login", e.getTopic());
    assertEquals("evt-001", e.getEventId());
    assertEquals("2025-10-23T10:00:00Z", e.getTimestamp());
    assertEquals("auth-service", e.getSource());
    assertEquals(Map.of("user_id", 42, "ip", "10.0.0.7"), e.getPayload());
    assertNotNull(e.getReceivedAt());
    StoredEvent second = first.getEvents().get(1);
    assertEquals("evt-002", second.getEventId());
    assertEquals(Map.of(), second.getPayload(), "no payload is stored as {}");
    assertNotNull(first.getNext());

    EventPage last = events.events("user.login", 2, first.getNext(), "asc", null, null, null);
    assertEquals(1, last.getCount());
    assertEquals("evt-003", last.getEvents().get(0).getEventId());
    assertEquals(
        Map.of("nested", Map.of("a", List.of(1, 2))), last.getEvents().get(0).getPayload());
    assertNull(last.getNext());

    Stats stats = monitoring.stats();
    assertEquals(5, stats.getReceived());
    assertEquals(4, stats.getUniqueProcessed());
    assertEquals(1, stats.getDuplicateDropped());
    assertEquals(4, stats.getStored());
    assertEquals(0, stats.getExpired());
    assertEquals(0, stats.getPayloadConflicts());
    assertEquals(List.of("user.login", "order.created"), stats.getTopics());
    Map<String, Long> counts = new LinkedHashMap<>();
    counts.put("user.login", 3L);
    counts.put("order.created", 1L);
    assertEquals(counts, stats.getTopicCounts());
    assertEquals(2, stats.getTopicsTotal());
    assertFalse(stats.getTopicsTruncated());
    assertEquals(0, stats.getQueueSize());
    assertEquals(100_000, stats.getQueueCapacity());
    assertNotNull(stats.getStartedAt());

    TopicPage topics = monitoring.topics(1, null);
    assertEquals(1, topics.getCount());
    assertEquals(2, topics.getTopicsTotal());
    assertEquals(List.of(new TopicCount().topic("user.login").count(3L)), topics.getTopics());
    TopicPage rest = monitoring.topics(1, topics.getNext());
    assertEquals(List.of(new TopicCount().topic("order.created").count(1L)), rest.getTopics());
    assertNull(rest.getNext());
  }

  @Test
  void publish_eventBreakingARule_apiExceptionWith422AndNothingStored() throws ApiException {
    PublishRequest noTopic = new PublishRequest().eventId("evt-001");
    ApiException e = assertThrows(ApiException.class, () -> events.publish(noTopic, null));
    assertEquals(422, e.getCode());
    assertTrue(e.getResponseBody().contains("\"validation_failed\""), e.getResponseBody());
    assertEquals(0, monitoring.stats().getReceived());
  }

  @Test
  void claims_acceptedInProgressConfirmedThenDuplicate_releaseFreesTheKey() throws ApiException {
    ClaimsApi claims = new ClaimsApi(client);
    Event payment = new Event().topic("payments").eventId("pay-1").payload(Map.of("amount", 42));

    ClaimAnswer held = claims.claim(payment, 60);
    assertEquals(ClaimAnswer.StatusEnum.ACCEPTED, held.getStatus());
    assertNotNull(held.getToken());
    assertEquals(60_000L, held.getLeaseLeftMs(), 5_000L);
    ClaimAnswer busy = claims.claim(payment, null);
    assertEquals(ClaimAnswer.StatusEnum.IN_PROGRESS, busy.getStatus());
    assertNull(busy.getToken());
    assertEquals(held.getLeaseExpiresAt(), busy.getLeaseExpiresAt());

    ConfirmAnswer confirmed =
        claims.confirmClaim(new ConfirmRequest().token(held.getToken()).event(payment));
    assertEquals(ConfirmAnswer.StatusEnum.ACCEPTED, confirmed.getStatus());
    assertEquals(ClaimAnswer.StatusEnum.DUPLICATE, claims.claim(payment, null).getStatus());

    Event other = new Event().topic("payments").eventId("pay-2");
    String token = claims.claim(other, null).getToken();
    ReleaseAnswer released =
        claims.releaseClaim(new ReleaseRequest().topic("payments").eventId("pay-2").token(token));
    assertTrue(released.getReleased());
    assertEquals(ClaimAnswer.StatusEnum.ACCEPTED, claims.claim(other, null).getStatus());
  }

  private static PublishRequest single(String topic, String id, Map<String, Object> payload) {
    return new PublishRequest()
        .topic(topic)
        .eventId(id)
        .timestamp("2025-10-23T10:00:00Z")
        .source("auth-service")
        .payload(payload);
  }

  private static Event event(String topic, String id, Map<String, Object> payload) {
    return new Event().topic(topic).eventId(id).payload(payload);
  }

  private static void assertResult(
      PublishResultResultsInner r, String eventId, String status, Boolean conflict) {
    assertEquals(eventId, r.getEventId(), r.toString());
    assertEquals(status, r.getStatus().getValue(), r.toString());
    assertEquals(conflict, r.getConflict(), r.toString());
  }
}
