package dev.aggregator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aggregator.EventAggregator;
import dev.aggregator.sqlite.SqliteDedupStore;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keeps the hand-written {@code /openapi.json} honest against the running server: the same routes
 * in both directions, every documented request example accepted, and the documented response
 * examples carrying exactly the fields the server sends.
 */
class OpenApiCoverageTest {
  private static final List<String> METHODS = List.of("GET", "POST", "PUT", "DELETE", "PATCH");

  /** Objects keyed by data (topic names, service names), compared by the shape of one value. */
  private static final Set<String> MAP_FIELDS = Set.of("topic_counts", "services");

  private final ObjectMapper mapper = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();
  private EventAggregator aggregator;
  private AggregatorServer server;
  private JsonNode doc;

  @BeforeEach
  void start(@TempDir Path dir) throws Exception {
    aggregator =
        EventAggregator.builder().store(SqliteDedupStore.open(dir.resolve("agg.db"))).build();
    server = TestServer.builder(aggregator).start();
    HttpResponse<String> r = send("GET", "/openapi.json", null, Map.of());
    assertEquals(200, r.statusCode(), r.body());
    doc = mapper.readTree(r.body());
  }

  @AfterEach
  void stop() {
    server.close();
    aggregator.close();
  }

  @Test
  void openapi_isOpenApi3_withContractInfo() {
    assertTrue(doc.path("openapi").asText().startsWith("3."), doc.path("openapi").toString());
    assertFalse(doc.path("paths").isEmpty(), "no paths");
    assertTrue(doc.path("components").path("schemas").has("Error"), "no Error schema");
  }

  @Test
  void routes_servedAndDocumented_areTheSameSet() throws Exception {
    // The server's own route table, as GET / lists it, plus the browser pages (UiHandler).
    JsonNode info = mapper.readTree(send("GET", "/", null, Map.of()).body());
    Set<String> served = new TreeSet<>();
    info.path("endpoints").forEach(e -> served.add(e.asText()));
    assertFalse(served.isEmpty(), "GET / lists no endpoints: " + info);
    for (String context : List.of("/dashboard", "/docs", "/openapi.json")) {
      served.add("GET " + context);
    }
    assertEquals(served, documentedOperations());
  }

  @Test
  void everyDocumentedRoute_isAnswered() throws Exception {
    for (String op : documentedOperations()) {
      String method = op.substring(0, op.indexOf(' '));
      String path = op.substring(op.indexOf(' ') + 1);
      JsonNode operation = doc.path("paths").path(path).path(method.toLowerCase(Locale.ROOT));
      String body = firstRequestExample(operation);
      HttpResponse<String> r = send(method, path + requiredQuery(operation), body, Map.of());
      int status = r.statusCode();
      assertTrue(
          status != 404 && status != 405 && status < 500,
          op + " answered " + status + ": " + r.body());
      assertTrue(
          operation.path("responses").has(Integer.toString(status)),
          op + " answered " + status + ", which its documentation does not list");
    }
  }

  @Test
  void undocumentedMethods_onDocumentedPaths_are405() throws Exception {
    for (Iterator<Map.Entry<String, JsonNode>> it = doc.path("paths").properties().iterator();
        it.hasNext(); ) {
      Map.Entry<String, JsonNode> path = it.next();
      for (String method : METHODS) {
        if (path.getValue().has(method.toLowerCase(Locale.ROOT))) {
          continue;
        }
        HttpResponse<String> r =
            send(method, path.getKey(), method.equals("GET") ? null : "{}", Map.of());
        assertEquals(405, r.statusCode(), method + " " + path.getKey() + ": " + r.body());
        assertEquals(
            "method_not_allowed", mapper.readTree(r.body()).path("error").asText(), r.body());
      }
    }
  }

  @Test
  void unknownPaths_are404_andUndocumented() throws Exception {
    for (String path : List.of("/nope", "/dashboard/nope.js", "/docs/../openapi.json", "/docsx")) {
      assertFalse(doc.path("paths").has(path), path);
      HttpResponse<String> r = send("GET", path, null, Map.of());
      assertEquals(404, r.statusCode(), path + ": " + r.body());
      assertEquals("not_found", mapper.readTree(r.body()).path("error").asText(), r.body());
    }
  }

