package dev.aggregator.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.Event;
import dev.aggregator.EventAggregator;
import dev.aggregator.Health;
import dev.aggregator.Outcome;
import dev.aggregator.StoreException;
import dev.aggregator.testing.Await;
import dev.aggregator.testing.RequiresPostgres;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A PostgreSQL outage under an idle aggregator: the store's TCP connections are cut by a proxy
 * between the store and the database, which then refuses new ones until restored. health() must
 * turn unhealthy on its own, answer at once throughout, and turn healthy again once the database is
 * reachable; the store's probe must fail while the database cannot be reached.
 */
@RequiresPostgres
class PostgresOutageTest {
  private static final Duration PROBE = Duration.ofMillis(100);

  private final String schema = PostgresTestDatabase.freshSchema();
  private CuttableProxy proxy;

  @AfterEach
  void cleanUp() throws IOException {
    if (proxy != null) {
      proxy.close();
    }
    PostgresTestDatabase.drop(schema);
  }

  private PostgresDedupStore openThroughProxy() throws IOException {
    URI db = URI.create(PostgresTestDatabase.URL); // postgres://user@host:port/database
    proxy =
        new CuttableProxy(
            new InetSocketAddress(db.getHost(), db.getPort() < 0 ? 5432 : db.getPort()));
    String url =
        PostgresTestDatabase.URL.replaceFirst(
            "@[^/]+/", "@127.0.0.1:" + proxy.port() + "/"); // same user and database
    return PostgresDedupStore.builder(url)
        .schema(schema)
        .connectTimeout(Duration.ofSeconds(1))
        .open();
  }

  private static Health health(EventAggregator agg) {
    return assertTimeoutPreemptively(Duration.ofSeconds(5), agg::health);
  }

  @Test
  void connectionsCut_idleAggregatorTurnsUnhealthy_answersAtOnce_recoversWhenRestored()
      throws Exception {
    try (EventAggregator agg =
        EventAggregator.builder().store(openThroughProxy()).healthProbeInterval(PROBE).build()) {
      assertEquals(Outcome.ACCEPTED, agg.publish(Event.of("t", "a")).join().outcome(0));
      assertTrue(health(agg).healthy());

      proxy.cut();
      Health sick =
          Await.value(
              "unhealthy after the cut, with nobody publishing",
              Duration.ofSeconds(2),
              () -> health(agg),
              h -> !h.healthy());
      assertTrue(sick.reason().contains("postgres:"), sick.reason());
      assertFalse(sick.reason().contains("password"), sick.reason());

      proxy.restore();
      Await.until("healthy after the restore", Duration.ofSeconds(5), () -> health(agg).healthy());
      assertEquals(Outcome.DUPLICATE, agg.publish(Event.of("t", "a")).join().outcome(0));
    }
  }

  @Test
  void probe_databaseUnreachable_throwsNamingTheStore_thenSucceedsAgain() throws Exception {
    try (PostgresDedupStore store = openThroughProxy()) {
      store.probe();
      proxy.cut();
      StoreException e = assertThrows(StoreException.class, store::probe);
      assertTrue(e.getMessage().contains(store.describe()), e.getMessage());
      proxy.restore();
      Await.until("a probe to succeed again", Duration.ofSeconds(5), () -> probes(store));
    }
  }

  private static boolean probes(PostgresDedupStore store) {
    store.probe();
    return true;
  }

  /**
   * Forwards a local port to the database. {@link #cut} closes every forwarded connection and the
   * listening socket, so new connections are refused; {@link #restore} listens on the same port
   * again.
   */
  private static final class CuttableProxy implements AutoCloseable {
    private final InetSocketAddress upstream;
    private final int port;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private volatile ServerSocket listener;

    CuttableProxy(InetSocketAddress upstream) throws IOException {
      this.upstream = upstream;
      this.listener = listen(0);
      this.port = listener.getLocalPort();
    }

    int port() {
      return port;
    }

    private ServerSocket listen(int port) throws IOException {
      ServerSocket s = new ServerSocket();
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      Thread acceptor = new Thread(() -> accept(s), "proxy-accept");
      acceptor.setDaemon(true);
      acceptor.start();
      return s;
    }

    private void accept(ServerSocket s) {
      while (!s.isClosed()) {
        try {
          Socket client = s.accept();
          Socket server = new Socket(upstream.getAddress(), upstream.getPort());
          sockets.add(client);
          sockets.add(server);
          pump(client, server);
          pump(server, client);
        } catch (IOException e) {
          return; // the listener was closed by cut()
        }
      }
    }

    private void pump(Socket from, Socket to) {
      Thread t =
          new Thread(
              () -> {
                try (InputStream in = from.getInputStream();
                    OutputStream out = to.getOutputStream()) {
                  in.transferTo(out);
                } catch (IOException e) {
                  // cut, or closed by either side: the other direction ends too
                } finally {
                  closeQuietly(from);
                  closeQuietly(to);
                }
              },
              "proxy-pump");
      t.setDaemon(true);
      t.start();
    }

    void cut() throws IOException {
      listener.close();
      for (Socket s : List.copyOf(sockets)) {
        closeQuietly(s);
        sockets.remove(s);
      }
    }

    void restore() throws IOException {
      listener = listen(port);
    }

    @Override
    public void close() throws IOException {
      cut();
    }

    private static void closeQuietly(Socket s) {
      try {
        s.close();
      } catch (IOException e) {
        // already closed
      }
    }
  }
}
