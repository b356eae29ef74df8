package dev.aggregator.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/*
 * How the load generator measures.
 *
 * Fixed mode (--events): every event and every request (headers and body, as bytes) is built
 * before the clock starts, so the figure is the server's and the transport's, not the JSON
 * building's. Duplicates are exactly round(events * dup-ratio) events whose key is that of a
 * random earlier event; requests are consecutive slices of the events dealt round-robin to the
 * connections, so a duplicate usually travels on another connection than its original, and the
 * server sees cross-connection retries as well as in-batch ones. Which of two copies arrives first
 * does not change the counts: the set of distinct keys and the total are fixed, so --verify can
 * expect exactly unique = events - duplicates.
 *
 * Paced mode (--duration, optionally --rate): each connection builds its requests as it goes,
 * with fresh keys, duplicates drawn from the last keys it sent, and sends one request every
 * batch / (rate / concurrency) seconds (as fast as it can without --rate). Latency is measured
 * from the actual send, so when the server falls behind the schedule the latency does not
 * include the wait for the slot (the progress line shows the achieved rate instead).
 *
 * Transport. The default client (NioDriver) writes HTTP/1.1 on plain sockets (keep-alive,
 * TCP_NODELAY, one request in flight per connection), all connections on one selector thread, and
 * reads Content-Length or chunked responses. --client jdk uses java.net.http.HttpClient
 * (HTTP/1.1), a thread per connection, instead: on 2 cores shared with the server, the client's
 * own CPU is part of what limits the figure.
 */
/**
 * A load generator for {@code POST /publish}: prints one JSON line with events, requests, errors,
 * seconds, events_per_s, requests_per_s, p50_ms, p99_ms and max_ms. Exit 0 on success, 1 when a
 * request failed or {@code --verify} found a difference, 2 on bad flags.
 */
@Command(
    name = "loadgen",
    mixinStandardHelpOptions = true,
    version = "loadgen 0.1.0",
    sortOptions = false,
    showDefaultValues = true,
    description = {
      "Sends events to an aggregator-server's POST /publish and prints one JSON line: events"
          + " (acknowledged with 2xx), requests, errors (non-2xx and transport), seconds,"
          + " events_per_s, requests_per_s, p50_ms, p99_ms, max_ms.",
      "Exit 0; 1 when a request failed or --verify found a difference; 2 on bad flags."
    })
public final class LoadGen implements Callable<Integer> {
  private static final ObjectMapper JSON = JsonMapper.builder().build();

  /** The body shapes POST /publish accepts. */
  enum Shape {
    object,
    array,
    events
  }

  /** The HTTP clients the generator can send with. */
  enum Client {
    raw,
    jdk
  }

  @Option(names = "--url", defaultValue = "http://127.0.0.1:8080", description = "Server base URL.")
  URI url;

  @Option(names = "--events", defaultValue = "100000", description = "Events to send (fixed mode).")
  long events;

  @Option(
      names = "--dup-ratio",
      defaultValue = "0.2",
      description = "Share of events that repeat an earlier key, 0..1.")
  double dupRatio;

  @Option(names = "--batch", defaultValue = "100", description = "Events per request.")
  int batch;

  @Option(names = "--concurrency", defaultValue = "4", description = "Keep-alive connections.")
  int concurrency;

  @Option(
      names = "--shape",
      defaultValue = "array",
      description = "Body: object (needs --batch 1), array, or events ({\"events\": [...]}).")
  Shape shape;

  @Option(names = "--topics", defaultValue = "5", description = "Topics the events spread over.")
  int topics;

  @Option(
      names = "--verify",
      description = "Compare the /stats deltas with the expected counts; exit 1 on a difference.")
  boolean verify;

  @Option(
      names = "--duration",
      defaultValue = "0",
      description = "Paced mode: send for this many seconds with fresh keys (--events ignored).")
  double duration;

  @Option(
      names = "--rate",
      defaultValue = "0",
      description = "Paced mode: events per second over all connections (0: as fast as possible).")
  double rate;

  @Option(names = "--payload-bytes", defaultValue = "100", description = "Payload size, ~bytes.")
  int payloadBytes;

  @Option(names = "--seed", description = "Random seed of keys and duplicates (default: random).")
  Long seed;

  @Option(names = "--client", defaultValue = "raw", description = "raw sockets or jdk HttpClient.")
  Client client;

  @Option(names = "--api-key", description = "Sent as X-API-Key.")
  String apiKey;

  @Option(names = "--topic-prefix", defaultValue = "loadgen.", description = "Topic name prefix.")
  String topicPrefix;

  private PrintStream out = System.out;
  private PrintStream err = System.err;

  /** Runs the generator: {@code java -jar loadgen.jar --help}. */
  public static void main(String[] args) {
    System.exit(execute(System.out, System.err, args));
  }

