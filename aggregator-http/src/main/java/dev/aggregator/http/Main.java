package dev.aggregator.http;

import ch.qos.logback.classic.LoggerContext;
import dev.aggregator.AggregatorStats;
import dev.aggregator.EventAggregator;
import dev.aggregator.redis.RedisStreamForwarder;
import dev.aggregator.redis.RedisStreamSource;
import dev.aggregator.sqlite.SqliteDedupStore;
import dev.aggregator.store.DedupStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The standalone server: {@code java -jar aggregator-server.jar [options]}; {@code --help} lists
 * the options and the environment variables that set them.
 *
 * <p>Exit status: 0 after SIGTERM or Ctrl-C once everything accepted is committed; 2 for a bad
 * option; 1 when the server cannot start (port taken, database unusable), with one line on stderr
 * saying why.
 */
@Command(
    name = "aggregator-server",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    sortOptions = false,
    usageHelpWidth = 100,
    description = {
      "Idempotent event aggregator: keeps each (topic, event_id) exactly once, durably, with"
          + " exact counters, behind a small REST API.",
      ""
    })
public final class Main implements Callable<Integer> {

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
          "Also consume a Redis stream into the store: redis://[user:password@]host:6379/stream"
              + " (consumer group 'aggregator'). Env AGGREGATOR_SOURCE. Default: none.")
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
      names = "--io-threads",
      paramLabel = "N",
      defaultValue = "0",
      description =
          "Event loops serving the connections; 0: one per core but one (at least one), the"
              + " other core being the writer's. Default: 0.")
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

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Runs the server until SIGTERM or Ctrl-C. */
  public static void main(String[] args) {
    CommandLine cli = new CommandLine(new Main());
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    cli.setParameterExceptionHandler(
        (e, a) -> {
          // One line, no usage dump: the error is what the user needs to see.
          e.getCommandLine()
              .getErr()
              .println("aggregator-server: " + e.getMessage() + " (see --help)");
          return 2;
        });
    int status = cli.execute(args);
    if (status != 0) {
      System.exit(status);
    }
  }

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    String level = logLevel.strip().toUpperCase(Locale.ROOT);
    if (!List.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF").contains(level)) {
      err.println(
          "aggregator-server: --log-level must be TRACE, DEBUG, INFO, WARN or ERROR, was '"
              + logLevel
              + "' (see --help)");
      return 2;
    }
    if (apiKeys.isEmpty()) {
      String env = System.getenv("AGGREGATOR_API_KEY");
      if (env != null) {
        Arrays.stream(env.split(","))
            .map(String::strip)
            .filter(k -> !k.isEmpty())
            .forEach(apiKeys::add);
      }
    }
    // Before the first logger exists: logback.xml reads these when it configures itself.
    System.setProperty("aggregator.log.file", logFile.toString());
    System.setProperty("aggregator.log.level", level);

    EventAggregator aggregator;
    AggregatorServer server;
    RedisStreamForwarder forwarder = null;
    RedisStreamSource consumerLoop = null;
    DedupStore dedupStore;
    try {
      checkUrls();
      if (port != 0) {
        checkPortFree(); // before the database is opened and logged: the common mistake, caught
        // first
      }
      DedupStore store = Backends.openStore(this.store, db, sync);
      dedupStore = store;
      try {
        aggregator =
            EventAggregator.builder()
                .store(store)
                .queueCapacity(queueCapacity)
                .maxBatchSize(maxBatch)
                .build();
      } catch (RuntimeException e) {
        store.close();
        throw e;
      }
      try {
        AggregatorServer.Builder b =
            AggregatorServer.builder(aggregator)
                .host(host)
                .port(port)
                .apiKeys(apiKeys)
                .protectReads(protectReads)
                .maxBodyBytes(maxBodyBytes)
                .maxEventsPerRequest(maxEvents)
                .requestTimeout(java.time.Duration.ofSeconds(requestTimeoutSeconds))
                .maxConnections(maxConnections)
                .ioThreads(ioThreads)
                .ackMode(ack);
        if (forward != null) {
          forwarder = RedisStreamForwarder.open(forward);
          b.forwarder(forwarder::forward);
        }
        if (source != null) {
          RedisStreamSource.Builder sb = RedisStreamSource.builder(source, aggregator);
          if (consumer != null && !consumer.isBlank()) {
            sb.consumer(consumer.strip());
          }
          consumerLoop = sb.start();
        }
        server = b.start();
      } catch (RuntimeException e) {
        closeQuietly(consumerLoop);
        closeQuietly(forwarder);
        aggregator.close();
        throw e;
      }
    } catch (IllegalArgumentException e) {
      err.println("aggregator-server: " + e.getMessage() + " (see --help)");
      return 2;
    } catch (UncheckedIOException e) {
      String why = e.getCause().getMessage(); // "Address already in use", "Cannot assign ..."
      err.println("aggregator-server: cannot listen on " + host + ":" + port + ": " + why);
      return 1;
    } catch (RuntimeException e) {
      err.println("aggregator-server: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
      return 1;
    }

    AggregatorStats s = aggregator.stats();
    PrintWriter out = spec.commandLine().getOut();
    out.println(
        "aggregator-server "
            + Api.VERSION
            + " listening on http://"
            + host
            + ":"
            + server.port()
            + " ("
            + server.ioThreads()
            + " I/O thread(s), "
            + server.threads()
            + ")");
    Path sqlite = Backends.sqlitePath(store, db);
    out.println(
        "data: "
            + (sqlite != null ? sqlite.toAbsolutePath().toString() : dedupStore.describe())
            + " ("
            + s.uniqueProcessed()
            + " events stored, "
            + s.received()
            + " received)");
    if (consumerLoop != null) {
      out.println(
          "source: "
              + consumerLoop.stream()
              + " (group "
              + consumerLoop.group()
              + ", consumer "
              + consumerLoop.consumer()
              + ")");
    }
    if (forwarder != null) {
      out.println("forward: POST /publish appends to the stream " + forwarder.stream());
    }
    out.println("log: " + logFile.toAbsolutePath());
    out.flush();

    RedisStreamSource loop = consumerLoop;
    RedisStreamForwarder fwd = forwarder;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(() -> stop(server, loop, fwd, aggregator, out), "aggregator-shutdown"));
    try {
      new CountDownLatch(1).await(); // until the shutdown hook halts the JVM
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  /**
   * SIGTERM or Ctrl-C: stop accepting, let requests in flight finish, commit everything accepted,
   * flush the logs, and exit 0 - a clean stop is a success, not the JVM's 143 for a signal. Exit 1
   * if something could not be closed cleanly.
   */
  private static void stop(
      AggregatorServer server,
      RedisStreamSource source,
      RedisStreamForwarder forwarder,
      EventAggregator aggregator,
      PrintWriter out) {
    int status = 1;
    try {
      server.close();
      if (source != null) {
        source.close(); // before the aggregator: its last batch is committed and acked
      }
      if (forwarder != null) {
        forwarder.close();
      }
      aggregator.close();
      AggregatorStats last = aggregator.stats();
      out.println(
          "aggregator-server stopped: "
              + last.received()
              + " received, "
              + last.uniqueProcessed()
              + " stored, all committed");
      status = 0;
    } catch (RuntimeException e) {
      out.println("aggregator-server: stopping failed: " + e.getMessage());
    } finally {
      out.flush();
      try {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext logback) {
          logback.stop(); // flush the async appenders
        }
      } finally {
        Runtime.getRuntime().halt(status);
      }
    }
  }

  /** An empty environment variable ({@code AGGREGATOR_STORE=}) means the default. */
  private void checkUrls() {
    if (store != null && store.isBlank()) {
      store = null;
    }
    if (source != null && source.isBlank()) {
      source = null;
    }
    if (forward != null && forward.isBlank()) {
      forward = null;
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      // already failing to start; the first error is the one reported
    }
  }

  /**
   * Binds and releases the port. The real bind can still fail if another process takes the port in
   * between; that failure is reported the same way.
   */
  private void checkPortFree() {
    try (ServerSocket probe = new ServerSocket()) {
      probe.setReuseAddress(true);
      probe.bind(new InetSocketAddress(host, port));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The version from the build, for {@code --version}. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"aggregator-server " + Api.VERSION};
    }
  }
}
