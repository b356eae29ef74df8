package dev.aggregator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.aggregator.Event;
import dev.aggregator.EventAggregator;
import dev.aggregator.PublishResult;
import dev.aggregator.http.spi.ApiResponse;
import dev.aggregator.store.InMemoryDedupStore;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing (Jazzer) of what a publish does with the bytes of its body: strict UTF-8,
 * Jackson with the server's limits, the three body shapes, {@link dev.aggregator.EventJson} and the
 * aggregator's validation, then a publish into an in-memory store. Any input must either be
 * published (one outcome per event) or fail with one of the documented client errors (400
 * invalid_json, 413 payload_too_large, 422 validation_failed) as {@link Errors} maps it; any other
 * exception, or a 5xx, is a finding.
 *
 * <p>{@code mvn verify} replays the corpus in {@code
 * src/test/resources/dev/aggregator/http/RequestFuzzTestInputs/} (regression mode, a second or so).
 * {@code JAZZER_FUZZ=1 mvn -pl aggregator-http test -Dtest=RequestFuzzTest} fuzzes for {@code
 * maxDuration}; a finding is written next to the corpus as {@code crash-*} and replayed from then
 * on.
 */
class RequestFuzzTest {
  private static final Set<Integer> CLIENT_ERRORS = Set.of(400, 413, 422);

  private static EventAggregator aggregator;
  private static JsonBodies bodies;
  private static Errors errors;

  @BeforeAll
  static void start() {
    aggregator = EventAggregator.builder().store(new InMemoryDedupStore()).build();
    // Small limits, so the fuzzer reaches them with small inputs.
    bodies = new JsonBodies(new Limits(64 << 10, 50, 16, 1024));
    errors = new Errors(bodies);
  }

  @AfterAll
  static void stop() {
    aggregator.close();
  }

  @FuzzTest(maxDuration = "60s")
  void publishBody_anyBytes_resultOrDocumentedClientError(byte[] body) throws Exception {
    List<Event> events;
    try {
      events = bodies.publishedEvents(bodies.parse(body));
      PublishResult r = aggregator.publish(events).get();
      assertEquals(events.size(), r.accepted() + r.duplicates());
    } catch (Exception e) {
      Throwable t = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
      ApiResponse answer = errors.toResponse(t, "POST", "/publish", "fuzz");
      assertTrue(
          CLIENT_ERRORS.contains(answer.status()),
          () ->
              "status "
                  + answer.status()
                  + " for "
                  + t
                  + ": "
                  + new String(body, java.nio.charset.StandardCharsets.UTF_8));
    }
  }
}
