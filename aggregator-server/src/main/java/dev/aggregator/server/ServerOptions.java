package dev.aggregator.server;

import dev.aggregator.http.AggregatorServer;
import dev.aggregator.sqlite.SqliteDedupStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * The standalone server's options, each with the environment variable that sets it and its default;
 * {@code --help} prints them. {@link #normalize()} turns what the environment gives (empty
 * variables, comma-separated keys) into the values the server uses.
 */
final class ServerOptions {
  /** The transports {@code --transport} names. */
  enum Transport {
    JDK,
    NETTY
  }

  @Option(
      names = "--host",
      paramLabel = "HOST",
      defaultValue = "${env:HOST:-127.0.0.1}",
      description =
          "Address to bind; 0.0.0.0 for every interface. Env HOST. Default: ${DEFAULT-VALUE}.")
  String host;

  @Option(
      names = "--port",
      paramLabel = "PORT",
      defaultValue = "${env:PORT:-8080}",
      description = "Port to listen on. Env PORT. Default: ${DEFAULT-VALUE}.")
  int port;

  @Option(
      names = "--db",
      paramLabel = "FILE",
      defaultValue = "${env:DATABASE_PATH:-data/aggregator.db}",
      description =
          "SQLite database file, when --store is not set; its directory is created. Env"
              + " DATABASE_PATH. Default: ${DEFAULT-VALUE}.")
  Path db;

  @Option(
      names = "--store",
      paramLabel = "URL",
      defaultValue = "${env:AGGREGATOR_STORE}",
      description =
          "Where events are kept: postgres://user:password@host:5432/db[?schema=s] (or"
              + " postgresql://, jdbc:postgresql://...) to share one PostgreSQL between several"
              + " servers; sqlite:FILE. Env AGGREGATOR_STORE. Default: SQLite at --db.")
  String store;

  @Option(
      names = "--source",
      paramLabel = "URL",
      defaultValue = "${env:AGGREGATOR_SOURCE}",
      description =
          "Also consume a Redis stream or list into the store:"
              + " redis://[user:password@]host:6379/KEY[?type=stream|list] (a stream through the"
              + " consumer group 'aggregator'; a list as a reliable queue). Env AGGREGATOR_SOURCE."
              + " Default: none.")
  String source;

  @Option(
      names = "--consumer",
      paramLabel = "NAME",
      defaultValue = "${env:AGGREGATOR_CONSUMER}",
      description =
          "This server's consumer name in the group, for --source; a stable name lets a restart"
              + " resume its own pending entries at once. Env AGGREGATOR_CONSUMER."
              + " Default: hostname-pid.")
  String consumer;

  @Option(
      names = "--forward",
      paramLabel = "URL",
      defaultValue = "${env:AGGREGATOR_FORWARD}",
      description =
          "Forwarding server: POST /publish appends the events to this Redis stream"
              + " (redis://host:6379/stream) and answers 202 with the stream ids; reads come from"
              + " --store. Env AGGREGATOR_FORWARD. Default: none.")
  String forward;

  @Option(
      names = "--queue-capacity",
      paramLabel = "EVENTS",
      defaultValue = "${env:QUEUE_MAX_SIZE:-100000}",
      description =
          "Most events accepted and not yet committed; beyond it publishes get 503 queue_full."
              + " Env QUEUE_MAX_SIZE. Default: ${DEFAULT-VALUE}.")
  int queueCapacity;

  @Option(
      names = "--retention",
      paramLabel = "DURATION",
      defaultValue = "${env:AGGREGATOR_RETENTION}",
      converter = RetentionOption.class,
      description =
          "Keep events this long after they were received (90s, 15m, 12h, 7d), then remove them"
              + " with their keys: a key is a duplicate exactly while its event is kept. Env"
              + " AGGREGATOR_RETENTION. Default: for ever.")
  Duration retention;

  @Option(
      names = "--max-stored-events",
      paramLabel = "N",
      defaultValue = "${env:AGGREGATOR_MAX_STORED_EVENTS}",
      description =
          "Keep at most this many events; the oldest beyond it are removed with their keys. Env"
              + " AGGREGATOR_MAX_STORED_EVENTS. Default: no limit.")
  String maxStoredEventsText;

  /** {@code --max-stored-events}, read by {@link #normalize()}; null for no limit. */
  Long maxStoredEvents;

  @Option(
      names = "--max-batch",
      paramLabel = "EVENTS",
      defaultValue = "2000",
      description = "Most events committed in one transaction. Default: ${DEFAULT-VALUE}.")
  int maxBatch;

  @Option(
      names = "--sync",
      paramLabel = "normal|full",
      defaultValue = "normal",
      description =
          "SQLite only. normal: a commit survives a process crash; full: also power loss (fsync"
              + " per commit). Default: ${DEFAULT-VALUE}.")
  SqliteDedupStore.Synchronous sync;

