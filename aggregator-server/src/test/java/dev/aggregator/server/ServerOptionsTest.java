package dev.aggregator.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The options as the command line reads them: defaults, the transport, and refused values. */
class ServerOptionsTest {

  private static ServerOptions parse(String... args) {
    Main main = new Main();
    new CommandLine(main).setCaseInsensitiveEnumValuesAllowed(true).parseArgs(args);
    return main.options;
  }

  @Test
  void defaults_loopbackAndTheJdkTransport() {
    ServerOptions o = parse();
    if (System.getenv("HOST") == null) {
      assertEquals("127.0.0.1", o.host);
    }
    if (System.getenv("AGGREGATOR_TRANSPORT") == null) {
      assertEquals(ServerOptions.Transport.JDK, o.transport);
    }
  }

  @Test
  void transport_nettyInAnyCase_taken() {
    assertEquals(ServerOptions.Transport.NETTY, parse("--transport", "netty").transport);
    assertEquals(ServerOptions.Transport.NETTY, parse("--transport", "NETTY").transport);
    assertEquals(ServerOptions.Transport.JDK, parse("--transport", "jdk").transport);
  }

  @Test
  void transport_unknown_refusedNamingTheChoices() {
    CommandLine.ParameterException e =
        assertThrows(CommandLine.ParameterException.class, () -> parse("--transport", "grpc"));
    assertTrue(e.getMessage().contains("grpc") && e.getMessage().contains("JDK"), e.getMessage());
  }

  @Test
  void normalize_badLogLevel_refused() {
    ServerOptions o = parse("--log-level", "loud");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, o::normalize);
    assertTrue(e.getMessage().contains("'loud'"), e.getMessage());
  }

  @Test
  void normalize_blankUrls_meanTheDefault() {
    ServerOptions o = parse("--store", " ", "--source", "", "--forward", " ");
    o.normalize();
    assertEquals(null, o.store);
    assertEquals(null, o.source);
    assertEquals(null, o.forward);
  }

  @Test
  void retention_numberAndUnit_orIso_parsed() {
    assertEquals(java.time.Duration.ofSeconds(90), parse("--retention", "90s").retention);
    assertEquals(java.time.Duration.ofMinutes(15), parse("--retention", "15m").retention);
    assertEquals(java.time.Duration.ofHours(12), parse("--retention", "12h").retention);
    assertEquals(java.time.Duration.ofDays(7), parse("--retention", "7d").retention);
    assertEquals(java.time.Duration.ofHours(36), parse("--retention", "PT36H").retention);
    if (System.getenv("AGGREGATOR_RETENTION") == null) {
      assertEquals(null, parse().retention, "keep for ever by default");
    }
  }

  @Test
  void retention_badOrZero_refusedNamingTheValue() {
    for (String bad : List.of("7 days", "0s", "-5m", "12x")) {
      CommandLine.ParameterException e =
          assertThrows(CommandLine.ParameterException.class, () -> parse("--retention", bad));
      assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
    }
  }

  @Test
  void maxStoredEvents_wholePositiveNumber_elseRefused() {
    ServerOptions ok = parse("--max-stored-events", "1000000");
    ok.normalize();
    assertEquals(1_000_000L, ok.maxStoredEvents);
    ServerOptions zero = parse("--max-stored-events", "0");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, zero::normalize);
    assertTrue(e.getMessage().contains("'0'"), e.getMessage());
  }
}