  @Test
  void documentedRequestExamples_areAccepted() throws Exception {
    int examples = 0;
    for (String op : documentedOperations()) {
      String method = op.substring(0, op.indexOf(' '));
      String path = op.substring(op.indexOf(' ') + 1);
      JsonNode operation = doc.path("paths").path(path).path(method.toLowerCase(Locale.ROOT));
      JsonNode content = operation.path("requestBody").path("content").path("application/json");
      for (Iterator<Map.Entry<String, JsonNode>> it =
              content.path("examples").properties().iterator();
          it.hasNext(); ) {
        Map.Entry<String, JsonNode> example = it.next();
        String body = mapper.writeValueAsString(example.getValue().path("value"));
        HttpResponse<String> r = send(method, path, body, Map.of());
        assertTrue(
            r.statusCode() >= 200 && r.statusCode() < 300,
            op + " example " + example.getKey() + " answered " + r.statusCode() + ": " + r.body());
        examples++;
      }
    }
    assertEquals(
        7, examples, "three publish body shapes, one metric record and one body per claim route");
  }

  @Test
  void documentedResponseExamples_haveTheFieldsTheServerSends() throws Exception {
    // Data first, so that lists and maps in the answers have an element to compare.
    JsonNode publish = doc.at("/paths/~1publish/post");
    String event = mapper.writeValueAsString(exampleValue(publish, "single"));
    HttpResponse<String> published = send("POST", "/publish", event, Map.of());
    compare("POST /publish 200", response(publish, "200"), published);
    HttpResponse<String> queued = send("POST", "/publish?ack=queued", event, Map.of());
    compare("POST /publish 202", response(publish, "202"), queued);
    JsonNode record = doc.at("/paths/~1metrics~1/post");
    String metric = mapper.writeValueAsString(exampleValue(record, "sample"));
    compare(
        "POST /metrics/ 201", response(record, "201"), send("POST", "/metrics/", metric, Map.of()));
    compare(
        "POST /metrics/ 409", response(record, "409"), send("POST", "/metrics/", metric, Map.of()));
    compare(
        "POST /metrics/ 422",
        response(record, "422"),
        send("POST", "/metrics/", "{\"id_data\": \"x\"}", Map.of()));
    compare("POST /publish 400", response(publish, "400"), send("POST", "/publish", " ", Map.of()));
    compare(
        "POST /publish 422",
        response(publish, "422"),
        send("POST", "/publish", "[{\"event_id\": \"e\"}]", Map.of()));
    JsonNode claims = doc.at("/paths/~1claims/post");
    String claimed = mapper.writeValueAsString(exampleValue(claims, "claim"));
    HttpResponse<String> claim = send("POST", "/claims", claimed, Map.of());
    compare("POST /claims 200", response(claims, "200"), claim);
    JsonNode confirm = doc.at("/paths/~1claims~1confirm/post");
    ObjectNode confirmBody = (ObjectNode) exampleValue(confirm, "confirm").deepCopy();
    confirmBody.put("token", mapper.readTree(claim.body()).path("token").asText());
    compare(
        "POST /claims/confirm 200",
        response(confirm, "200"),
        send("POST", "/claims/confirm", mapper.writeValueAsString(confirmBody), Map.of()));
    JsonNode release = doc.at("/paths/~1claims~1release/post");
    compare(
        "POST /claims/release 200",
        response(release, "200"),
        send(
            "POST",
            "/claims/release",
            mapper.writeValueAsString(exampleValue(release, "release")),
            Map.of()));
    compare(
        "POST /claims 422",
        response(claims, "422"),
        send("POST", "/claims", "{\"topic\": \"payments\"}", Map.of()));
    compare(
        "DELETE /stats 405",
        response(doc.at("/paths/~1stats/get"), "405"),
        send("DELETE", "/stats", null, Map.of()));
    // Published events become visible once committed; the durable publish above waited for it.
    for (String path :
        List.of("/", "/stats", "/topics", "/health", "/metrics/summary", "/metrics/")) {
      JsonNode op = doc.path("paths").path(path).path("get");
      compare("GET " + path, response(op, "200"), send("GET", path, null, Map.of()));
    }
    compare(
        "GET /events",
        response(doc.at("/paths/~1events/get"), "200"),
        send("GET", "/events?topic=user.login&order=desc", null, Map.of()));
    compare(
        "GET /events 422",
        response(doc.at("/paths/~1events/get"), "422"),
        send("GET", "/events", null, Map.of()));
  }

