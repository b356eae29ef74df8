package dev.aggregator.http;

import com.sun.net.httpserver.HttpServer;
import dev.aggregator.EventAggregator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Design of the HTTP server.
 *
 * Transport. The JDK's com.sun.net.httpserver: no dependency, HTTP/1.1 keep-alive, and fast
 * enough once TCP_NODELAY is on (DESIGN.md: ~350 req/s without it on Java 17 because of Nagle and
 * delayed ACK, ~19,000 with it). The JDK reads sun.net.httpserver.nodelay once, when its
 * ServerConfig class loads, so this class sets it in its static initializer, before it creates
 * the first HttpServer, unless the user set it.
 *
 * Threads. One handler per exchange on the executor: virtual threads where the runtime has them
 * (Java 21+, found by reflection since the code is compiled for 17), else a fixed pool of named
 * platform threads. A durable publish blocks its thread until the writer commits, so the pool is
 * larger than the core count: its size bounds the publishes waiting for a commit at once, which is
 * also what lets group commit build batches.
 *
 * Exchanges. Every exchange gets exactly one response and is closed in a finally, with what is
 * left of the request body drained (by the JDK) or the connection dropped if too much is left.
 * Errors are mapped to the one JSON error shape in one place (Errors).
 *
 * Shutdown. close() first marks the server closing (new requests: 503 unavailable, /health:
 * unhealthy), waits a bounded time for the requests in flight, then stops the listener and the
 * executor. It does not close the aggregator: whoever built it owns it (Main closes it after the
 * server, which commits everything accepted).
 */
/**
 * The REST API of an {@link EventAggregator} on the JDK's HTTP server, for the standalone jar and
 * for applications that embed it:
 *
 * <pre>{@code
 * try (EventAggregator aggregator = EventAggregator.builder().build();
 *     AggregatorServer server = AggregatorServer.builder(aggregator).port(0).start()) {
 *   System.out.println("listening on " + server.port());
 *   ...
 * }
 * }</pre>
 *
 * The contract is HTTP-API.md: {@code POST /publish}, {@code GET /events}, {@code /stats}, {@code
 * /health}, {@code /prometheus}, {@code /}, and the service-metrics API under {@code /metrics/}.
 */
