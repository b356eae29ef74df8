package dev.aggregator.netty;

import dev.aggregator.http.spi.ApiRequest;
import dev.aggregator.http.spi.ApiResponse;
import dev.aggregator.http.spi.Binding;
import dev.aggregator.http.spi.HttpTransport;
import dev.aggregator.http.spi.Refusal;
import dev.aggregator.http.spi.RequestHandler;
import dev.aggregator.http.spi.TransportSettings;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Design of the transport.
 *
 * Why Netty beside the JDK's com.sun.net.httpserver: the JDK server hands every request from its
 * dispatcher thread to a worker, and writes an answer's head and body as two writes. Here a
 * connection lives on one event loop: the request is decoded there, a publish is validated and
 * enqueued there, and the writer's completion comes back to that loop, which writes the whole
 * answer in one write. No thread is parked per request, and no thread is handed a request.
 *
 * Threads. ioThreads event loops; by default one per core but one, which is left to the
 * aggregator's writer: the single thread that commits every publish is busy under load, and loops
 * beyond the remaining cores only add context switches and cross-core wake-ups to each request.
 *
 * One request at a time per connection. A request is answered before the next one on the same
 * connection is started, so answers keep the order of a pipelining client's requests; the few
 * requests such a client sends ahead wait in a small queue, and reading stops while it is full.
 *
 * Limits, each answered before the body is read where it can be: the body size (413 from the
 * Content-Length, or while a chunked body arrives), a malformed request (400; the connection is
 * closed, since its framing is lost), a slow or idle client (closed when a whole request has not
 * arrived within the request timeout of the server starting to wait for it), a client that does
 * not take its answers (closed when the connection has not been writable for that long), and the
 * number of open connections (one over the cap is closed at once).
 */
/**
 * The API of {@code aggregator-http} on Netty's HTTP/1.1 codec and NIO event loops:
 *
 * <pre>{@code
 * AggregatorServer.builder(aggregator).transport(new NettyTransport()).port(8080).start();
 * }</pre>
 */
public final class NettyTransport implements HttpTransport {
  private static final Logger log = LoggerFactory.getLogger(NettyTransport.class);

  /** Requests a pipelining client may send ahead; reading stops beyond it. */
  private static final int MAX_PIPELINED = 16;

  /**
   * How long a refused request's connection stays half-open after its answer. Closing at once with
   * the rest of a refused body unread makes the kernel send a reset, and a reset can reach the
   * client before it has read the answer, which it then never sees; so the answer is followed by a
   * FIN, the rest of the body is read and dropped, and the connection closes when the client closes
   * it or after this long.
   */
  private static final long LINGER_NANOS = TimeUnit.SECONDS.toNanos(2);

  private final int ioThreads;

  /** Netty with one event loop per core but one (at least one). */
  public NettyTransport() {
    this(0);
  }

  /**
   * Netty with {@code ioThreads} event loops; 0 for one per core but one (at least one), the other
   * core being the aggregator writer's.
   */
  public NettyTransport(int ioThreads) {
    if (ioThreads < 0) {
      throw new IllegalArgumentException("ioThreads must not be negative, was " + ioThreads);
    }
    this.ioThreads =
        ioThreads == 0 ? Math.max(1, Runtime.getRuntime().availableProcessors() - 1) : ioThreads;
  }

  @Override
  public String name() {
    return "netty";
  }

  @Override
  public Binding bind(TransportSettings settings, RequestHandler api) throws IOException {
    return new Server(settings, api);
  }

  /** One bound server: its event loops, its connections and their requests. */
  private final class Server implements Binding {
    private final RequestHandler api;
    private final long timeoutNanos;
    private final int maxConnections;
    private final int maxBodyBytes;
    private final EventLoopGroup loops;
    private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Channel listener;

