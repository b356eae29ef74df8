package dev.aggregator.server.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.rolling.RollingFileAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerLoggingTest {
  @TempDir Path dir;

  private static LoggerContext context() {
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new LogbackMDCAdapter()); // as the slf4j binding sets it up
    return context;
  }

  @Test
  void configures_theRequestLogThroughOneBatchingAppender_toTheFileAndLevelAsked()
      throws Exception {
    LoggerContext context = context();
    Path file = dir.resolve("logs/server.log");
    Map<String, String> properties =
        Map.of("aggregator.log.file", file.toString(), "aggregator.log.level", "warn");

    assertEquals(
        ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY,
        ServerLogging.configure(context, properties::get));

    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    assertEquals(Level.WARN, root.getLevel());
    BatchingAppender log = assertInstanceOf(BatchingAppender.class, root.getAppender("LOG"));
    assertInstanceOf(BufferedConsoleAppender.class, log.getAppender("CONSOLE"));
    RollingFileAppender<?> rolling =
        assertInstanceOf(RollingFileAppender.class, log.getAppender("FILE"));
    assertEquals(file.toString(), rolling.getFile());

    // The console is this JVM's standard output, which the build reads: not written, not closed.
    log.detachAppender("CONSOLE");
    context.getLogger("dev.aggregator.http.request").info("REQUEST: below the level");
    context.getLogger("dev.aggregator.server").warn("a warning");
    log.stop(); // writes and flushes what it holds, then stops the file appender
    String written = Files.readString(file);
    assertTrue(
        written.matches("\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z WARN  \\[.+] .+ - a warning\\n"), written);
    assertFalse(written.contains("REQUEST"), written);
  }

  @Test
  void aConfigurationFileOfTheUsers_winsAndThisStepsAside() {
    assertStepsAside(
        Map.of("aggregator.log.file", "a.log", "logback.configurationFile", "mine.xml"));
  }

  @Test
  void notStartedByTheServersMain_stepsAside() {
    assertStepsAside(Map.of()); // as in this build's tests, which log through logback-test.xml
  }

  private static void assertStepsAside(Map<String, String> properties) {
    LoggerContext context = context();
    assertEquals(
        ExecutionStatus.INVOKE_NEXT_IF_ANY, ServerLogging.configure(context, properties::get));
    assertFalse(
        context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext(),
        "no appender added");
  }
}
