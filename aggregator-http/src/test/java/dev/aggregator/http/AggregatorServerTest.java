package dev.aggregator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.EventAggregator;
import dev.aggregator.store.InMemoryDedupStore;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The embeddable server's builder and lifecycle. */
class AggregatorServerTest {

  @Test
  void builder_badValues_failFastNamingTheValue() throws Exception {
    try (EventAggregator agg = EventAggregator.builder().store(new InMemoryDedupStore()).build()) {
      AggregatorServer.Builder b = AggregatorServer.builder(agg);
      IllegalArgumentException port =
          assertThrows(IllegalArgumentException.class, () -> b.port(70_000));
      assertTrue(port.getMessage().contains("70000"), port.getMessage());
      assertThrows(IllegalArgumentException.class, () -> b.apiKeys(List.of(" ")));
      assertThrows(IllegalArgumentException.class, () -> b.maxBodyBytes(0));
      assertThrows(IllegalArgumentException.class, () -> b.maxEventsPerRequest(0));
      assertThrows(IllegalArgumentException.class, () -> b.host(""));
      IllegalArgumentException timeout =
          assertThrows(IllegalArgumentException.class, () -> b.requestTimeout(Duration.ZERO));
      assertTrue(timeout.getMessage().contains("PT0S"), timeout.getMessage());
      IllegalArgumentException cap =
          assertThrows(IllegalArgumentException.class, () -> b.maxConnections(0));
      assertTrue(cap.getMessage().contains("was 0"), cap.getMessage());
      IllegalArgumentException prefix =
          assertThrows(
              IllegalArgumentException.class,
              () -> b.mount(com.sun.net.httpserver.HttpServer.create(), "/a b"));
      assertTrue(prefix.getMessage().contains("'/a b'"), prefix.getMessage());
    }
  }

  @Test
  void start_maxEventsOverTheQueueCapacity_refusedNamingBoth() {
    try (EventAggregator agg =
        EventAggregator.builder().store(new InMemoryDedupStore()).queueCapacity(1000).build()) {
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> TestServer.builder(agg).start());
      assertTrue(
          e.getMessage().contains("maxEventsPerRequest 10000")
              && e.getMessage().contains("queue capacity 1000"),
          e.getMessage());
      try (AggregatorServer fits = TestServer.builder(agg).maxEventsPerRequest(1000).start()) {
        assertTrue(fits.port() > 0);
      }
    }
  }

  @Test
  void start_portZero_realPortAndIdempotentCloseLeavesAggregatorOpen() {
    try (EventAggregator agg = EventAggregator.builder().store(new InMemoryDedupStore()).build()) {
      AggregatorServer server = TestServer.builder(agg).start();
      assertTrue(server.port() > 0);
      assertTrue(
          server.description().endsWith(", virtual threads")
              || server.description().endsWith(", 64 platform threads"),
          server.description());
      server.close();
      server.close();
      // The server does not own the aggregator: it still takes events.
      assertEquals(1, agg.publish(dev.aggregator.Event.of("t", "e")).join().accepted());
    }
  }

  @Test
  void start_portTaken_uncheckedIoWithBindCause() {
    try (EventAggregator agg = EventAggregator.builder().store(new InMemoryDedupStore()).build();
        AggregatorServer first = TestServer.builder(agg).start()) {
      UncheckedIOException e =
          assertThrows(
              UncheckedIOException.class, () -> TestServer.builder(agg).port(first.port()).start());
      assertTrue(e.getCause() instanceof BindException, String.valueOf(e.getCause()));
      assertTrue(e.getMessage().contains(String.valueOf(first.port())), e.getMessage());
    }
  }
}