  @Test
  void root_fromABrowser_isRedirectedToTheDashboard() throws Exception {
    HttpResponse<String> r = send("GET", "/", null, Map.of("Accept", "text/html,*/*;q=0.8"));
    assertEquals(302, r.statusCode());
    assertEquals("/dashboard", r.headers().firstValue("Location").orElse(null));
    assertTrue(doc.at("/paths/~1/get/responses").has("302"), "302 is not documented");
    HttpResponse<String> json = send("GET", "/", null, Map.of("Accept", "application/json"));
    assertEquals(200, json.statusCode());
  }

  // ---- helpers ----

  private Set<String> documentedOperations() {
    Set<String> ops = new TreeSet<>();
    doc.path("paths")
        .properties()
        .forEach(
            p ->
                p.getValue()
                    .fieldNames()
                    .forEachRemaining(
                        m -> {
                          if (METHODS.contains(m.toUpperCase(Locale.ROOT))) {
                            ops.add(m.toUpperCase(Locale.ROOT) + " " + p.getKey());
                          }
                        }));
    return ops;
  }

  private static String requiredQuery(JsonNode operation) {
    List<String> parts = new ArrayList<>();
    for (JsonNode p : operation.path("parameters")) {
      if (p.path("in").asText().equals("query") && p.path("required").asBoolean()) {
        String value = p.path("example").asText("x");
        parts.add(p.path("name").asText() + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8));
      }
    }
    return parts.isEmpty() ? "" : "?" + String.join("&", parts);
  }

  private String firstRequestExample(JsonNode operation) throws Exception {
    JsonNode examples =
        operation.path("requestBody").path("content").path("application/json").path("examples");
    if (examples.isEmpty()) {
      return null;
    }
    return mapper.writeValueAsString(examples.elements().next().path("value"));
  }

  private static JsonNode exampleValue(JsonNode operation, String name) {
    JsonNode v =
        operation.path("requestBody").path("content").path("application/json").path("examples");
    assertTrue(v.has(name), "no request example " + name);
    return v.path(name).path("value");
  }

  private static JsonNode response(JsonNode operation, String status) {
    JsonNode example =
        operation.path("responses").path(status).path("content").path("application/json");
    assertTrue(example.has("example"), "no example for " + status + " in " + operation);
    return example.path("example");
  }

  private void compare(String what, JsonNode documented, HttpResponse<String> actual)
      throws Exception {
    JsonNode body = mapper.readTree(actual.body());
    assertEquals(
        shape(documented, ""),
        shape(body, ""),
        what + ": documented " + documented + ", got " + body);
  }

  /** The field names of a JSON value, recursively: "a", "a.b", "list[].c", "map{}.d". */
  private static Set<String> shape(JsonNode node, String prefix) {
    Set<String> out = new TreeSet<>();
    if (node.isObject()) {
      node.properties()
          .forEach(
              f -> {
                String name = prefix + f.getKey();
                out.add(name);
                JsonNode v = f.getValue();
                if (MAP_FIELDS.contains(f.getKey()) && v.isObject()) {
                  if (v.size() > 0) {
                    out.addAll(shape(v.elements().next(), name + "{}."));
                  }
                } else if (f.getKey().equals("payload")) {
                  // the publisher's own object, any fields
                } else {
                  out.addAll(shape(v, name + "."));
                }
              });
    } else if (node.isArray() && node.size() > 0) {
      out.addAll(
          shape(node.get(0), prefix.isEmpty() ? "[]." : prefix.replaceAll("\\.$", "") + "[]."));
    }
    return out;
  }

  private HttpResponse<String> send(
      String method, String pathAndQuery, String body, Map<String, String> headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + pathAndQuery))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    headers.forEach(b::header);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