  @Option(
      names = "--ack",
      paramLabel = "durable|queued",
      defaultValue = "durable",
      description =
          "durable: answer 200 after the commit, with an outcome per event; queued: answer 202"
              + " once queued. Default: ${DEFAULT-VALUE}.")
  AggregatorServer.AckMode ack;

  @Option(
      names = "--api-key",
      paramLabel = "KEY",
      description =
          "Require this key for writes (repeat for several). Env AGGREGATOR_API_KEY"
              + " (comma-separated). Default: none, open.")
  List<String> apiKeys = new ArrayList<>();

  @Option(
      names = "--protect-reads",
      description = "Require the API key for reads too (all but /health).")
  boolean protectReads;

  @Option(
      names = "--max-body-bytes",
      paramLabel = "BYTES",
      defaultValue = "10485760",
      description = "Largest request body. Default: ${DEFAULT-VALUE} (10 MiB).")
  long maxBodyBytes;

  @Option(
      names = "--max-events",
      paramLabel = "EVENTS",
      defaultValue = "10000",
      description = "Most events in one publish request. Default: ${DEFAULT-VALUE}.")
  int maxEvents;

  @Option(
      names = "--request-timeout",
      paramLabel = "SECONDS",
      defaultValue = "60",
      description =
          "A client must send a whole request within this many seconds of the server waiting for"
              + " it, and take an answer within as long, or its connection is closed (slow and"
              + " idle clients). Default: ${DEFAULT-VALUE}.")
  long requestTimeoutSeconds;

  @Option(
      names = "--max-connections",
      paramLabel = "N",
      defaultValue = "1000",
      description =
          "Most connections open at once; one more is closed at once. Default: ${DEFAULT-VALUE}.")
  int maxConnections;

  @Option(
      names = "--prometheus-topics",
      paramLabel = "N",
      defaultValue = "100",
      description =
          "Topics with a series of their own in /prometheus (the largest; the others are summed"
              + " under topic=\"_other\"). Default: ${DEFAULT-VALUE}.")
  int prometheusTopics;

  @Option(
      names = "--transport",
      paramLabel = "jdk|netty",
      defaultValue = "${env:AGGREGATOR_TRANSPORT:-jdk}",
      description =
          "What carries the requests: jdk, the JDK's own HTTP server; netty, Netty's event"
              + " loops. Env AGGREGATOR_TRANSPORT. Default: ${DEFAULT-VALUE}.")
  Transport transport;

  @Option(
      names = "--io-threads",
      paramLabel = "N",
      defaultValue = "0",
      description =
          "--transport netty only: event loops serving the connections; 0: one per core but one"
              + " (at least one), the other core being the writer's. Default: 0.")
  int ioThreads;

  @Option(
      names = "--log-file",
      paramLabel = "FILE",
      defaultValue = "logs/aggregator.log",
      description =
          "Rolling log file (daily and at 50 MB, 14 days kept). Default: ${DEFAULT-VALUE}.")
  Path logFile;

  @Option(
      names = "--log-level",
      paramLabel = "LEVEL",
      defaultValue = "${env:LOG_LEVEL:-INFO}",
      description = "TRACE, DEBUG, INFO, WARN or ERROR. Env LOG_LEVEL. Default: ${DEFAULT-VALUE}.")
  String logLevel;

  /**
   * Applies what the environment gives: an empty variable ({@code AGGREGATOR_STORE=}) means the
   * default, {@code AGGREGATOR_API_KEY} holds comma-separated keys when no {@code --api-key} is
   * given.
   *
   * @throws IllegalArgumentException for a value no option takes (a bad flag: exit 2)
   */
  void normalize() {
    String level = logLevel.strip().toUpperCase(Locale.ROOT);
    if (!List.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF").contains(level)) {
      throw new IllegalArgumentException(
          "--log-level must be TRACE, DEBUG, INFO, WARN or ERROR, was '" + logLevel + "'");
    }
    logLevel = level;
    maxStoredEventsText = blankToNull(maxStoredEventsText);
    if (maxStoredEventsText != null) {
      try {
        maxStoredEvents = Long.parseLong(maxStoredEventsText);
      } catch (NumberFormatException e) {
        maxStoredEvents = 0L;
      }
      if (maxStoredEvents < 1) {
        throw new IllegalArgumentException(
            "--max-stored-events must be a whole number, at least 1, was '"
                + maxStoredEventsText
                + "'");
      }
    }
    if (maxEvents > queueCapacity) {
      throw new IllegalArgumentException(
          "--max-events "
              + maxEvents
              + " is larger than --queue-capacity "
              + queueCapacity
              + ": a request that large could never be queued; lower --max-events or raise"
              + " --queue-capacity");
    }
    store = blankToNull(store);
    source = blankToNull(source);
    forward = blankToNull(forward);
    consumer = blankToNull(consumer);
    if (apiKeys.isEmpty()) {
      String env = System.getenv("AGGREGATOR_API_KEY");
      if (env != null) {
        Arrays.stream(env.split(","))
            .map(String::strip)
            .filter(k -> !k.isEmpty())
            .forEach(apiKeys::add);
      }
    }
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.strip();
  }
}
