package dev.aggregator.server;

import dev.aggregator.AggregatorStats;
import dev.aggregator.EventAggregator;
import dev.aggregator.http.AggregatorServer;
import dev.aggregator.netty.NettyTransport;
import dev.aggregator.redis.RedisSource;
import dev.aggregator.redis.RedisStreamForwarder;
import dev.aggregator.store.DedupStore;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's parts, built in order from its options: the store, the aggregator over it, the Redis
 * forwarder and source when asked for, and the HTTP server last, so that nothing is served before
 * what it needs is open. {@link Parts} owns them all and closes them in the reverse order: the
 * server stops taking requests first, the source commits and acknowledges its last batch, and the
 * aggregator commits everything accepted before the store closes.
 */
final class StandaloneServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StandaloneServer.class);

  private final Parts parts = new Parts();
  private final DedupStore store;
  private final EventAggregator aggregator;
  private final RedisStreamForwarder forwarder;
  private final RedisSource source;
  private final AggregatorServer server;

  /**
   * Starts everything, or closes what it had opened and rethrows.
   *
   * @throws IllegalArgumentException for a bad option value (exit 2)
   * @throws java.io.UncheckedIOException if the port cannot be bound
   * @throws RuntimeException if a store, Redis or the port cannot be opened (exit 1)
   */
  StandaloneServer(ServerOptions o) {
    try {
      store = parts.add(Backends.openStore(o.store, o.db, o.sync));
      EventAggregator.Builder ab =
          EventAggregator.builder()
              .store(store)
              .queueCapacity(o.queueCapacity)
              .maxBatchSize(o.maxBatch);
      if (o.retention != null) {
        ab.retention(o.retention);
      }
      if (o.maxStoredEvents != null) {
        ab.maxStoredEvents(o.maxStoredEvents);
      }
      aggregator = parts.add(ab.build());
      forwarder = o.forward == null ? null : parts.add(RedisStreamForwarder.open(o.forward));
      source = o.source == null ? null : parts.add(source(o, aggregator));
      AggregatorServer.Builder b =
          AggregatorServer.builder(aggregator)
              .host(o.host)
              .port(o.port)
              .apiKeys(o.apiKeys)
              .protectReads(o.protectReads)
              .maxBodyBytes(o.maxBodyBytes)
              .maxEventsPerRequest(o.maxEvents)
              .requestTimeout(Duration.ofSeconds(o.requestTimeoutSeconds))
              .maxConnections(o.maxConnections)
              .prometheusTopics(o.prometheusTopics)
              .processMetrics(true)
              .ackMode(o.ack);
      if (o.transport == ServerOptions.Transport.NETTY) {
        b.transport(new NettyTransport(o.ioThreads));
      } else if (o.ioThreads != 0) {
        log.warn(
            "--io-threads {} is for --transport netty; the JDK transport ignores it", o.ioThreads);
      }
      if (forwarder != null) {
        b.forwarder(forwarder::forward);
      }
      server = parts.add(b.start());
    } catch (RuntimeException e) {
      try {
        parts.close();
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  private static RedisSource source(ServerOptions o, EventAggregator aggregator) {
    RedisSource.Builder sb = RedisSource.builder(o.source, aggregator);
    if (o.consumer != null) {
      sb.consumer(o.consumer);
    }
    return sb.start();
  }

  /** The start-up lines: where it listens, where the data is, what it consumes and forwards. */
  void printStarted(ServerOptions o, PrintWriter out) {
    AggregatorStats s = aggregator.stats();
    out.println(
        "aggregator-server "
            + AggregatorServer.version()
            + " listening on http://"
            + o.host
            + ":"
            + server.port()
            + " ("
            + server.description()
            + ")");
    Path sqlite = Backends.sqlitePath(o.store, o.db);
    out.println(
        "data: "
            + (sqlite != null ? sqlite.toAbsolutePath().toString() : store.describe())
            + " ("
            + s.uniqueProcessed()
            + " events stored, "
            + s.received()
            + " received)");
    if (source != null) {
      out.println("source: " + source);
    }
    if (forwarder != null) {
      out.println("forward: POST /publish appends to the stream " + forwarder.stream());
    }
    if (o.retention != null || o.maxStoredEvents != null) {
      out.println(
          "retention: "
              + (o.retention != null
                  ? o.retention.toString().substring(2).toLowerCase(java.util.Locale.ROOT)
                  : "none")
              + ", at most "
              + (o.maxStoredEvents != null ? o.maxStoredEvents + " events" : "any number of events")
              + " (a key is a duplicate while its event is kept; "
              + s.expired()
              + " expired so far)");
    }
    out.println("log: " + o.logFile.toAbsolutePath());
    out.flush();
  }

  /** Closes every part, the server first; then the counters as committed. */
  @Override
  public void close() {
    parts.close();
  }

  /** The counters once everything is closed (the aggregator keeps them readable). */
  AggregatorStats finalStats() {
    return aggregator.stats();
  }
}
