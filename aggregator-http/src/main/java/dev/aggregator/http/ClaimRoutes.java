package dev.aggregator.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aggregator.Claim;
import dev.aggregator.ConsumerGuard;
import dev.aggregator.Event;
import dev.aggregator.EventAggregator;
import dev.aggregator.EventJson;
import dev.aggregator.Outcome;
import dev.aggregator.PublishResult;
import dev.aggregator.http.spi.ApiRequest;
import dev.aggregator.http.spi.ApiResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The consumer guard over HTTP, for consumers in any language: {@code POST /claims} claims an
 * event's key and answers {@code accepted} (with a token: run the handler), {@code duplicate}
 * (handled before) or {@code in_progress} (another consumer holds it; {@code Retry-After} says when
 * its lease runs out); {@code POST /claims/confirm} stores the event and ends the claim once the
 * handler succeeded; {@code POST /claims/release} gives the key back after a failure. They are
 * writes, so they need the API key like a publish.
 *
 * <p>The server keeps no session: the client sends the token (and, to confirm, the event) back.
 * Claims are decided by the aggregator's writer and committed before the answer, as for {@link
 * ConsumerGuard}; the routes block on that and run on the workers.
 */
final class ClaimRoutes {
  /** The lease when the request names none: {@link ConsumerGuard}'s default. */
  static final int DEFAULT_LEASE_SECONDS = 300;

  /** The longest lease a request may ask for: a day. */
  static final int MAX_LEASE_SECONDS = 86_400;

  private final EventAggregator aggregator;
  private final JsonBodies bodies;

  ClaimRoutes(EventAggregator aggregator, JsonBodies bodies) {
    this.aggregator = aggregator;
    this.bodies = bodies;
  }

  /** Whether the aggregator can keep claims (one built by {@code EventAggregator.builder()}). */
  static boolean supported(EventAggregator aggregator) {
    try {
      ConsumerGuard.of(aggregator);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  void register(Router router) {
    router.blocking("/claims", "POST", this::claim);
    router.blocking("/claims/confirm", "POST", this::confirm);
    router.blocking("/claims/release", "POST", this::release);
  }

  private ConsumerGuard guard(int leaseSeconds) {
    return ConsumerGuard.builder(aggregator).lease(Duration.ofSeconds(leaseSeconds)).build();
  }

  /** {@code POST /claims[?lease_seconds=n]} with one event as the body. */
  private ApiResponse claim(ApiRequest request, Map<String, String> q) throws Exception {
    int lease =
        QueryParameters.intParameter(
            q, "lease_seconds", DEFAULT_LEASE_SECONDS, 1, MAX_LEASE_SECONDS);
    Event event = oneEvent(bodies.parse(request.body()));
    Claim claim = guard(lease).claim(event);
    ObjectNode r = bodies.object();
    r.put("status", status(claim.status()));
    r.put("topic", event.topic());
    r.put("event_id", event.eventId());
    if (claim.token() != null) {
      r.put("token", claim.token());
    }
    if (claim.leaseExpiresAt() != null) {
      r.put("lease_expires_at", EventJson.formatTimestamp(claim.leaseExpiresAt()));
      r.put("lease_left_ms", claim.leaseLeft().toMillis());
    }
    Map<String, String> headers =
        claim.status() == Claim.Status.IN_PROGRESS
            ? Map.of("Retry-After", Long.toString(ceilSeconds(claim.leaseLeft())))
            : Map.of();
    return bodies.json(200, r, headers);
  }

  /** {@code POST /claims/confirm} with {@code {"token": ..., "event": {...}}}. */
  private ApiResponse confirm(ApiRequest request, Map<String, String> q) throws Exception {
    JsonNode body = bodies.parse(request.body());
    String token = text(body, "token");
    if (!body.path("event").isObject()) {
      throw invalid("event", "must be the claimed event, an object");
    }
    Event event = oneEvent(body.get("event"));
    PublishResult stored = guard(DEFAULT_LEASE_SECONDS).confirm(held(event, token));
    ObjectNode r = bodies.object();
    r.put("status", stored.outcome(0) == Outcome.ACCEPTED ? "accepted" : "duplicate");
    r.put("topic", event.topic());
    r.put("event_id", event.eventId());
    return bodies.json(200, r, Map.of());
  }

  /** {@code POST /claims/release} with {@code {"topic": ..., "event_id": ..., "token": ...}}. */
  private ApiResponse release(ApiRequest request, Map<String, String> q) throws Exception {
    JsonNode body = bodies.parse(request.body());
    String topic = text(body, "topic");
    String eventId = text(body, "event_id");
    String token = text(body, "token");
    boolean released = guard(DEFAULT_LEASE_SECONDS).release(held(Event.of(topic, eventId), token));
    ObjectNode r = bodies.object();
    r.put("topic", topic);
    r.put("event_id", eventId);
    r.put("released", released);
    return bodies.json(200, r, Map.of());
  }

  /**
   * The claim a client holds, rebuilt from what it sent back: confirm and release use only its
   * event and token (a token that no longer holds the key changes no claim).
   */
  private static Claim held(Event event, String token) {
    return new Claim(Claim.Status.ACQUIRED, event, token, Instant.EPOCH, Duration.ZERO);
  }

  private Event oneEvent(JsonNode node) {
    if (!node.isObject() || node.has("events")) {
      throw invalid("event", "must be one event, a JSON object");
    }
    List<Event> events = bodies.publishedEvents(node);
    return events.get(0); // an object without "events" is read as exactly one event
  }

  private static String text(JsonNode body, String field) {
    JsonNode v = body.path(field);
    if (!v.isTextual() || v.asText().isBlank()) {
      throw invalid(field, "must be a non-blank string");
    }
    return v.asText();
  }

  private static HttpError invalid(String field, String rule) {
    ArrayNode details = JsonNodeFactory.instance.arrayNode();
    details.addObject().put("field", field).put("rule", rule);
    return new HttpError(422, "validation_failed", field + " " + rule, details, Map.of());
  }

  private static String status(Claim.Status status) {
    return switch (status) {
      case ACQUIRED -> "accepted";
      case DUPLICATE -> "duplicate";
      case IN_PROGRESS -> "in_progress";
    };
  }

  private static long ceilSeconds(Duration d) {
    long s = d.getSeconds() + (d.getNano() > 0 ? 1 : 0);
    return Math.max(1, s);
  }
}
