package dev.aggregator.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
}