  /** Runs with the given streams and returns the exit code instead of exiting. */
  static int execute(PrintStream out, PrintStream err, String... args) {
    LoadGen gen = new LoadGen();
    gen.out = out;
    gen.err = err;
    CommandLine cli = new CommandLine(gen);
    cli.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
    cli.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
    cli.setParameterExceptionHandler(
        (e, a) -> {
          err.println("loadgen: " + e.getMessage() + " (see --help)");
          return 2;
        });
    return cli.execute(args);
  }

  @Override
  public Integer call() throws Exception {
    String bad = checkFlags();
    if (bad != null) {
      err.println("loadgen: " + bad + " (see --help)");
      return 2;
    }
    long seedValue = seed != null ? seed : System.nanoTime();
    Stats before = verify ? readStats() : null;

    Run run = duration > 0 ? paced(seedValue) : fixed(seedValue);

    Map<String, Object> line = new LinkedHashMap<>();
    line.put("events", run.events);
    line.put("requests", run.requests);
    line.put("errors", run.errors);
    line.put("seconds", round(run.seconds, 3));
    line.put("events_per_s", round(run.events / run.seconds, 1));
    line.put("requests_per_s", round(run.requests / run.seconds, 1));
    line.put("p50_ms", round(run.latency.percentile(50) / 1000.0, 3));
    line.put("p99_ms", round(run.latency.percentile(99) / 1000.0, 3));
    line.put("max_ms", round(run.latency.max() / 1000.0, 3));
    line.put("expected_unique", run.unique);
    line.put("expected_duplicates", run.duplicates);
    line.put("shape", shape.name());
    line.put("batch", batch);
    line.put("concurrency", concurrency);
    line.put("client", client.name());

    boolean ok = run.errors == 0;
    if (run.errors > 0) {
      err.println("loadgen: " + run.errors + " request(s) failed; first: " + run.firstError);
    }
    if (verify) {
      List<String> diffs = verify(before, run);
      line.put("verified", diffs.isEmpty());
      for (String d : diffs) {
        err.println("loadgen: verify: " + d);
      }
      ok &= diffs.isEmpty();
    }
    out.println(JSON.writeValueAsString(line));
    return ok ? 0 : 1;
  }

  private String checkFlags() {
    if (url.getScheme() == null || !url.getScheme().equals("http") || url.getHost() == null) {
      return "--url must be http://host[:port], got " + url;
    }
    if (batch < 1) {
      return "--batch must be at least 1, got " + batch;
    }
    if (concurrency < 1) {
      return "--concurrency must be at least 1, got " + concurrency;
    }
    if (topics < 1) {
      return "--topics must be at least 1, got " + topics;
    }
    if (!(dupRatio >= 0 && dupRatio < 1)) {
      return "--dup-ratio must be in [0, 1), got " + dupRatio;
    }
    if (shape == Shape.object && batch != 1) {
      return "--shape object sends one event per request, so it needs --batch 1 (got --batch "
          + batch
          + ")";
    }
    if (duration < 0 || rate < 0) {
      return "--duration and --rate must not be negative";
    }
    if (rate > 0 && duration == 0) {
      return "--rate needs --duration (paced mode)";
    }
    if (duration == 0 && events < 1) {
      return "--events must be at least 1, got " + events;
    }
    if (payloadBytes < 20) {
      return "--payload-bytes must be at least 20, got " + payloadBytes;
    }
    return null;
  }

  // ---------------------------------------------------------------- fixed mode

  private Run fixed(long seedValue) throws Exception {
    SplittableRandom rnd = new SplittableRandom(seedValue);
    int n = Math.toIntExact(events);
    long dups = Math.round(n * dupRatio);
    String[] ids = new String[n];
    int[] topicOf = new int[n];
    long dupLeft = dups;
    for (int i = 0; i < n; i++) {
      // Exactly `dups` duplicates, spread uniformly over positions 1..n-1.
      boolean dup = i > 0 && rnd.nextLong(n - i) < dupLeft;
      if (dup) {
        int j = rnd.nextInt(i);
        ids[i] = ids[j];
        topicOf[i] = topicOf[j];
        dupLeft--;
      } else {
        ids[i] = new UUID(rnd.nextLong(), rnd.nextLong()).toString();
        topicOf[i] = rnd.nextInt(topics);
      }
    }
    String ts = Instant.now().toString();
    String pad = padding();
    List<List<byte[]>> perConnection = new ArrayList<>();
    for (int c = 0; c < concurrency; c++) {
      perConnection.add(new ArrayList<>());
    }
    int[] sizes = new int[(n + batch - 1) / batch];
    StringBuilder sb = new StringBuilder();
    for (int r = 0, from = 0; from < n; r++, from += batch) {
      int to = Math.min(n, from + batch);
      sb.setLength(0);
      body(sb, ids, topicOf, from, to, ts, pad);
      perConnection.get(r % concurrency).add(sb.toString().getBytes(StandardCharsets.UTF_8));
      sizes[r] = to - from;
    }

    List<Source> sources = new ArrayList<>();
    for (int c = 0; c < concurrency; c++) {
      List<byte[]> bodies = perConnection.get(c);
      int conn = c;
      int[] next = {0};
      sources.add(
          start -> {
            int i = next[0]++;
            return i < bodies.size()
                ? new Outgoing(bodies.get(i), sizes[i * concurrency + conn], 0)
                : null;
          });
    }
    return runAll(sources, n - dups, dups);
  }

