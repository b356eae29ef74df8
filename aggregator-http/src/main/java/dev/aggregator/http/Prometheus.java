package dev.aggregator.http;

import dev.aggregator.AggregatorStats;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * The counters behind {@code GET /prometheus}, and their text exposition (format 0.0.4). Written by
 * hand: a handful of counters, gauges and two histograms do not justify the Prometheus client
 * library and its registry, and the hot path is one {@link LongAdder} increment per request.
 *
 * <p>Every label value comes from a bounded set, so no client can make the exposition grow: routes
 * are the table's or "unmatched", methods the known ones or "other", and topics (which publishers
 * name freely) are the {@code maxTopicSeries} largest by count, the rest summed under {@value
 * #OTHER_TOPICS}.
 */
final class Prometheus {
  /** The label value under which the topics beyond the largest ones are summed. */
  static final String OTHER_TOPICS = "_other";

  private final int maxTopicSeries;
  private final boolean processMetrics;

  /**
   * @param maxTopicSeries how many topics get a series of their own
   * @param processMetrics whether the exposition includes the JVM's and the process's own metrics
   *     (for the standalone server; an embedding application usually exports its own)
   */
  Prometheus(int maxTopicSeries, boolean processMetrics) {
    this.maxTopicSeries = maxTopicSeries;
    this.processMetrics = processMetrics;
  }

  /** Seconds; request durations and publish-to-durable-ack times of a local server. */
  private static final double[] BUCKETS = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
  };

  /** A histogram of seconds with fixed buckets; lock-free. */
  static final class Histogram {
    private final LongAdder[] counts = new LongAdder[BUCKETS.length + 1];
    private final DoubleAdder sum = new DoubleAdder();

    Histogram() {
      for (int i = 0; i < counts.length; i++) {
        counts[i] = new LongAdder();
      }
    }

    void observeNanos(long nanos) {
      double seconds = nanos / 1e9;
      int i = 0;
      while (i < BUCKETS.length && seconds > BUCKETS[i]) {
        i++;
      }
      counts[i].increment();
      sum.add(seconds);
    }

    void write(StringBuilder out, String name, String labels) {
      long cumulative = 0;
      String sep = labels.isEmpty() ? "" : labels + ",";
      for (int i = 0; i < counts.length; i++) {
        cumulative += counts[i].sum();
        String le = i < BUCKETS.length ? format(BUCKETS[i]) : "+Inf";
        out.append(name)
            .append("_bucket{")
            .append(sep)
            .append("le=\"")
            .append(le)
            .append("\"} ")
            .append(cumulative)
            .append('\n');
      }
      String braces = labels.isEmpty() ? "" : "{" + labels + "}";
      out.append(name)
          .append("_sum")
          .append(braces)
          .append(' ')
          .append(format(sum.sum()))
          .append('\n');
      out.append(name).append("_count").append(braces).append(' ').append(cumulative).append('\n');
    }
  }

  private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
  private final Map<String, Histogram> durations = new ConcurrentHashMap<>();
  final Histogram publishAck = new Histogram();

  /** The methods counted by name; any other is counted as "other", so no client can add labels. */
  private static final java.util.Set<String> METHODS =
      java.util.Set.of("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS");

  /**
   * Counts one request; {@code route} is a known route or {@code "unmatched"}, never a raw path.
   */
  void request(String route, String method, int status, long nanos) {
    String m = METHODS.contains(method) ? method : "other";
    String key = "route=\"" + route + "\",method=\"" + m + "\",status=\"" + status + "\"";
    requests.computeIfAbsent(key, k -> new LongAdder()).increment();
    durations.computeIfAbsent("route=\"" + route + "\"", k -> new Histogram()).observeNanos(nanos);
  }

  String exposition(AggregatorStats s, boolean healthy) {
    StringBuilder out = new StringBuilder(4096);
    counter(
        out,
        "aggregator_events_received_total",
        "Events committed, new or duplicate.",
        s.received());
    counter(
        out, "aggregator_events_unique_total", "Events stored (new keys).", s.uniqueProcessed());
    counter(
        out,
        "aggregator_events_duplicate_total",
        "Events dropped as duplicates.",
        s.duplicateDropped());
    gauge(out, "aggregator_events_stored", "Events stored now (unique less expired).", s.stored());
    counter(
        out,
        "aggregator_events_expired_total",
        "Events removed by the retention or the cap on stored events.",
        s.expired());
    counter(
        out,
        "aggregator_payload_conflicts_total",
        "Duplicates whose payload differed from the stored event's.",
        s.payloadConflicts());
    topicSeries(out, s.topicCounts());
    gauge(
        out,
        "aggregator_claims_pending",
        "Keys claimed by a consumer guard and neither confirmed nor released yet.",
        s.claims().pending());
    counter(
        out,
        "aggregator_claims_confirmed_total",
        "Claims confirmed: the handler succeeded and its key is stored.",
        s.claims().confirmed());
    counter(
        out,
        "aggregator_claims_released_total",
        "Claims released after a failed handler, for the next delivery to run it again.",
        s.claims().released());
    counter(
        out,
        "aggregator_claim_leases_expired_total",
        "Claims taken over by a later delivery after their lease ran out (a handler that died or"
            + " outlived its lease).",
        s.claims().leasesExpired());
    gauge(out, "aggregator_queue_size", "Events accepted and not yet committed.", s.queueSize());
    gauge(out, "aggregator_queue_capacity", "The most events the queue holds.", s.queueCapacity());
    counter(
        out,
        "aggregator_batches_committed_total",
        "Transactions committed since start.",
        s.batchesCommitted());
    counter(
        out,
        "aggregator_batched_events_total",
        "Events in the committed transactions since start (divide by batches for the mean batch"
            + " size).",
        s.batchedEvents());
    gauge(
        out,
        "aggregator_batch_size_max",
        "The most events committed in one transaction since start.",
        s.largestBatch());
    counter(
        out,
        "aggregator_batches_failed_total",
        "Transactions rolled back since start.",
        s.batchesFailed());
    gauge(
        out,
        "aggregator_writer_running",
        "1 if the writer thread is alive.",
        s.writerRunning() ? 1 : 0);
    gauge(out, "aggregator_healthy", "1 if /health answers healthy.", healthy ? 1 : 0);
    header(out, "aggregator_uptime_seconds", "Seconds since the aggregator started.", "gauge");
    out.append("aggregator_uptime_seconds ")
        .append(format(s.uptime().toMillis() / 1000.0))
        .append('\n');

    header(
        out,
        "aggregator_publish_durable_ack_seconds",
        "Time from handing a publish to the aggregator to its commit (queue wait + commit), per"
            + " durable publish request.",
        "histogram");
    publishAck.write(out, "aggregator_publish_durable_ack_seconds", "");

    header(
        out,
        "aggregator_http_requests_total",
        "HTTP requests by route, method and status.",
        "counter");
    for (Map.Entry<String, LongAdder> e : new TreeMap<>(requests).entrySet()) {
      out.append("aggregator_http_requests_total{")
          .append(e.getKey())
          .append("} ")
          .append(e.getValue().sum())
          .append('\n');
    }
    header(
        out,
        "aggregator_http_request_duration_seconds",
        "HTTP request durations by route, from the first byte handled to the last byte sent.",
        "histogram");
    for (Map.Entry<String, Histogram> e : new TreeMap<>(durations).entrySet()) {
      e.getValue().write(out, "aggregator_http_request_duration_seconds", e.getKey());
    }
    if (processMetrics) {
      ProcessMetrics.write(out);
    }
    return out.toString();
  }

  /**
   * {@code aggregator_topic_events} for the {@code maxTopicSeries} largest topics (first seen first
   * among equals), one series for the sum of the others, and the number of topics.
   */
  private void topicSeries(StringBuilder out, Map<String, Long> counts) {
    gauge(out, "aggregator_topics", "Topics with events stored.", counts.size());
    header(
        out,
        "aggregator_topic_events",
        "Events stored per topic: the "
            + maxTopicSeries
            + " largest, the others summed under topic=\""
            + OTHER_TOPICS
            + "\".",
        "gauge");
    List<Map.Entry<String, Long>> largest = largest(counts, maxTopicSeries);
    long others = 0;
    for (long c : counts.values()) {
      others += c;
    }
    for (Map.Entry<String, Long> e : largest) {
      others -= e.getValue();
      out.append("aggregator_topic_events{topic=\"")
          .append(escape(e.getKey()))
          .append("\"} ")
          .append(e.getValue())
          .append('\n');
    }
    if (counts.size() > largest.size()) {
      out.append("aggregator_topic_events{topic=\"")
          .append(OTHER_TOPICS)
          .append("\"} ")
          .append(others)
          .append('\n');
    }
  }

  /** The {@code n} entries with the largest counts, largest first; a bounded heap, not a sort. */
  private static List<Map.Entry<String, Long>> largest(Map<String, Long> counts, int n) {
    PriorityQueue<Map.Entry<String, Long>> heap =
        new PriorityQueue<>(Math.max(1, n), Map.Entry.comparingByValue());
    for (Map.Entry<String, Long> e : counts.entrySet()) {
      if (heap.size() < n) {
        heap.add(e);
      } else if (n > 0 && e.getValue() > heap.peek().getValue()) {
        heap.poll();
        heap.add(e);
      }
    }
    List<Map.Entry<String, Long>> list = new ArrayList<>(heap);
    list.sort(Map.Entry.<String, Long>comparingByValue().reversed());
    return list;
  }

  static void counter(StringBuilder out, String name, String help, long value) {
    header(out, name, help, "counter");
    out.append(name).append(' ').append(value).append('\n');
  }

  static void gauge(StringBuilder out, String name, String help, long value) {
    header(out, name, help, "gauge");
    out.append(name).append(' ').append(value).append('\n');
  }

  static void header(StringBuilder out, String name, String help, String type) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  static String format(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15
        ? Long.toString((long) v)
        : java.math.BigDecimal.valueOf(v).toPlainString();
  }

  /** Label values: backslash, double quote and newline are escaped, as the format requires. */
  static String escape(String s) {
    StringBuilder b = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      String r = c == '\\' ? "\\\\" : c == '"' ? "\\\"" : c == '\n' ? "\\n" : null;
      if (r != null && b == null) {
        b = new StringBuilder(s.length() + 8).append(s, 0, i);
      }
      if (b != null) {
        if (r != null) {
          b.append(r);
        } else {
          b.append(c);
        }
      }
    }
    return b == null ? s : b.toString();
  }
}
