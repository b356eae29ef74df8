package dev.aggregator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.aggregator.ConsumerGuard;
import dev.aggregator.Event;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * What {@code GET /prometheus} exposes: topic series bounded whatever publishers send, the
 * durable-ack histogram counting publishes only, and the process's metrics when asked for.
 */
class PrometheusTest {
  private static final Pattern TOPIC_SERIES =
      Pattern.compile("(?m)^aggregator_topic_events\\{topic=\"([^\"]*)\"} (\\d+)$");

  private static long value(String text, String series) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(text);
    assertTrue(m.find(), series + " missing:\n" + text);
    return (long) Double.parseDouble(m.group(1));
  }

  @Test
  void manyTopics_theLargestGetSeries_theOthersOneSumSeries() {
    try (TestServer t = TestServer.inMemory(b -> b.prometheusTopics(3))) {
      ArrayNode batch = TestServer.MAPPER.createArrayNode();
      for (int i = 0; i < 5_000; i++) {
        batch.addObject().put("topic", "t" + i).put("event_id", "e");
      }
      assertEquals(200, t.post("/publish", batch.toString()).status());
      ArrayNode big = TestServer.MAPPER.createArrayNode();
      for (int i = 0; i < 10; i++) {
        big.addObject().put("topic", "big").put("event_id", "b" + i);
        big.addObject().put("topic", "t7").put("event_id", "x" + i);
      }
      big.addObject().put("topic", "t9").put("event_id", "y");
      assertEquals(200, t.post("/publish", big.toString()).status());

      String text = t.get("/prometheus").text();
      Matcher m = TOPIC_SERIES.matcher(text);
      List<String> series = new java.util.ArrayList<>();
      long sum = 0;
      while (m.find()) {
        series.add(m.group(1) + "=" + m.group(2));
        sum += Long.parseLong(m.group(2));
      }
      assertEquals(List.of("t7=11", "big=10", "t9=2", "_other=4998"), series);
      assertEquals(5_021, sum, "the series add up to every stored event");
      assertEquals(5_001, value(text, "aggregator_topics"));
      assertTrue(text.length() < 8_000, "exposition of " + text.length() + " characters");
      assertFalse(text.contains("process_cpu_seconds_total"), "process metrics are opt-in");
    }
  }

  @Test
  void claims_ofAConsumerGuard_areCountedInTheirSeries() throws Exception {
    try (TestServer t = TestServer.inMemory()) {
      ConsumerGuard guard = ConsumerGuard.of(t.aggregator);
      guard.process(Event.of("t", "confirmed"), e -> {});
      assertThrows(
          IllegalStateException.class,
          () ->
              guard.process(
                  Event.of("t", "released"),
                  e -> {
                    throw new IllegalStateException("handler failed");
                  }));
      guard.claim(Event.of("t", "pending"));

      String text = t.get("/prometheus").text();
      assertEquals(1, value(text, "aggregator_claims_pending"));
      assertEquals(1, value(text, "aggregator_claims_confirmed_total"));
      assertEquals(1, value(text, "aggregator_claims_released_total"));
      assertEquals(0, value(text, "aggregator_claim_leases_expired_total"));
      assertTrue(text.contains("# TYPE aggregator_claims_pending gauge\n"), text);
      assertTrue(text.contains("# TYPE aggregator_claims_confirmed_total counter\n"), text);
    }
  }

  @Test
  void durableAckHistogram_countsPublishesOnly_notServiceMetrics() {
    try (TestServer t = TestServer.inMemory()) {
      assertEquals(200, t.post("/publish", "{\"topic\":\"t\",\"event_id\":\"1\"}").status());
      String record =
          "{\"id_data\":\"a1\",\"service_name\":\"s\",\"cpu_usage\":1,\"memory_usage\":2,"
              + "\"latency\":3,\"error_count\":0}";
      assertEquals(201, t.post("/metrics/", record).status());
      String text = t.get("/prometheus").text();
      assertEquals(1, value(text, "aggregator_publish_durable_ack_seconds_count"));
    }
  }

  @Test
  void processMetrics_whenAskedFor_jvmAndProcessSeries() {
    try (TestServer t = TestServer.inMemory(b -> b.processMetrics(true))) {
      String text = t.get("/prometheus").text();
      assertTrue(value(text, "process_cpu_seconds_total") >= 0, text);
      assertTrue(value(text, "jvm_memory_bytes_used{area=\"heap\"}") > 0, text);
      assertTrue(value(text, "jvm_threads_current") > 0, text);
      assertTrue(value(text, "process_start_time_seconds") > 1_600_000_000L, text);
      assertTrue(text.contains("jvm_gc_collection_seconds_count{gc=\""), text);
    }
  }
}
