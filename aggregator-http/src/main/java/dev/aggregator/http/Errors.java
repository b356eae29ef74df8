package dev.aggregator.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aggregator.AggregatorClosedException;
import dev.aggregator.EventValidationException;
import dev.aggregator.QueueFullException;
import dev.aggregator.StoreException;
import dev.aggregator.http.spi.ApiResponse;
import dev.aggregator.http.spi.Refusal;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where failures become answers, all in the one error shape {@code {"error":
 * "<code>", "message": "<sentence>", "details": [...]}}. Expected errors are answered with what the
 * client needs to fix its request; an unexpected one is a 500 with an {@code error_id} that is also
 * logged, with the stack trace, at ERROR. No stack trace is ever sent.
 */
final class Errors {
  private static final Logger log = LoggerFactory.getLogger(Errors.class);

  private final JsonBodies bodies;

  Errors(JsonBodies bodies) {
    this.bodies = bodies;
  }

  /** The answer to a request a transport refused. */
  ApiResponse refused(Refusal r) {
    return error(
        r.status(), r.code(), LogSafe.escape(r.message()), null, Map.of("Connection", "close"));
  }

  ApiResponse toResponse(Throwable t, String method, String path, String requestId) {
    if (t instanceof HttpError e) {
      return error(e.status, e.code, e.getMessage(), e.details, e.headers);
    }
    if (t instanceof EventValidationException e) {
      ArrayNode details = bodies.array();
      for (EventValidationException.Violation v : e.violations()) {
        details.addObject().put("index", v.index()).put("field", v.field()).put("rule", v.rule());
      }
      return error(422, "validation_failed", e.getMessage(), details, Map.of());
    }
    if (t instanceof QueueFullException e) {
      return error(503, "queue_full", e.getMessage(), null, Map.of("Retry-After", "1"));
    }
    if (t instanceof AggregatorClosedException) {
      return unavailable();
    }
    if (t instanceof StoreException e) {
      // The store's message names files and database codes: for the log and /health, not for
      // every publisher. Nothing of the request was stored, so a retry is safe.
      String errorId = UUID.randomUUID().toString();
      log.warn(
          "{} {} - store unavailable {} - request id {}: {}",
          LogSafe.escape(method),
          LogSafe.escape(path),
          errorId,
          requestId,
          e.getMessage());
      ObjectNode body =
          body(
              "store_unavailable",
              "the store cannot commit events now, nothing of this request was stored; retry"
                  + " later (error_id "
                  + errorId
                  + ", reason in /health and the server log)",
              null);
      body.put("error_id", errorId);
      return bodies.json(503, body, Map.of("Retry-After", "1"));
    }
    if (t instanceof StreamConstraintsException e) {
      // Checked before StreamConstraints' supertype: a size limit, not broken JSON.
      return error(413, "payload_too_large", e.getOriginalMessage(), null, Map.of());
    }
    if (t instanceof java.io.CharConversionException e) {
      // Jackson's decoder for an encoding it detected: the bytes are the client's mistake.
      return error(
          400,
          "invalid_json",
          "request body is not valid JSON: " + firstLine(e.getMessage()),
          null,
          Map.of());
    }
    if (t instanceof JsonProcessingException e) {
      log.debug(
          "{} {} - invalid JSON: {} - ID: {}",
          LogSafe.escape(method),
          LogSafe.escape(path),
          LogSafe.escape(e.getOriginalMessage()),
          requestId);
      return error(
          400,
          "invalid_json",
          "request body is not valid JSON: " + firstLine(e.getOriginalMessage()),
          null,
          Map.of());
    }
    String errorId = UUID.randomUUID().toString();
    log.error(
        "{} {} - internal error {} - request id {}",
        LogSafe.escape(method),
        LogSafe.escape(path),
        errorId,
        requestId,
        t);
    ObjectNode body =
        body(
            "internal",
            "internal server error; error_id " + errorId + " is in the server log",
            null);
    body.put("error_id", errorId);
    return bodies.json(500, body, Map.of());
  }

  /**
   * Shows a reason without the directories it names: "/srv/data/aggregator.db" becomes
   * "aggregator.db", so an open endpoint tells what failed without mapping the server's disk.
   */
  static String withoutDirectories(String reason) {
    return reason == null ? null : reason.replaceAll("(?:/[^/\\s:()'\"]+)+/", "");
  }

  ApiResponse unavailable() {
    return error(503, "unavailable", "the server is shutting down", null, Map.of());
  }

  ApiResponse error(
      int status, String code, String message, JsonNode details, Map<String, String> headers) {
    return bodies.json(status, body(code, message, details), headers);
  }

  private ObjectNode body(String code, String message, JsonNode details) {
    ObjectNode body = bodies.object();
    body.put("error", code);
    body.put("message", message);
    body.set("details", details == null ? bodies.array() : details);
    return body;
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "empty";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
