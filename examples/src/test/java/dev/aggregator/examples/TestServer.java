package dev.aggregator.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.aggregator.EventAggregator;
import dev.aggregator.http.AggregatorServer;
import dev.aggregator.sqlite.SqliteDedupStore;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** The real server in-process, on port 0, over SQLite in a temporary directory. */
final class TestServer implements AutoCloseable {
  final EventAggregator aggregator;
  final AggregatorServer server;

  TestServer(Path dir) {
    aggregator =
        EventAggregator.builder().store(SqliteDedupStore.open(dir.resolve("test.db"))).build();
    server = AggregatorServer.builder(aggregator).port(0).start();
  }

  String url() {
    return "http://127.0.0.1:" + server.port();
  }

  JsonNode get(String path) throws Exception {
    return JsonMapper.builder().build().readTree(Sender.get(URI.create(url() + path), null));
  }

  @Override
  public void close() {
    server.close();
    aggregator.close();
  }

  /** What a command printed and returned. */
  record Result(int exit, String out, String err) {}

  interface Command {
    int run(PrintStream out, PrintStream err);
  }

  static Result capture(Command command) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      exit = command.run(o, e);
    }
    return new Result(
        exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}
