package dev.aggregator.http;

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
 * Transport. Netty's HTTP/1.1 codec on NIO event loops (Transport has the why and the limits).
 * Keep-alive, TCP_NODELAY, one request at a time per connection.
 *
 * Threads. ioThreads event loops decode requests, run publishes up to the queue, and write
 * answers; a durable publish parks no thread while its commit is pending. By default there is one
 * loop per core but one, which is left to the aggregator's writer: the single thread that commits
 * every publish is busy under load, and loops beyond the remaining cores only add context switches
 * and cross-core wake-ups to each request. Measured on 2 cores, single-event publishes over 16
 * connections: one loop 50-70 us of server CPU per request and 17,000-21,500 requests/s, two
 * loops 66-83 us and 14,800-18,300 (five interleaved pairs); 100-event publishes the same with
 * either.
 * Routes that may block (reads from the store, a Redis forward, the service-metrics commit) run
 * on the blocking executor: virtual threads where the runtime has them (Java 21+, found by
 * reflection since the code is compiled for 17), else a fixed pool of named platform threads.
 *
 * Exchanges. Every request gets exactly one answer, in the one JSON error shape for every
 * failure (Errors), logged and counted once (Api).
 *
 * Shutdown. close() first marks the server closing (new requests: 503 unavailable, /health:
 * unhealthy), waits a bounded time for the requests in flight, then stops the listener, the
 * connections, the event loops and the blocking executor. It does not close the aggregator:
 * whoever built it owns it (Main closes it after the server, which commits everything accepted).
 */
/**
 * The REST API of an {@link EventAggregator} over HTTP/1.1, for the standalone jar and for
 * applications that embed it:
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

  /** Default of {@link Builder#requestTimeout}. */
  static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(60);

  /** Default of {@link Builder#maxConnections}. */
  static final int DEFAULT_MAX_CONNECTIONS = 1000;

  /** When a publish is answered. */
  public enum AckMode {
    /** 200 after the events are committed, with an outcome per event. The default. */
    DURABLE,
    /** 202 once the events are queued; they are committed shortly after. */
    QUEUED
  }

  private final Transport transport;
  private final ExecutorService blocking;
  private final Api api;
  private final Duration shutdownGrace;
  private final String threads;
  private final int ioThreads;
  private final AtomicInteger closed = new AtomicInteger();

  private AggregatorServer(Builder b) throws IOException {
    Limits limits =
        new Limits(b.maxBodyBytes, b.maxEventsPerRequest, b.maxNestingDepth, b.maxStringLength);
    this.shutdownGrace = b.shutdownGrace;
    ExecutorService virtual = virtualThreadExecutor();
    if (virtual != null && b.threads == 0) {
      this.blocking = virtual;
      this.threads = "virtual threads";
    } else {
      int n = b.threads == 0 ? DEFAULT_THREADS : b.threads;
      this.blocking = fixedPool(n);
      this.threads = n + " platform threads";
    }
    this.ioThreads =
        b.ioThreads == 0
            ? Math.max(1, Runtime.getRuntime().availableProcessors() - 1)
            : b.ioThreads;
    this.api =
        new Api(
            b.aggregator,
            limits,
            b.ackMode,
            b.forwarder,
            new ApiKeys(b.apiKeys),
            b.protectReads,
            blocking,
            b.ackTimeout);
    try {
      this.transport =
          new Transport(
              api,
              b.host,
              b.port,
              b.backlog,
              ioThreads,
              b.requestTimeout,
              b.maxConnections,
              b.maxBodyBytes);
    } catch (IOException e) {
      blocking.shutdownNow();
      throw e;
    }
    log.info(
        "aggregator-server - Started on http://{}:{} ({} I/O thread(s), {}, ack {}, {} API key(s)).",
        b.host,
        port(),
        ioThreads,
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
    return transport.address().getPort();
  }

  /** The address the server listens on. */
  public InetSocketAddress address() {
    return transport.address();
  }

  /**
   * What runs the routes that may block: {@code "virtual threads"} or {@code "64 platform
   * threads"}.
   */
  public String threads() {
    return threads;
  }

  /** How many event loops serve the connections. */
  public int ioThreads() {
    return ioThreads;
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
    transport.close();
    blocking.shutdown();
    try {
      if (!blocking.awaitTermination(5, TimeUnit.SECONDS)) {
        blocking.shutdownNow();
      }
    } catch (InterruptedException e) {
      blocking.shutdownNow();
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
    private int ioThreads;
    private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
    private Duration ackTimeout = Duration.ofSeconds(30);
    private int maxConnections = DEFAULT_MAX_CONNECTIONS;
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
     * A fixed pool of this many platform threads for the routes that may block (reads, forwards).
     * Default 0: virtual threads on Java 21+, {@value AggregatorServer#DEFAULT_THREADS} platform
     * threads before.
     */
    public Builder threads(int threads) {
      if (threads < 0) {
        throw new IllegalArgumentException("threads must not be negative, was " + threads);
      }
      this.threads = threads;
      return this;
    }

    /**
     * How many event loops serve the connections. Default 0: one per available processor but one
     * (at least one), the other being the aggregator writer's.
     */
    public Builder ioThreads(int threads) {
      if (threads < 0) {
        throw new IllegalArgumentException("ioThreads must not be negative, was " + threads);
      }
      this.ioThreads = threads;
      return this;
    }

    /**
     * How long a client may take to send a whole request, counted from when the server starts
     * waiting for it (the connection opened, or the previous answer was written), and to take an
     * answer; a connection over it is closed. Bounds slow and idle clients. Default 60 s.
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
     * AggregatorServer#DEFAULT_MAX_CONNECTIONS}.
     */
    public Builder maxConnections(int connections) {
      if (connections < 1) {
        throw new IllegalArgumentException("maxConnections must be at least 1, was " + connections);
      }
      this.maxConnections = connections;
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
