package dev.aggregator.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A transport baseline for the HTTP figures: the JDK HttpServer, which aggregator-server ran on
 * before Netty, with the threads it used (virtual threads on Java 21+, else 64 platform threads)
 * and TCP_NODELAY, reading each request body and answering a fixed JSON. No parsing, no store: what
 * the JDK server does at most when the handler costs nothing.
 *
 * <p>{@code java -cp loadgen.jar dev.aggregator.examples.EchoServer [port]} (default 8090).
 */
public final class EchoServer {
  private static final byte[] ANSWER =
      "{\"received\":1,\"accepted\":1,\"duplicates\":0}".getBytes(StandardCharsets.UTF_8);

  private EchoServer() {}

  /** Starts the server on the given port (0: any free port) and returns it. */
  public static HttpServer start(int port) throws IOException {
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true"); // off by default: Nagle-bound
    }
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
    server.setExecutor(executor());
    server.createContext("/", EchoServer::handle);
    server.start();
    return server;
  }

  /** Runs until killed. */
  public static void main(String[] args) throws IOException {
    HttpServer server = start(args.length > 0 ? Integer.parseInt(args[0]) : 8090);
    System.out.println("echo server on http://127.0.0.1:" + server.getAddress().getPort());
  }

  private static void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      byte[] buf = new byte[16 * 1024];
      try (InputStream in = exchange.getRequestBody()) {
        while (in.read(buf) >= 0) {
          // read the whole body, as the real server does
        }
      }
      exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
      exchange.sendResponseHeaders(200, ANSWER.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(ANSWER);
      }
    }
  }

  private static ExecutorService executor() {
    try {
      return (ExecutorService)
          Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
    } catch (NoSuchMethodException e) {
      return Executors.newFixedThreadPool(64);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot create the virtual-thread executor", e);
    }
  }
}
