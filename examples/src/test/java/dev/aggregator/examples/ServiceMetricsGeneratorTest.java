package dev.aggregator.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServiceMetricsGeneratorTest {
  @TempDir Path dir;

  @Test
  void run_threeTicksTwoServices_metricsListsSixValidRecords() throws Exception {
    try (TestServer server = new TestServer(dir)) {
      TestServer.Result r =
          TestServer.capture(
              (o, e) ->
                  ServiceMetricsGenerator.execute(
                      o,
                      e,
                      "--url",
                      server.url(),
                      "--services",
                      "orders,payments",
                      "--count",
                      "3",
                      "--interval-ms",
                      "20",
                      "--seed",
                      "1"));
      assertEquals(0, r.exit(), r.out() + r.err());
      assertTrue(r.out().contains("{\"posted\":6,\"failed\":0}"), r.out());

      JsonNode list = server.get("/metrics/");
      assertEquals(6, list.size(), list.toString());
      Map<String, Integer> perService = new HashMap<>();
      Set<String> ids = new HashSet<>();
      for (JsonNode rec : list) {
        perService.merge(rec.get("service_name").asText(), 1, Integer::sum);
        ids.add(rec.get("id_data").asText());
        double cpu = rec.get("cpu_usage").asDouble();
        double memory = rec.get("memory_usage").asDouble();
        assertTrue(cpu >= 0 && cpu <= 100, rec.toString());
        assertTrue(memory > 0 && memory <= 100, rec.toString()); // a real host uses some memory
        assertTrue(rec.get("latency").asDouble() >= 1, rec.toString());
        assertTrue(rec.get("error_count").asLong() >= 0, rec.toString());
      }
      assertEquals(Map.of("orders", 3, "payments", 3), perService);
      assertEquals(6, ids.size(), "every record has its own id_data");
      JsonNode summary = server.get("/metrics/summary");
      assertEquals(6, summary.get("total_records").asLong());
    }
  }

  @Test
  void badFlags_emptyServiceName_exits2() {
    TestServer.Result r =
        TestServer.capture(
            (o, e) -> ServiceMetricsGenerator.execute(o, e, "--services", "a,,b", "--count", "1"));
    assertEquals(2, r.exit(), r.err());
    assertTrue(r.err().contains("--services"), r.err());
  }
}
