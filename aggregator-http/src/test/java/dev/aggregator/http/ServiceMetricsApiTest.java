package dev.aggregator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aggregator.http.TestServer.Reply;
import java.util.List;
import org.junit.jupiter.api.Test;

class ServiceMetricsApiTest {
  private static String metric(String id, String service, double cpu, double latency, int errors) {
    return "{\"id_data\":\""
        + id
        + "\",\"service_name\":\""
        + service
        + "\",\"cpu_usage\":"
        + cpu
        + ",\"memory_usage\":50.5,\"latency\":"
        + latency
        + ",\"error_count\":"
        + errors
        + "}";
  }

  @Test
  void record_newThenSameIdData_201Then409() {
    try (TestServer s = TestServer.inMemory()) {
      Reply created = s.post("/metrics/", metric("a1b2", "order-service", 45.2, 120, 0));
      assertEquals(201, created.status(), created.text());
      JsonNode r = created.json();
      assertEquals("a1b2", r.get("id_data").asText());
      assertEquals("order-service", r.get("service_name").asText());
      assertEquals(45.2, r.get("cpu_usage").asDouble());
      assertEquals(120, r.get("latency").asInt());
      assertTrue(r.get("timestamp").asText().endsWith("Z"));
      Reply again = s.post("/metrics/", metric("a1b2", "order-service", 99, 1, 5));
      assertEquals(409, again.status(), again.text());
      assertEquals("duplicate", again.json().get("error").asText());
      assertTrue(again.json().get("message").isTextual());
      assertTrue(again.json().get("detail").asText().contains("a1b2"));
      assertEquals(1, s.get("/metrics/").json().size(), "the duplicate is not stored");
    }
  }

  @Test
  void record_missingOrWrongFields_422NamingEach() {
    try (TestServer s = TestServer.inMemory()) {
      Reply r =
          s.post(
              "/metrics/",
              "{\"id_data\":\"x\",\"service_name\":3,\"cpu_usage\":\"high\",\"latency\":1,\"error_count\":1.5}");
      assertEquals(422, r.status(), r.text());
      assertEquals("validation_failed", r.json().get("error").asText());
      List<String> fields = List.of("service_name", "cpu_usage", "memory_usage", "error_count");
      assertEquals(fields.size(), r.json().get("details").size(), r.text());
      for (int i = 0; i < fields.size(); i++) {
        assertEquals(fields.get(i), r.json().get("details").get(i).get("field").asText());
      }
    }
  }

  @Test
  void list_paged_oldestFirstWithNextCursorHeader() {
    try (TestServer s = TestServer.inMemory()) {
      for (int i = 0; i < 5; i++) {
        assertEquals(201, s.post("/metrics", metric("id" + i, "svc", i, i, 0)).status());
      }
      Reply first = s.get("/metrics/?limit=3");
      assertEquals(3, first.json().size());
      assertEquals("id0", first.json().get(0).get("id_data").asText());
      String next = first.header("X-Next-Cursor");
      Reply second = s.get("/metrics/?limit=3&after=" + next);
      assertEquals(2, second.json().size());
      assertEquals("id4", second.json().get(1).get("id_data").asText());
      assertNull(second.header("X-Next-Cursor"));
    }
  }

  @Test
  void summary_perService_countsAveragesPercentilesErrorRate() {
    try (TestServer s = TestServer.inMemory()) {
      for (int i = 1; i <= 100; i++) {
        s.post("/metrics/", metric("a" + i, "api", i, i * 10, i % 4 == 0 ? 2 : 0));
      }
      s.post("/metrics/", metric("b1", "db", 10, 5, 0));
      s.post("/metrics/", metric("b2", "db", 30, 7, 0));
      JsonNode sum = s.get("/metrics/summary").json();
      assertEquals(102, sum.get("total_records").asInt());
      assertEquals(
          "[\"api\",\"db\"]",
          TestServer.MAPPER
              .valueToTree(List.copyOf(iterable(sum.get("services").fieldNames())))
              .toString());
      JsonNode api = sum.get("services").get("api");
      assertEquals(100, api.get("count").asInt());
      assertEquals(50.5, api.get("avg_cpu_usage").asDouble());
      assertEquals(100, api.get("max_cpu_usage").asDouble());
      assertEquals(500, api.get("latency_p50").asDouble());
      assertEquals(950, api.get("latency_p95").asDouble());
      assertEquals(990, api.get("latency_p99").asDouble());
      assertEquals(50, api.get("total_errors").asInt());
      assertEquals(0.25, api.get("error_rate").asDouble());
      JsonNode db = sum.get("services").get("db");
      assertEquals(20, db.get("avg_cpu_usage").asDouble());
      assertEquals(0, db.get("error_rate").asDouble());
    }
  }

  private static List<String> iterable(java.util.Iterator<String> it) {
    List<String> out = new java.util.ArrayList<>();
    it.forEachRemaining(out::add);
    return out;
  }
}
