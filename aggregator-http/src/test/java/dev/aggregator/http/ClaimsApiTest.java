package dev.aggregator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aggregator.ClaimStats;
import dev.aggregator.EventQuery;
import dev.aggregator.sqlite.SqliteDedupStore;
import dev.aggregator.store.InMemoryDedupStore;
import dev.aggregator.store.TestClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The consumer guard over HTTP: {@code POST /claims} answers accepted, duplicate or in_progress;
 * {@code POST /claims/confirm} stores the event; {@code POST /claims/release} frees the key; leases
 * told by a {@link TestClock}; the API key protects all three.
 */
class ClaimsApiTest {
  private static final String EVENT =
      "{\"topic\": \"payments\", \"event_id\": \"pay-1\", \"payload\": {\"amount\": 42}}";

  @TempDir Path dir;

  private final TestClock clock = new TestClock(Instant.parse("2026-01-05T09:00:00Z"));

  private TestServer server() {
    return new TestServer(
        SqliteDedupStore.open(dir.resolve("claims.db")), b -> b.clock(clock), b -> b);
  }

  private static String confirmBody(String token) {
    ObjectNode body = TestServer.MAPPER.createObjectNode().put("token", token);
    body.set("event", read(EVENT));
    return body.toString();
  }

  private static ObjectNode read(String json) {
    try {
      return (ObjectNode) TestServer.MAPPER.readTree(json);
    } catch (Exception e) {
      throw new IllegalArgumentException(e);
    }
  }

  @Test
  void claimConfirm_thenEveryClaimIsDuplicate_eventStoredWithItsPayload() {
    try (TestServer t = server()) {
      TestServer.Reply claim = t.post("/claims", EVENT);
      assertEquals(200, claim.status(), claim.text());
      assertEquals("accepted", claim.json().path("status").asText());
      assertEquals("payments", claim.json().path("topic").asText());
      assertEquals("pay-1", claim.json().path("event_id").asText());
      assertEquals("2026-01-05T09:05:00Z", claim.json().path("lease_expires_at").asText());
      assertEquals(300_000, claim.json().path("lease_left_ms").asLong());
      String token = claim.json().path("token").asText();
      assertFalse(token.isBlank());

      TestServer.Reply confirmed = t.post("/claims/confirm", confirmBody(token));
      assertEquals(200, confirmed.status(), confirmed.text());
      assertEquals("accepted", confirmed.json().path("status").asText());

      TestServer.Reply again = t.post("/claims", EVENT);
      assertEquals(200, again.status());
      assertEquals("duplicate", again.json().path("status").asText());
      assertTrue(again.json().path("token").isMissingNode(), again.text());
      assertEquals(
          42,
          t.aggregator
              .events(EventQuery.topic("payments"))
              .events()
              .get(0)
              .event()
              .payload()
              .path("amount")
              .asInt());
      assertEquals(new ClaimStats(0, 1, 0, 0), t.aggregator.stats().claims());
    }
  }

  @Test
  void claimHeld_secondClaimInProgressWithRetryAfter_untilTheLeaseRunsOut() {
    try (TestServer t = server()) {
      TestServer.Reply first = t.post("/claims?lease_seconds=60", EVENT);
      assertEquals("accepted", first.json().path("status").asText());
      clock.advance(Duration.ofSeconds(20).plusMillis(500));

      TestServer.Reply busy = t.post("/claims", EVENT);
      assertEquals(200, busy.status());
      assertEquals("in_progress", busy.json().path("status").asText());
      assertEquals(39_500, busy.json().path("lease_left_ms").asLong());
      assertEquals("2026-01-05T09:01:00Z", busy.json().path("lease_expires_at").asText());
      assertEquals("40", busy.header("Retry-After"));
      assertTrue(busy.json().path("token").isMissingNode(), busy.text());

      clock.advance(Duration.ofSeconds(40));
      TestServer.Reply takenOver = t.post("/claims", EVENT);
      assertEquals("accepted", takenOver.json().path("status").asText());
      assertNull(takenOver.header("Retry-After"));
      assertEquals(new ClaimStats(1, 0, 0, 1), t.aggregator.stats().claims());

      // The first holder is late: its release does nothing, its confirmation still stores.
      ObjectNode release =
          TestServer.MAPPER
              .createObjectNode()
              .put("topic", "payments")
              .put("event_id", "pay-1")
              .put("token", first.json().path("token").asText());
      TestServer.Reply late = t.post("/claims/release", release.toString());
      assertEquals(200, late.status(), late.text());
      assertFalse(late.json().path("released").asBoolean());
      assertEquals(new ClaimStats(1, 0, 0, 1), t.aggregator.stats().claims());
    }
  }

  @Test
  void release_freesTheKeyForTheNextDelivery() {
    try (TestServer t = server()) {
      String token = t.post("/claims", EVENT).json().path("token").asText();
      ObjectNode release =
          TestServer.MAPPER
              .createObjectNode()
              .put("topic", "payments")
              .put("event_id", "pay-1")
              .put("token", token);
      TestServer.Reply released = t.post("/claims/release", release.toString());
      assertEquals(200, released.status(), released.text());
      assertTrue(released.json().path("released").asBoolean());
      assertEquals("accepted", t.post("/claims", EVENT).json().path("status").asText());
      assertEquals(new ClaimStats(1, 0, 1, 0), t.aggregator.stats().claims());
      assertEquals(0, t.aggregator.stats().stored(), "a released key is not stored");
    }
  }

  @Test
  void badRequests_are422_andClaimNothing() {
    try (TestServer t = server()) {
      for (String[] bad :
          List.of(
              new String[] {"/claims", "{\"topic\": \"payments\"}"},
              new String[] {"/claims", "[" + EVENT + "]"},
              new String[] {"/claims?lease_seconds=0", EVENT},
              new String[] {"/claims?lease_seconds=86401", EVENT},
              new String[] {"/claims/confirm", "{\"event\": " + EVENT + "}"},
              new String[] {"/claims/confirm", "{\"token\": \"t\"}"},
              new String[] {"/claims/release", "{\"topic\": \"payments\", \"event_id\": \"x\"}"})) {
        TestServer.Reply r = t.post(bad[0], bad[1]);
        assertEquals(422, r.status(), bad[0] + " " + bad[1] + ": " + r.text());
        assertEquals("validation_failed", r.json().path("error").asText(), r.text());
      }
      assertEquals(ClaimStats.NONE, t.aggregator.stats().claims());
    }
  }

  @Test
  void apiKey_protectsEveryClaimRoute() {
    try (TestServer t =
        new TestServer(new InMemoryDedupStore(), b -> b, b -> b.apiKeys(List.of("s3cret-key")))) {
      for (String path : List.of("/claims", "/claims/confirm", "/claims/release")) {
        TestServer.Reply r = t.post(path, EVENT);
        assertEquals(401, r.status(), path + ": " + r.text());
      }
      TestServer.Reply ok = t.post("/claims", EVENT, "X-API-Key", "s3cret-key");
      assertEquals(200, ok.status(), ok.text());
      assertEquals("accepted", ok.json().path("status").asText());
    }
  }
}
