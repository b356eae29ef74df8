package dev.aggregator.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The benchmarks jar as a user runs it, from a directory that is not the repository: a short run
 * keeps its files beside the jar and reports a score; a benchmark that fails ends the run with a
 * non-zero exit status instead of 0 and an empty table.
 */
class BenchmarksJarIT {
  @TempDir Path elsewhere;

  private record Run(int status, String output) {}

  private Run run(String... args) throws Exception {
    String jar = Path.of(System.getProperty("benchmarks.jar")).toAbsolutePath().toString();
    assertTrue(Files.isRegularFile(Path.of(jar)), "not built: " + jar);
    List<String> command =
        new ArrayList<>(
            List.of(
                ProcessHandle.current().info().command().orElse("java"),
                "-jar",
                jar,
                "IngestBenchmark",
                "-p",
                "batch=1000",
                "-p",
                "dupRatio=0.2",
                "-p",
                "sync=NORMAL",
                "-wi",
                "0",
                "-i",
                "1",
                "-r",
                "1s",
                "-f",
                "0"));
    command.addAll(List.of(args));
    Process p =
        new ProcessBuilder(command).directory(elsewhere.toFile()).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "benchmark still running");
    return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  @Test
  void fromAnotherDirectory_runsAndScores_leavingNothingThere() throws Exception {
    Run r = run("-p", "impl=aggregator");
    assertEquals(0, r.status(), r.output());
    assertTrue(r.output().contains("IngestBenchmark.ingest"), r.output());
    assertTrue(r.output().matches("(?s).*IngestBenchmark\\.ingest\\s.*\\d+[.,]\\d+.*"), r.output());
    try (var files = Files.list(elsewhere)) {
      assertEquals(List.of(), files.toList(), "files left in the working directory");
    }
  }

  @Test
  void failingBenchmark_exitsNonZero() throws Exception {
    Run r = run("-p", "impl=no-such-system");
    assertNotEquals(0, r.status(), r.output());
  }
}
