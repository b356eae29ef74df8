package dev.aggregator.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The scale-out flags' start-up errors: one line naming what is wrong, no stack trace, no password;
 * exit 2 for a malformed URL (a bad flag), 1 when the database or Redis cannot be reached.
 */
class ScaleOutStartupIT {
  @TempDir Path dir;

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "--store|mysql://u:secret@h/db|2|--store must be postgres://",
        "--store|postgres://u:secret@127.0.0.1:1/test|1|cannot connect to postgres:postgres://u@127.0.0.1:1/test",
        "--store|postgres://u:secret@127.0.0.1:5432/test?schema=Bad|2|schema must be",
        "--source|http://h/s|2|Redis stream URL must look like redis://host:port/stream",
        "--forward|redis://127.0.0.1:1/s|1|cannot reach redis://127.0.0.1:1/s",
        "--source|redis://127.0.0.1:1/s|1|redis://127.0.0.1:1/s",
      })
  void start_badOrUnreachableUrl_oneLineAndExitStatus(
      String flag, String url, int status, String expected) throws Exception {
    try (JarServer s = JarServer.start("bad", dir, flag, url)) {
      assertEquals(status, s.awaitExit(Duration.ofSeconds(60)), s.output());
      String out = s.output();
      List<String> errors = out.lines().filter(l -> l.startsWith("aggregator-server: ")).toList();
      assertEquals(1, errors.size(), out);
      assertTrue(errors.get(0).contains(expected), out);
      assertFalse(out.contains("secret"), "password printed: " + out);
      assertFalse(out.contains("\tat "), "stack trace: " + out);
    }
  }

  @org.junit.jupiter.api.Test
  void help_listsTheScaleOutFlagsAndTheirEnvironmentVariables() throws Exception {
    try (JarServer s = JarServer.start("help", dir, "--help")) {
      assertEquals(0, s.awaitExit(Duration.ofSeconds(60)), s.output());
      String out = s.output();
      for (String text :
          List.of(
              "--store=URL",
              "AGGREGATOR_STORE",
              "--source=URL",
              "AGGREGATOR_SOURCE",
              "--consumer=NAME",
              "AGGREGATOR_CONSUMER",
              "--forward=URL",
              "AGGREGATOR_FORWARD",
              "postgres://")) {
        assertTrue(out.contains(text), text + " missing from --help:\n" + out);
      }
    }
  }
}