public final class AggregatorServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AggregatorServer.class);

  /** Default of {@code sun.net.httpserver.maxReqTime}, in seconds. */
  static final int DEFAULT_MAX_REQUEST_SECONDS = 60;

  /** Default of {@code sun.net.httpserver.maxRspTime}, in seconds. */
  static final int DEFAULT_MAX_RESPONSE_SECONDS = 60;

  /** Default of {@code jdk.httpserver.maxConnections}. */
  static final int DEFAULT_MAX_CONNECTIONS = 1000;

  static {
    // Must happen before the JDK's HttpServer implementation loads its configuration; a value the
    // user set (-D...) wins.
    setDefault("sun.net.httpserver.nodelay", "true");
    // Slow clients: a request (headers and body) must arrive within 60 s and a response be taken
    // within 60 s, or the JDK closes the connection. Without these the JDK waits forever, and a
    // slowloris client that sends one byte a minute pins a handler thread for good.
    setDefault("sun.net.httpserver.maxReqTime", String.valueOf(DEFAULT_MAX_REQUEST_SECONDS));
    setDefault("sun.net.httpserver.maxRspTime", String.valueOf(DEFAULT_MAX_RESPONSE_SECONDS));
    // Too many clients: beyond this many open connections the JDK closes new ones at once (the
    // client sees the connection closed, never a hang or a 500), instead of running out of file
    // descriptors. JDK 17.0.5+ and 19+ read it; older runtimes ignore it.
    setDefault("jdk.httpserver.maxConnections", String.valueOf(DEFAULT_MAX_CONNECTIONS));
  }

  private static void setDefault(String property, String value) {
    if (System.getProperty(property) == null) {
      System.setProperty(property, value);
    }
  }

  /** When a publish is answered. */
  public enum AckMode {
    /** 200 after the events are committed, with an outcome per event. The default. */
    DURABLE,
    /** 202 once the events are queued; they are committed shortly after. */
    QUEUED
  }

  private final HttpServer server;
  private final ExecutorService executor;
  private final Api api;
  private final Duration shutdownGrace;
  private final String threads;
  private final AtomicInteger closed = new AtomicInteger();

  private AggregatorServer(Builder b) throws IOException {
    Limits limits =
        new Limits(b.maxBodyBytes, b.maxEventsPerRequest, b.maxNestingDepth, b.maxStringLength);
    this.api =
        new Api(
            b.aggregator, limits, b.ackMode, b.forwarder, new ApiKeys(b.apiKeys), b.protectReads);
    this.shutdownGrace = b.shutdownGrace;
    ExecutorService virtual = virtualThreadExecutor();
    if (virtual != null && b.threads == 0) {
      this.executor = virtual;
      this.threads = "virtual threads";
    } else {
      int n = b.threads == 0 ? DEFAULT_THREADS : b.threads;
      this.executor = fixedPool(n);
      this.threads = n + " platform threads";
    }
    try {
      this.server = HttpServer.create(new InetSocketAddress(b.host, b.port), b.backlog);
    } catch (IOException e) {
      executor.shutdownNow();
      throw e;
    }
    server.setExecutor(executor);
    server.createContext("/", api);
    new UiHandler(api.metrics).register(server); // /dashboard, /docs, /openapi.json
    server.start();
    log.info(
        "aggregator-server - Started on http://{}:{} ({}, ack {}, {} API key(s)).",
        b.host,
        port(),
        threads,
        b.forwarder != null ? "forward" : b.ackMode.name().toLowerCase(java.util.Locale.ROOT),
        b.apiKeys.size());
  }

  /** The default size of the platform-thread pool (Java 17-20). */
  static final int DEFAULT_THREADS = 64;

  /**
   * A builder for a server around {@code aggregator}, which the caller keeps owning (the server
   * never closes it).
   */
  public static Builder builder(EventAggregator aggregator) {
    return new Builder(aggregator);
  }

  /** The port the server listens on: the one configured, or the one chosen for port 0. */
  public int port() {
    return server.getAddress().getPort();
  }

  /** The address the server listens on. */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  /** What runs the handlers: {@code "virtual threads"} or {@code "64 platform threads"}. */
  public String threads() {
    return threads;
  }

  /**
   * Stops the server: new requests are answered 503 {@code unavailable}, the requests in flight get
   * up to the shutdown grace period (default 10 s) to finish, then the listener and the threads
   * stop. Idempotent. Does not close the aggregator.
   */
  @Override
  public void close() {
    if (closed.getAndIncrement() != 0) {
      return;
    }
    api.beginShutdown();
    boolean drained = api.awaitIdle(shutdownGrace);
    if (!drained) {
      log.warn(
          "aggregator-server - {} request(s) still in flight after {}; closing their connections",
          api.inFlight(),
          shutdownGrace);
    }
    server.stop(0);
    executor.shutdown();
    try {
      if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      executor.shutdownNow();
      Thread.currentThread().interrupt();
    }
    log.info("aggregator-server - Shutdown completed.");
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
    AtomicInteger n = new AtomicInteger();
    ThreadFactory factory =
        r -> {
          Thread t = new Thread(r, "aggregator-http-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        };
    return new ThreadPoolExecutor(
        threads, threads, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), factory);
  }

  /**
   * Configures and starts an {@link AggregatorServer}. Setters check their value at once; {@link
   * #start()} binds the port.
   */
  public static final class Builder {
    private final EventAggregator aggregator;
    private String host = "127.0.0.1";
    private int port = 8080;
    private int backlog = 1024;
    private final List<String> apiKeys = new ArrayList<>();
    private boolean protectReads;
    private long maxBodyBytes = 10L << 20;
    private int maxEventsPerRequest = 10_000;
    private int maxNestingDepth = 100;
    private int maxStringLength = 1 << 20;
    private AckMode ackMode = AckMode.DURABLE;
    private PublishForwarder forwarder;
    private int threads;
    private Duration shutdownGrace = Duration.ofSeconds(10);

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

    /** The most events in one publish request. Default 10,000. */
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
     * A fixed pool of this many platform threads for the handlers. Default 0: virtual threads on
     * Java 21+, {@value AggregatorServer#DEFAULT_THREADS} platform threads before.
     */
    public Builder threads(int threads) {
      if (threads < 0) {
        throw new IllegalArgumentException("threads must not be negative, was " + threads);
      }
      this.threads = threads;
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
     */
    public AggregatorServer start() {
      try {
        return new AggregatorServer(this);
      } catch (IOException e) {
        throw new UncheckedIOException(
            "cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
      }
    }
  }
}