    /**
     * Binds the address and starts serving.
     *
     * @throws IOException if the address cannot be bound
     */
    Server(TransportSettings settings, RequestHandler api) throws IOException {
      this.api = api;
      this.timeoutNanos = settings.requestTimeout().toNanos();
      this.maxConnections = settings.maxConnections();
      this.maxBodyBytes = (int) Math.min(settings.maxBodyBytes(), Integer.MAX_VALUE - 8);
      this.loops =
          new MultiThreadIoEventLoopGroup(
              ioThreads,
              new DefaultThreadFactory("aggregator-io", true),
              NioIoHandler.newFactory());
      ServerBootstrap bootstrap =
          new ServerBootstrap()
              .group(loops)
              .channel(NioServerSocketChannel.class)
              .option(ChannelOption.SO_BACKLOG, settings.backlog())
              .option(ChannelOption.SO_REUSEADDR, true)
              // Without it, Nagle's algorithm and the client's delayed ACK hold small answers for
              // tens of milliseconds.
              .childOption(ChannelOption.TCP_NODELAY, true)
              // A client may send its request and shut its side down (half-close) before the
              // answer: the connection must stay open for the answer (Connection.closing).
              .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
              .childHandler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                      accept(ch);
                    }
                  });
      InetSocketAddress address = settings.address();
      try {
        this.listener = bootstrap.bind(address).sync().channel();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        loops.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        throw new IOException("interrupted while binding " + address, e);
      } catch (Exception e) { // Netty rethrows the bind's IOException without declaring it
        loops.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        if (e instanceof IOException io) {
          throw io;
        }
        throw new IOException(e.getMessage(), e);
      }
    }

    private void accept(SocketChannel ch) {
      if (open.incrementAndGet() > maxConnections) {
        open.decrementAndGet();
        log.debug("closing a connection over the cap of {}", maxConnections);
        ch.close();
        return;
      }
      ch.closeFuture().addListener(f -> open.decrementAndGet());
      connections.add(ch);
      ch.pipeline()
          .addLast(
              new HttpServerCodec(
                  new HttpDecoderConfig()
                      .setMaxInitialLineLength(8 << 10)
                      .setMaxHeaderSize(64 << 10)
                      .setMaxChunkSize(64 << 10)),
              new BodyLimit(maxBodyBytes),
              new Connection());
    }

    @Override
    public InetSocketAddress address() {
      return (InetSocketAddress) listener.localAddress();
    }

    @Override
    public String description() {
      return "Netty, " + ioThreads + " I/O thread" + (ioThreads == 1 ? "" : "s");
    }

    /** Stops listening, closes every connection and stops the event loops. */
    @Override
    public void close() {
      if (!closed.compareAndSet(false, true)) {
        return;
      }
      listener.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
      connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
      loops.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }

    /**
     * Why {@link BodyLimit} stands in a request without its body: the body is over the limit.
     * Passed on as the request's decoder failure, so the request takes its turn like any other.
     */
    private static final class BodyTooLarge extends Exception {
      private static final long serialVersionUID = 1L;

      final transient Refusal refusal;

      BodyTooLarge(Refusal refusal) {
        super(refusal.message(), null, false, false);
        this.refusal = refusal;
      }
    }

    /**
     * Netty's body aggregation with the API's own 413: from the Content-Length before any of the
     * body is read, else once a chunked body passes the limit. The rest of the body is read only to
     * be dropped, and the connection closes after the answer.
     */
    private static final class BodyLimit extends HttpObjectAggregator {
      BodyLimit(int maxBodyBytes) {
        super(maxBodyBytes);
      }

      /**
       * A client that asks to be told before it sends a body ({@code Expect: 100-continue}, as curl
       * does for large ones) is told 100 Continue by Netty, or 413 with an empty body when the body
       * is too large; the latter is left to {@link #handleOversizedMessage}, so it is the API's
       * 413.
       */
      @Override
      protected Object newContinueResponse(
          HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        long declared;
        try {
          declared = HttpUtil.getContentLength(start, -1L);
        } catch (NumberFormatException e) {
          declared = -1; // not a number: the decoder has failed the request, answered as 400
        }
        return declared > maxContentLength
            ? null
            : super.newContinueResponse(start, maxContentLength, pipeline);
      }

      @Override
      protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        HttpRequest r = (HttpRequest) oversized;
        long declared = HttpUtil.getContentLength(oversized, -1L);
        FullHttpRequest standIn =
            new DefaultFullHttpRequest(r.protocolVersion(), r.method(), r.uri());
        standIn.headers().set(r.headers());
        standIn.setDecoderResult(
            DecoderResult.failure(
                new BodyTooLarge(Refusal.bodyTooLarge(declared, maxContentLength()))));
        ctx.fireChannelRead(standIn);
      }
    }

    /** One connection's requests, one at a time, and its deadlines. Runs on its event loop. */
    private final class Connection extends ChannelInboundHandlerAdapter {
      private final ArrayDeque<FullHttpRequest> pipelined = new ArrayDeque<>();
      private ChannelHandlerContext ctx;
      private boolean busy; // a request is being answered
      private boolean closing; // the connection closes after the answer being written
      private boolean linger; // ... after reading and dropping what the client still sends
      private boolean inputShutdown; // the client half-closed: nothing more will come
      private boolean http10; // the request being answered is HTTP/1.0 (keep-alive said so)
      private long waitingSince; // when the server started waiting for the next request
      private long unwritableSince; // when the client stopped taking answers; 0 while it takes them
      private ScheduledFuture<?> deadline;

      @Override
      public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        waitingSince = System.nanoTime();
        deadline =
            ctx.executor().schedule(this::checkDeadlines, timeoutNanos, TimeUnit.NANOSECONDS);
        ctx.fireChannelActive();
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) {
        if (deadline != null) {
          deadline.cancel(false);
        }
        pipelined.forEach(ReferenceCountUtil::release);
        pipelined.clear();
        ctx.fireChannelInactive();
      }

      /**
       * Closes a connection whose next request has not fully arrived, or whose answer has not been
       * taken, within the request timeout; else checks again when the earliest could expire.
       */
      private void checkDeadlines() {
        long now = System.nanoTime();
        long next = now + timeoutNanos;
        if (!busy) {
          if (now - waitingSince >= timeoutNanos) {
            log.debug("closing {}: no whole request within the timeout", ctx.channel());
            ctx.close();
            return;
          }
          next = Math.min(next, waitingSince + timeoutNanos);
        }
        if (unwritableSince != 0) {
          if (now - unwritableSince >= timeoutNanos) {
            log.debug("closing {}: answers not taken within the timeout", ctx.channel());
            ctx.close();
            return;
          }
          next = Math.min(next, unwritableSince + timeoutNanos);
        }
        deadline = ctx.executor().schedule(this::checkDeadlines, next - now, TimeUnit.NANOSECONDS);
      }

      @Override
      public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // Above the write buffer's high-water mark the client is not reading its answers: stop
        // reading its requests until it does.
        boolean writable = ctx.channel().isWritable();
        unwritableSince = writable ? 0 : System.nanoTime();
        if (writable && !busy && pipelined.isEmpty()) {
          ctx.channel().config().setAutoRead(true);
        } else if (!writable) {
          ctx.channel().config().setAutoRead(false);
        }
        ctx.fireChannelWritabilityChanged();
      }

      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
          ReferenceCountUtil.release(msg);
          return;
        }
        if (closing) {
          request.release();
        } else if (busy) {
          pipelined.add(request);
          if (pipelined.size() >= MAX_PIPELINED) {
            ctx.channel().config().setAutoRead(false);
          }
        } else {
          start(request);
        }
      }

      @Override
      public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof ChannelInputShutdownEvent) {
          // The client sent all it will send: answer what it sent, then close.
          inputShutdown = true;
          if (linger || (!busy && pipelined.isEmpty())) {
            ctx.close();
          }
          return;
        }
        ctx.fireUserEventTriggered(event);
      }

      private void start(FullHttpRequest request) {
        busy = true;
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        closing = !keepAlive;
        http10 = request.protocolVersion().equals(HttpVersion.HTTP_1_0);
        String method = request.method().name();
        String uri = request.uri();
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        DecoderResult decoded = request.decoderResult();
        Refusal refusal = refusal(decoded, uri);
        if (refusal != null) {
          request.release();
          // The rest of a body over the limit, or of a stream whose framing is lost, is read only
          // to be dropped; then the connection closes.
          closing = true;
          linger = true;
          // A head Netty could not decode arrives as its stand-in "GET /bad-request": what the
          // client sent is not known, so the request line logs neither.
          boolean headKnown =
              !(decoded.isFailure()
                  && !(decoded.cause() instanceof BodyTooLarge)
                  && uri.equals("/bad-request"));
          api.refuse(headKnown ? method : "-", headKnown ? path : "-", refusal, this::answerLater);
          return;
        }
        byte[] body = new byte[request.content().readableBytes()];
        request.content().readBytes(body);
        HttpHeaders headers = request.headers();
        request.release();
        api.handle(
            new ApiRequest(
                method,
                path,
                q < 0 ? null : uri.substring(q + 1),
                headers::get,
                body,
                ctx.executor()),
            this::answerLater);
      }

      /** The API's callback; may come from another thread. */
      private void answerLater(ApiResponse response, String requestId) {
        if (ctx.executor().inEventLoop()) {
          answer(response, requestId);
        } else {
          ctx.executor().execute(() -> answer(response, requestId));
        }
      }

      private void answer(ApiResponse response, String requestId) {
        FullHttpResponse out =
            new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(response.status()),
                Unpooled.wrappedBuffer(response.body()));
        HttpHeaders h = out.headers();
        h.set(HttpHeaderNames.CONTENT_TYPE, response.contentType());
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, response.body().length);
        h.set("X-Request-Id", requestId);
        for (Map.Entry<String, String> e : response.headers().entrySet()) {
          h.set(e.getKey(), e.getValue());
        }
        if (closing || (inputShutdown && pipelined.isEmpty())) {
          h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
          if (!linger) {
            ctx.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
            return;
          }
          ctx.writeAndFlush(out)
              .addListener(
                  written -> {
                    if (written.isSuccess() && ctx.channel() instanceof DuplexChannel duplex) {
                      duplex.shutdownOutput();
                      ctx.executor()
                          .schedule(() -> ctx.close(), LINGER_NANOS, TimeUnit.NANOSECONDS);
                    } else {
                      ctx.close();
                    }
                  });
          return;
        }
        if (http10) {
          h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        ctx.writeAndFlush(out, ctx.voidPromise());
        busy = false;
        waitingSince = System.nanoTime();
        FullHttpRequest next = pipelined.poll();
        if (next != null) {
          start(next);
        } else if (!ctx.channel().config().isAutoRead() && ctx.channel().isWritable()) {
          ctx.channel().config().setAutoRead(true);
        }
      }

      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A reset or broken pipe from the client: nothing to answer to.
        log.debug("closing {}: {}", ctx.channel(), cause.toString());
        ctx.close();
      }
    }

    /** Why a request is refused before a route sees it, or null when it is not. */
    private static Refusal refusal(DecoderResult decoded, String uri) {
      if (decoded.cause() instanceof BodyTooLarge tooLarge) {
        return tooLarge.refusal;
      }
      String why = decoded.isFailure() ? describe(decoded.cause()) : badTarget(uri);
      return why == null ? null : Refusal.malformed(why);
    }

    /** Why Netty could not decode a request, for the client (the API makes it log-safe). */
    private static String describe(Throwable cause) {
      return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }

    /**
     * A request target with a control character or a space is not HTTP (RFC 9112 3.2); refused
     * before it reaches a route or the log.
     */
    private static String badTarget(String uri) {
      for (int i = 0; i < uri.length(); i++) {
        char c = uri.charAt(i);
        if (c <= 0x20 || c == 0x7f) {
          return "the request target contains the control character "
              + String.format(java.util.Locale.ROOT, "0x%02x", (int) c);
        }
      }
      return null;
    }
  }
}
