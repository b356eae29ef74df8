package dev.aggregator.http;

import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpServer;
import dev.aggregator.EventAggregator;
import dev.aggregator.http.spi.Binding;
import dev.aggregator.http.spi.HttpTransport;
import dev.aggregator.http.spi.TransportSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Design of the HTTP server.
 *
 * Layers. A transport (the JDK's com.sun.net.httpserver by default, Netty from aggregator-netty)
 * reads requests within the limits and writes answers; the Router and its routes (PublishRoute,
 * ReadRoutes, ServiceMetrics, ClaimRoutes, UiHandler) are the API, the same on every transport; Errors is the
 * one error shape. Mounted on an application's JDK HttpServer, the API is a handler of that server
 * and the application's server is the transport.
 *
 * Threads. The workers run what may block: reads from the store, a Redis forward, and on the JDK
 * transport the exchanges themselves. Virtual threads where the runtime has them (Java 21+, found by
 * reflection since the code is compiled for 17), else a fixed pool of named platform threads. A
 * durable publish parks no thread while its commit is pending: its answer is built where the
 * transport says (an event loop, or a worker) when the commit completes.
 *
 * Shutdown. close() first marks the server closing (new requests: 503 unavailable, /health:
 * unhealthy), waits a bounded time for the requests in flight, then stops the transport (or leaves
 * the application's server) and the threads. It does not close the aggregator: whoever built it
 * owns it (the standalone server closes it after this, which commits everything accepted).
 */
/**
 * The REST API of an {@link EventAggregator} over HTTP/1.1: on a port of its own,
 *
 * <pre>{@code
 * try (EventAggregator aggregator = EventAggregator.builder().build();
 *     AggregatorServer server = AggregatorServer.builder(aggregator).port(8080).start()) {
 *   ...
 * }
 * }</pre>
 *
 * or on an application's own JDK {@link HttpServer}, under a path of its choosing:
 *
 * <pre>{@code
 * AggregatorServer api = AggregatorServer.builder(aggregator).mount(appServer, "/aggregator");
 * // POST /aggregator/publish, GET /aggregator/stats, /aggregator/dashboard ...
 * }</pre>
 *
 * <p>The routes: {@code POST /publish}, {@code GET /events}, {@code /stats}, {@code /health},
 * {@code /prometheus}, {@code /}, the service-metrics API under {@code /metrics/}, and the pages
 * {@code /dashboard}, {@code /docs} (with {@code org.webjars:swagger-ui} on the classpath) and
 * {@code /openapi.json}, which describes them all.
 */
public final class AggregatorServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AggregatorServer.class);

  /** Default of {@link Builder#requestTimeout}. */
  static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(60);

  /** Default of {@link Builder#maxConnections}. */
  static final int DEFAULT_MAX_CONNECTIONS = 1000;

  /** The default size of the platform-thread pool (Java 17-20). */
  static final int DEFAULT_THREADS = 64;

  /** A mount prefix: characters that are safe in a path and in the pages that name it. */
  private static final Pattern PREFIX = Pattern.compile("(/[A-Za-z0-9._~-]+)+");

  /** When a publish is answered. */
  public enum AckMode {
    /** 200 after the events are committed, with an outcome per event. The default. */
    DURABLE,
    /** 202 once the events are queued; they are committed shortly after. */
    QUEUED
  }

  private final Router router;
  private final ExecutorService workers;
  private final ScheduledExecutorService timer;
  private final Duration shutdownGrace;
  private final String threads;
  private final AtomicBoolean closed = new AtomicBoolean();
  private Binding binding; // on a port of its own
  private HttpServer host; // mounted on an application's server
  private HttpContext context;

  private AggregatorServer(Builder b, String prefix) {
    int capacity = b.aggregator.stats().queueCapacity();
    if (b.maxEventsPerRequest > capacity) {
      throw new IllegalStateException(
          "maxEventsPerRequest "
              + b.maxEventsPerRequest
              + " is larger than the aggregator's queue capacity "
              + capacity
              + ": a request that large could never be queued");
    }
    this.shutdownGrace = b.shutdownGrace;
    ExecutorService virtual = b.threads == 0 ? virtualThreadExecutor() : null;
    int n = b.threads == 0 ? DEFAULT_THREADS : b.threads;
    this.workers = virtual != null ? virtual : fixedPool(n);
    this.threads = virtual != null ? "virtual threads" : n + " platform threads";
    this.timer = timer();
    Limits limits =
        new Limits(b.maxBodyBytes, b.maxEventsPerRequest, b.maxNestingDepth, b.maxStringLength);
    JsonBodies bodies = new JsonBodies(limits);
    Prometheus metrics = new Prometheus(b.prometheusTopics, b.processMetrics);
    Commits commits = new Commits(b.ackTimeout, timer);
    this.router =
        new Router(
            new ApiKeys(b.apiKeys),
            b.protectReads,
            new Errors(bodies),
            metrics,
            new UiHandler(prefix),
            workers);
    new ReadRoutes(b.aggregator, bodies, metrics, router::closing, router::endpoints)
        .register(router);
    router.route(
        "/publish",
        "POST",
        new PublishRoute(b.aggregator, bodies, commits, metrics, b.ackMode, b.forwarder, workers));
    new ServiceMetrics(b.aggregator, bodies, commits).register(router);
    // A forwarding front stores nothing locally, so it has no claims to hand out either.
    if (b.forwarder == null && ClaimRoutes.supported(b.aggregator)) {
      new ClaimRoutes(b.aggregator, bodies).register(router);
    }
  }

  /**
   * A builder for a server around {@code aggregator}, which the caller keeps owning (the server
   * never closes it).
   */
  public static Builder builder(EventAggregator aggregator) {
    return new Builder(aggregator);
  }

  /** The version of this build, as {@code GET /} shows it. */
  public static String version() {
    return ReadRoutes.VERSION;
  }

  /** The port the API answers on: the one configured, or the one chosen for port 0. */
  public int port() {
    return address().getPort();
  }

  /** The address the API answers on. */
  public InetSocketAddress address() {
    return binding != null ? binding.address() : host.getAddress();
  }

  /**
   * What serves the requests, for a start-up line: {@code "JDK HttpServer, 64 platform threads"}.
   */
  public String description() {
    return (binding != null ? binding.description() : "mounted at " + context.getPath())
        + ", "
        + threads;
  }

  /**
   * Stops the API: new requests are answered 503 {@code unavailable}, the requests in flight get up
   * to the shutdown grace period (default 10 s) to finish, then the listener and the threads stop
   * (mounted: the API's context is removed from the application's server, which keeps running).
   * Idempotent. Does not close the aggregator.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    router.beginShutdown();
    if (!router.awaitIdle(shutdownGrace)) {
      log.warn(
          "aggregator-server - {} request(s) still in flight after {}; closing their connections",
          router.inFlight(),
          shutdownGrace);
    }
    if (binding != null) {
      binding.close();
    } else {
      host.removeContext(context);
    }
    timer.shutdownNow();
    workers.shutdown();
    try {
      if (!workers.awaitTermination(5, TimeUnit.SECONDS)) {
        workers.shutdownNow();
      }
    } catch (InterruptedException e) {
      workers.shutdownNow();
      Thread.currentThread().interrupt();
    }
    log.info("aggregator-server - Shutdown completed.");
  }

  private void stopThreads() {
    timer.shutdownNow();
    workers.shutdownNow();
  }

  private static ExecutorService virtualThreadExecutor() {
    try {
      // Java 21+: Executors.newVirtualThreadPerTaskExecutor(); compiled for 17, so reflection.
      return (ExecutorService)
          Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
    } catch (NoSuchMethodException e) {
      return null;
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot create the virtual-thread executor", e);
    }
  }

  private static ExecutorService fixedPool(int threads) {
    return new ThreadPoolExecutor(
        threads,
        threads,
        60,
        TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(),
        daemons("aggregator-http-"));
  }

  /** Ack timeouts of requests whose answer thread is not a scheduler of its own. */
  private static ScheduledExecutorService timer() {
    ScheduledThreadPoolExecutor t =
        new ScheduledThreadPoolExecutor(1, daemons("aggregator-timer-"));
    t.setRemoveOnCancelPolicy(true); // cancelled timeouts (nearly all) leave the queue at once
    return t;
  }

  private static ThreadFactory daemons(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /**
   * Configures and starts an {@link AggregatorServer}. Setters check their value at once; {@link
   * #start()} binds the port, {@link #mount} adds the API to an application's server.
   */
  public static final class Builder {
    private final EventAggregator aggregator;
    private String host = "127.0.0.1";
    private int port = 8080;
    private final List<String> apiKeys = new ArrayList<>();
    private boolean protectReads;
    private long maxBodyBytes = 10L << 20;
    private int maxEventsPerRequest = 10_000;
    private int maxNestingDepth = 100;
    private int maxStringLength = 1 << 20;
    private AckMode ackMode = AckMode.DURABLE;
    private PublishForwarder forwarder;
    private int threads;
    private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
    private Duration ackTimeout = Duration.ofSeconds(30);
    private int maxConnections = DEFAULT_MAX_CONNECTIONS;
    private Duration shutdownGrace = Duration.ofSeconds(10);
    private HttpTransport transport = new JdkTransport();
    private int prometheusTopics = 100;
    private boolean processMetrics;

    private Builder(EventAggregator aggregator) {
      this.aggregator = Objects.requireNonNull(aggregator, "aggregator");
    }

    /** The address to bind. Default {@code 127.0.0.1}; {@code 0.0.0.0} for every interface. */
    public Builder host(String host) {
      Objects.requireNonNull(host, "host");
      if (host.isBlank()) {
        throw new IllegalArgumentException("host must not be blank");
      }
      this.host = host;
      return this;
    }

    /**
     * The port; 0 lets the system choose one (see {@link AggregatorServer#port()}). Default 8080.
     */
    public Builder port(int port) {
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("port must be between 0 and 65535, was " + port);
      }
      this.port = port;
      return this;
    }

    /**
     * How requests are carried: the JDK's {@code com.sun.net.httpserver} by default; {@code new
     * dev.aggregator.netty.NettyTransport()} from {@code aggregator-netty} for Netty.
     */
    public Builder transport(HttpTransport transport) {
      this.transport = Objects.requireNonNull(transport, "transport");
      return this;
    }

    /**
     * API keys. When at least one is set, every write ({@code POST}) needs {@code Authorization:
     * Bearer KEY} or {@code X-API-Key: KEY}; {@code /health} always stays open. Default: none.
     */
    public Builder apiKeys(Collection<String> keys) {
      for (String k : keys) {
        if (k == null || k.isBlank()) {
          throw new IllegalArgumentException("an API key must not be blank");
        }
      }
      this.apiKeys.addAll(keys);
      return this;
    }

    /** Also require the API key for reads (everything but {@code /health}). Default false. */
    public Builder protectReads(boolean protect) {
      this.protectReads = protect;
      return this;
    }

    /** The largest request body, checked before it is read. Default 10 MiB. */
    public Builder maxBodyBytes(long bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException("maxBodyBytes must be at least 1, was " + bytes);
      }
      this.maxBodyBytes = bytes;
      return this;
    }

    /**
     * The most events in one publish request; at most the aggregator's queue capacity, or a request
     * that large could never be queued ({@link #start()} checks). Default 10,000.
     */
    public Builder maxEventsPerRequest(int events) {
      if (events < 1) {
        throw new IllegalArgumentException("maxEventsPerRequest must be at least 1, was " + events);
      }
      this.maxEventsPerRequest = events;
      return this;
    }

    /** The deepest nesting of arrays and objects in a request body. Default 100. */
    public Builder maxNestingDepth(int depth) {
      if (depth < 3) {
        throw new IllegalArgumentException("maxNestingDepth must be at least 3, was " + depth);
      }
      this.maxNestingDepth = depth;
      return this;
    }

    /** The longest JSON string value in a request body, in characters. Default 1 Mi. */
    public Builder maxStringLength(int chars) {
      if (chars < 256) {
        throw new IllegalArgumentException("maxStringLength must be at least 256, was " + chars);
      }
      this.maxStringLength = chars;
      return this;
    }

    /** When publishes are answered; default {@link AckMode#DURABLE}. */
    public Builder ackMode(AckMode mode) {
      this.ackMode = Objects.requireNonNull(mode, "ackMode");
      return this;
    }

    /**
     * Makes this a forwarding server: {@code POST /publish} reads and checks the events as usual,
     * then hands them to {@code forwarder} instead of the aggregator and answers {@code 202
     * {"received": n, "queued": n, "stream_ids": [...]}} (whatever {@code ?ack=} says). Nothing of
     * a publish is written to the aggregator's store; the other routes still read and write it, so
     * give the aggregator the store its consumers share to make {@code /stats} and {@code /events}
     * show what they stored. Default: none, publishes go to the aggregator.
     */
    public Builder forwarder(PublishForwarder forwarder) {
      this.forwarder = Objects.requireNonNull(forwarder, "forwarder");
      return this;
    }

    /**
     * A fixed pool of this many platform threads as the workers (store reads, forwards, and the JDK
     * transport's exchanges). Default 0: virtual threads on Java 21+, {@value
     * AggregatorServer#DEFAULT_THREADS} platform threads before.
     */
    public Builder threads(int threads) {
      if (threads < 0) {
        throw new IllegalArgumentException("threads must not be negative, was " + threads);
      }
      this.threads = threads;
      return this;
    }

    /**
     * How long a client may take to send a whole request, counted from when the server starts
     * waiting for it (the connection opened, or the previous answer was written), and to take an
     * answer; a connection over it is closed. Bounds slow and idle clients. Default 60 s. (On the
     * JDK transport the idle part is the JDK server's, set once per JVM: see docs/embedding.md.)
     */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = positive(timeout, "requestTimeout");
      return this;
    }

    /**
     * How long a durable publish waits for its commit; then it is answered 503 {@code unavailable}
     * (its events may still commit: a retry is a harmless duplicate). Default 30 s.
     */
    public Builder ackTimeout(Duration timeout) {
      this.ackTimeout = positive(timeout, "ackTimeout");
      return this;
    }

    private static Duration positive(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, was " + d);
      }
      return d;
    }

    /**
     * The most connections open at once; one more is closed as soon as it is accepted, instead of
     * the server running out of file descriptors. Default {@value
     * AggregatorServer#DEFAULT_MAX_CONNECTIONS}. (On the JDK transport, one value per JVM.)
     */
    public Builder maxConnections(int connections) {
      if (connections < 1) {
        throw new IllegalArgumentException("maxConnections must be at least 1, was " + connections);
      }
      this.maxConnections = connections;
      return this;
    }

    /**
     * How many topics get a series of their own in {@code /prometheus} ({@code
     * aggregator_topic_events}): the largest by count; the others are summed under {@code
     * topic="_other"}, so publishers cannot grow the exposition without bound. Default 100.
     */
    public Builder prometheusTopics(int topics) {
      if (topics < 0) {
        throw new IllegalArgumentException("prometheusTopics must not be negative, was " + topics);
      }
      this.prometheusTopics = topics;
      return this;
    }

    /**
     * Whether {@code /prometheus} also has the JVM's and the process's metrics ({@code process_*},
     * {@code jvm_*}: CPU, memory, threads, file descriptors, garbage collection). Default false: an
     * application that embeds the API usually exports its own; the standalone server turns it on.
     */
    public Builder processMetrics(boolean on) {
      this.processMetrics = on;
      return this;
    }

    /** How long {@link AggregatorServer#close()} waits for requests in flight. Default 10 s. */
    public Builder shutdownGrace(Duration grace) {
      Objects.requireNonNull(grace, "shutdownGrace");
      if (grace.isNegative()) {
        throw new IllegalArgumentException("shutdownGrace must not be negative, was " + grace);
      }
      this.shutdownGrace = grace;
      return this;
    }

    /**
     * Binds the port and starts serving.
     *
     * @throws UncheckedIOException if the address cannot be bound (e.g. the port is taken); its
     *     cause is the {@link java.net.BindException}
     * @throws IllegalStateException if {@link #maxEventsPerRequest} is larger than the aggregator's
     *     queue capacity
     */
    public AggregatorServer start() {
      AggregatorServer server = new AggregatorServer(this, "");
      try {
        server.binding =
            transport.bind(
                new TransportSettings(
                    new InetSocketAddress(host, port),
                    1024,
                    requestTimeout,
                    maxConnections,
                    maxBodyBytes,
                    server.workers),
                server.router);
      } catch (IOException e) {
        server.stopThreads();
        throw new UncheckedIOException(
            "cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
      }
      server.logStarted(host + ":" + server.port(), ackMode, forwarder, apiKeys.size());
      return server;
    }

    /**
     * Serves the API on {@code server}, an application's own JDK HTTP server, under {@code prefix}:
     * {@code POST <prefix>/publish}, {@code GET <prefix>/stats} and so on. The application's server
     * and its executor carry the requests, with its own timeouts and connection limits; this API
     * still refuses bodies over {@link #maxBodyBytes} before reading them. {@link
     * AggregatorServer#close()} removes the API from the server and leaves the server running. The
     * host, port, transport, request timeout and connection cap of this builder do not apply.
     *
     * @param prefix a path like {@code "/aggregator"}, or {@code ""} for the server's root
     * @throws IllegalArgumentException if the prefix is not a plain path, or the server already has
     *     a context there
     */
    public AggregatorServer mount(HttpServer server, String prefix) {
      Objects.requireNonNull(server, "server");
      Objects.requireNonNull(prefix, "prefix");
      if (!prefix.isEmpty() && !PREFIX.matcher(prefix).matches()) {
        throw new IllegalArgumentException(
            "prefix must be empty or a path like /aggregator (letters, digits, . _ ~ -), was '"
                + prefix
                + "'");
      }
      AggregatorServer api = new AggregatorServer(this, prefix);
      try {
        api.context =
            server.createContext(
                prefix + "/",
                new JdkExchangeHandler(
                    api.router, prefix, maxBodyBytes, api.workers, ExchangeWatchdog.NONE));
      } catch (RuntimeException e) {
        api.stopThreads();
        throw e;
      }
      api.host = server;
      if (!"true".equals(System.getProperty("sun.net.httpserver.nodelay"))) {
        log.warn(
            "aggregator-server - the application's JDK HttpServer may run without TCP_NODELAY:"
                + " small answers then wait tens of milliseconds for the client's delayed ACK;"
                + " start the JVM with -Dsun.net.httpserver.nodelay=true (the JDK reads it once,"
                + " before its first server starts)");
      }
      api.logStarted("<application server>" + prefix + "/", ackMode, forwarder, apiKeys.size());
      return api;
    }
  }

  private void logStarted(String where, AckMode ackMode, PublishForwarder forwarder, int keys) {
    log.info(
        "aggregator-server - Started on {} ({}, ack {}, {} API key(s)).",
        where,
        description(),
        forwarder != null ? "forward" : ackMode.name().toLowerCase(Locale.ROOT),
        keys);
  }
}
