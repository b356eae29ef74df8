package dev.aggregator.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ProcessOutputTest {
  private static ProcessOutput run(String script) throws Exception {
    Process p = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).start();
    return new ProcessOutput(p, "process-output-test");
  }

  @Test
  void soFar_beforeTheNextAwait_doesNotHideTheLinesAfterTheCursor() throws Exception {
    Process p =
        new ProcessBuilder(
                "sh", "-c", "echo 'listening on http://x:1'; echo 'data: d'; echo 'source: s'")
            .redirectErrorStream(true)
            .start();
    ProcessOutput out = new ProcessOutput(p, "process-output-test");
    assertEquals("listening on http://x:1", out.await("listening", Duration.ofSeconds(10), "sh"));
    // all() reads to the end of the output only once the process has exited: wait for that, so
    // the assertion sees every line rather than racing the reader thread.
    assertTrue(p.waitFor(10, TimeUnit.SECONDS), "sh did not exit");
    assertTrue(out.all().contains("source: s")); // shows, and must not consume, what follows
    assertEquals("source: s", out.await("source:", Duration.ofSeconds(10), "sh"));
  }

  @Test
  void await_looksOnlyAfterTheLineItLastReturned() throws Exception {
    ProcessOutput out = run("echo one; echo two");
    out.await("two", Duration.ofSeconds(10), "sh");
    AssertionError e =
        assertThrows(AssertionError.class, () -> out.await("one", Duration.ofMillis(300), "sh"));
    assertTrue(e.getMessage().contains("sh: no line containing 'one'"), e.getMessage());
    assertTrue(e.getMessage().contains("one\ntwo"), e.getMessage());
  }
}