  // ---------------------------------------------------------------- paced mode

  private Run paced(long seedValue) throws Exception {
    List<Source> sources = new ArrayList<>();
    long[] unique = new long[concurrency];
    long[] dups = new long[concurrency];
    long intervalNanos =
        rate > 0 ? (long) (1e9 * batch / (rate / concurrency)) : 0; // per connection
    long durationNanos = (long) (duration * 1e9);
    String pad = padding();
    // split(), not seed + k: SplittableRandom seeds that differ by its gamma give the same
    // sequence shifted by k steps, so the connections would send each other's keys.
    SplittableRandom root = new SplittableRandom(seedValue);
    for (int c = 0; c < concurrency; c++) {
      int conn = c;
      SplittableRandom rnd = root.split();
      String[] recentIds = new String[4096];
      int[] recentTopics = new int[4096];
      long[] sent = {0};
      long[] k = {0};
      String[] ids = new String[batch];
      int[] topicOf = new int[batch];
      StringBuilder sb = new StringBuilder();
      sources.add(
          start -> {
            if (System.nanoTime() - start >= durationNanos) {
              return null;
            }
            long slot = start + k[0]++ * intervalNanos;
            for (int i = 0; i < batch; i++) {
              if (sent[0] > 0 && rnd.nextDouble() < dupRatio) {
                int j = (int) rnd.nextLong(Math.min(sent[0], recentIds.length));
                ids[i] = recentIds[j];
                topicOf[i] = recentTopics[j];
                dups[conn]++;
              } else {
                ids[i] = new UUID(rnd.nextLong(), rnd.nextLong()).toString();
                topicOf[i] = rnd.nextInt(topics);
                int slotIdx = (int) (sent[0] % recentIds.length);
                recentIds[slotIdx] = ids[i];
                recentTopics[slotIdx] = topicOf[i];
                sent[0]++;
                unique[conn]++;
              }
            }
            sb.setLength(0);
            body(sb, ids, topicOf, 0, batch, Instant.now().toString(), pad);
            return new Outgoing(sb.toString().getBytes(StandardCharsets.UTF_8), batch, slot);
          });
    }
    Run run = runAll(sources, 0, 0);
    for (int c = 0; c < concurrency; c++) {
      run.unique += unique[c];
      run.duplicates += dups[c];
    }
    return run;
  }

  // ---------------------------------------------------------------- common

  private Run runAll(List<Source> sources, long unique, long duplicates) throws Exception {
    Progress progress = new Progress();
    Conn[] conns = new Conn[sources.size()];
    for (int c = 0; c < conns.length; c++) {
      conns[c] = new Conn();
    }
    URI publish = url.resolve("/publish");
    Thread reporter = progress.reporter(err);
    long t0 = System.nanoTime();
    if (client == Client.jdk) {
      Sender.runBlocking(publish, apiKey, sources, conns, progress);
    } else {
      new NioDriver(publish, apiKey, progress).run(sources, conns);
    }
    long t1 = System.nanoTime();
    reporter.interrupt();
    Run run = new Run();
    run.seconds = (t1 - t0) / 1e9;
    run.unique = unique;
    run.duplicates = duplicates;
    for (Conn c : conns) {
      run.events += c.events;
      run.requests += c.requests;
      run.errors += c.errors;
      run.latency.add(c.latency);
      if (run.firstError == null) {
        run.firstError = c.firstError;
      }
    }
    return run;
  }

  private String padding() {
    // {"seq":123456,"data":"xxxx"} is ~25 bytes plus the data.
    return "x".repeat(Math.max(1, payloadBytes - 25));
  }

  private void body(
      StringBuilder sb, String[] ids, int[] topicOf, int from, int to, String ts, String pad) {
    if (shape == Shape.events) {
      sb.append("{\"events\":[");
    } else if (shape == Shape.array) {
      sb.append('[');
    }
    for (int i = from; i < to; i++) {
      if (i > from) {
        sb.append(',');
      }
      sb.append("{\"topic\":\"")
          .append(topicPrefix)
          .append(topicOf[i])
          .append("\",\"event_id\":\"")
          .append(ids[i])
          .append("\",\"timestamp\":\"")
          .append(ts)
          .append("\",\"source\":\"loadgen\",\"payload\":{\"seq\":")
          .append(i)
          .append(",\"data\":\"")
          .append(pad)
          .append("\"}}");
    }
    if (shape == Shape.events) {
      sb.append("]}");
    } else if (shape == Shape.array) {
      sb.append(']');
    }
  }

