package dev.aggregator.server;

import ch.qos.logback.classic.LoggerContext;
import dev.aggregator.AggregatorStats;
import dev.aggregator.http.AggregatorServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

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

  @Mixin ServerOptions options;

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
    StandaloneServer running;
    try {
      options.normalize();
      // Before the first logger exists: ServerLogging reads these when logback configures itself.
      System.setProperty("aggregator.log.file", options.logFile.toString());
      System.setProperty("aggregator.log.level", options.logLevel);
      // Only now: what it loads may log (sqlite-jdbc does, through SLF4J), and the first log
      // line configures logback, which must see the two properties above.
      Preload.start();
      if (options.port != 0) {
        checkPortFree(); // the common mistake, caught before the database is opened
      }
      running = new StandaloneServer(options);
    } catch (IllegalArgumentException e) {
      err.println("aggregator-server: " + e.getMessage() + " (see --help)");
      return 2;
    } catch (UncheckedIOException e) {
      String why = e.getCause().getMessage(); // "Address already in use", "Cannot assign ..."
      err.println(
          "aggregator-server: cannot listen on " + options.host + ":" + options.port + ": " + why);
      return 1;
    } catch (RuntimeException e) {
      err.println("aggregator-server: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
      return 1;
    }
    PrintWriter out = spec.commandLine().getOut();
    running.printStarted(options, out);
    Runtime.getRuntime()
        .addShutdownHook(new Thread(() -> stop(running, out), "aggregator-shutdown"));
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
  private static void stop(StandaloneServer running, PrintWriter out) {
    int status = 1;
    try {
      running.close();
      AggregatorStats last = running.finalStats();
      out.println(
          "aggregator-server stopped: "
              + last.received()
              + " received, "
              + last.stored()
              + " stored, all committed");
      status = 0;
    } catch (RuntimeException e) {
      out.println("aggregator-server: stopping failed: " + e.getMessage());
    } finally {
      out.flush();
      try {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext logback) {
          logback.stop(); // flush the batching appender
        }
      } finally {
        Runtime.getRuntime().halt(status);
      }
    }
  }

  /**
   * Binds and releases the port. The real bind can still fail if another process takes the port in
   * between; that failure is reported the same way.
   */
  private void checkPortFree() {
    try (ServerSocket probe = new ServerSocket()) {
      probe.setReuseAddress(true);
      probe.bind(new InetSocketAddress(options.host, options.port));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The version from the build, for {@code --version}. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"aggregator-server " + AggregatorServer.version()};
    }
  }
}
