package dev.aggregator.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class LoadGenTest {
  @TempDir Path dir;
  TestServer server;

  @BeforeEach
  void start() {
    server = new TestServer(dir);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private TestServer.Result loadgen(String... args) {
    List<String> all = new ArrayList<>(List.of("--url", server.url()));
    all.addAll(List.of(args));
    return TestServer.capture((o, e) -> LoadGen.execute(o, e, all.toArray(String[]::new)));
  }

  private static JsonNode line(TestServer.Result r) throws Exception {
    String[] lines = r.out().strip().split("\n");
    assertEquals(1, lines.length, "exactly one JSON line on stdout: " + r.out());
    return JsonMapper.builder().build().readTree(lines[0]);
  }

  @ParameterizedTest
  @EnumSource(LoadGen.Shape.class)
  void run_eachShape_noErrorsAndVerifyPasses(LoadGen.Shape shape) throws Exception {
    String batch = shape == LoadGen.Shape.object ? "1" : "50";
    TestServer.Result r =
        loadgen(
            "--events",
            "2000",
            "--dup-ratio",
            "0.25",
            "--batch",
            batch,
            "--concurrency",
            "4",
            "--shape",
            shape.name(),
            "--topics",
            "3",
            "--seed",
            "7",
            "--verify");
    assertEquals(0, r.exit(), r.out() + r.err());
    JsonNode line = line(r);
    assertEquals(0, line.get("errors").asLong());
    assertEquals(2000, line.get("events").asLong());
    assertEquals(shape == LoadGen.Shape.object ? 2000 : 40, line.get("requests").asLong());
    assertEquals(500, line.get("expected_duplicates").asLong());
    assertEquals(1500, line.get("expected_unique").asLong());
    assertTrue(line.get("verified").asBoolean());
    assertTrue(line.get("events_per_s").asDouble() > 0);
    assertTrue(line.get("p50_ms").asDouble() <= line.get("p99_ms").asDouble());
    assertTrue(line.get("p99_ms").asDouble() <= line.get("max_ms").asDouble());
    // The server agrees independently of the generator's own bookkeeping.
    JsonNode stats = server.get("/stats");
    assertEquals(2000, stats.get("received").asLong());
    assertEquals(1500, stats.get("unique_processed").asLong());
    assertEquals(3, stats.get("topics").size());
  }

  @Test
  void verify_serverAlreadyHoldsTheKeys_failsNamingTheCounters() throws Exception {
    String[] args = {"--events", "500", "--batch", "20", "--seed", "42", "--verify"};
    assertEquals(0, loadgen(args).exit());
    TestServer.Result again = loadgen(args); // same seed: every key is already stored
    assertEquals(1, again.exit(), again.out() + again.err());
    assertFalse(line(again).get("verified").asBoolean());
    assertTrue(again.err().contains("unique_processed grew by 0, expected 400"), again.err());
    assertTrue(again.err().contains("duplicate_dropped grew by 500, expected 100"), again.err());
  }

  @Test
  void jdkClient_sameRun_verifyPasses() throws Exception {
    TestServer.Result r =
        loadgen("--events", "1000", "--batch", "25", "--client", "jdk", "--verify");
    assertEquals(0, r.exit(), r.out() + r.err());
    assertEquals(1000, line(r).get("events").asLong());
  }

  @Test
  void paced_rateAndDuration_keepsToTheRateAndVerifies() throws Exception {
    TestServer.Result r =
        loadgen(
            "--duration",
            "1.5",
            "--rate",
            "2000",
            "--batch",
            "10",
            "--concurrency",
            "4",
            "--shape",
            "events",
            "--verify");
    assertEquals(0, r.exit(), r.out() + r.err());
    JsonNode line = line(r);
    long events = line.get("events").asLong();
    // Slots are every batch / (rate / concurrency) s from the start: at most 1.5 s * 2000/s,
    // plus the first slot of each connection.
    assertTrue(events > 0 && events <= 3000 + 4 * 10, "events " + events);
    assertTrue(line.get("seconds").asDouble() >= 1.5);
    assertEquals(
        events, line.get("expected_unique").asLong() + line.get("expected_duplicates").asLong());
    assertTrue(line.get("verified").asBoolean());
  }

  @Test
  void badFlags_objectShapeWithBatch_exits2WithOneLine() {
    TestServer.Result r = loadgen("--shape", "object", "--batch", "10");
    assertEquals(2, r.exit());
    assertEquals("", r.out());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().contains("--batch 1"), r.err());
  }

  @Test
  void badFlags_unknownOption_exits2() {
    TestServer.Result r = loadgen("--nope");
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("--nope"), r.err());
  }

  @Test
  void unreachableServer_countsTransportErrorsAndExits1() throws Exception {
    int port = server.server.port();
    server.close();
    TestServer.Result r =
        TestServer.capture(
            (o, e) ->
                LoadGen.execute(
                    o,
                    e,
                    "--url",
                    "http://127.0.0.1:" + port,
                    "--events",
                    "30",
                    "--batch",
                    "10",
                    "--concurrency",
                    "1"));
    assertEquals(1, r.exit(), r.out() + r.err());
    assertEquals(3, line(r).get("errors").asLong());
    server = new TestServer(dir.resolve("again"));
  }
}