  private List<String> verify(Stats before, Run run) throws Exception {
    List<String> diffs = new ArrayList<>();
    if (run.errors > 0) {
      diffs.add(run.errors + " request(s) failed, so the expected counts are unknown");
      return diffs;
    }
    // With ack=queued the server answers before committing: wait for its queue to drain.
    long deadline = System.nanoTime() + 60_000_000_000L;
    Stats after = readStats();
    while (after.queueSize > 0 && System.nanoTime() < deadline) {
      Thread.sleep(50);
      after = readStats();
    }
    if (after.queueSize > 0) {
      diffs.add("queue_size still " + after.queueSize + " after 60 s");
    }
    long total = run.unique + run.duplicates;
    compare(diffs, "received", after.received - before.received, total);
    compare(diffs, "unique_processed", after.unique - before.unique, run.unique);
    compare(diffs, "duplicate_dropped", after.duplicates - before.duplicates, run.duplicates);
    return diffs;
  }

  private static void compare(List<String> diffs, String field, long delta, long expected) {
    if (delta != expected) {
      diffs.add(field + " grew by " + delta + ", expected " + expected);
    }
  }

  private Stats readStats() throws IOException, InterruptedException {
    JsonNode s = JSON.readTree(Sender.get(url.resolve("/stats"), apiKey));
    Stats st = new Stats();
    st.received = s.path("received").asLong();
    st.unique = s.path("unique_processed").asLong();
    st.duplicates = s.path("duplicate_dropped").asLong();
    st.queueSize = s.path("queue_size").asLong();
    return st;
  }

  private static double round(double v, int digits) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return 0;
    }
    double f = Math.pow(10, digits);
    return Math.round(v * f) / f;
  }

  private static final class Stats {
    long received;
    long unique;
    long duplicates;
    long queueSize;
  }

  private static final class Run {
    long events;
    long requests;
    long errors;
    long unique;
    long duplicates;
    double seconds;
    String firstError;
    final Histogram latency = new Histogram();
  }

  /** Counters the progress line reads while the workers run. */
  static final class Progress {
    final AtomicLong events = new AtomicLong();
    final AtomicLong requests = new AtomicLong();
    final AtomicLong errors = new AtomicLong();

    Thread reporter(PrintStream err) {
      Thread t =
          new Thread(
              () -> {
                long start = System.nanoTime();
                long lastEvents = 0;
                try {
                  for (int i = 1; ; i++) {
                    Thread.sleep(10_000);
                    long e = events.get();
                    err.printf(
                        "{\"progress_s\":%d,\"events\":%d,\"requests\":%d,\"errors\":%d,"
                            + "\"events_per_s_last_10s\":%.1f}%n",
                        (System.nanoTime() - start) / 1_000_000_000L,
                        e,
                        requests.get(),
                        errors.get(),
                        (e - lastEvents) / 10.0);
                    lastEvents = e;
                  }
                } catch (InterruptedException done) {
                  // the run ended
                }
              },
              "loadgen-progress");
      t.setDaemon(true);
      t.start();
      return t;
    }
  }

  /** What one connection sends: its requests in order, each with the events it carries. */
  @FunctionalInterface
  interface Source {
    /** The next request, or null when the connection is done; {@code start}: the run's start. */
    Outgoing next(long start);
  }

  /**
   * One request: its body, the events in it, and the earliest {@link System#nanoTime()} to send it
   * (0: at once).
   */
  record Outgoing(byte[] body, int events, long notBefore) {}

  /** One connection's figures, written by the thread that drives it. */
  static final class Conn {
    long events;
    long requests;
    long errors;
    String firstError;
    final Histogram latency = new Histogram();

    /** A request answered with {@code status}; its events count when the status is 2xx. */
    void answered(int status, String body, int events, long micros, Progress progress) {
      latency.record(micros);
      if (status / 100 == 2) {
        this.events += events;
        progress.events.addAndGet(events);
      } else {
        error("HTTP " + status + ": " + body, progress);
      }
    }

    /** A request that got no answer: a transport failure, not retried. */
    void failed(String what, long micros, Progress progress) {
      latency.record(micros);
      error(what, progress);
    }

    private void error(String what, Progress progress) {
      errors++;
      progress.errors.incrementAndGet();
      if (firstError == null) {
        firstError = what;
      }
    }
  }
}
