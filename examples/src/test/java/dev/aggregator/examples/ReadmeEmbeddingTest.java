package dev.aggregator.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.testing.DocSamples;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java sample of README.md's "Embedding" section is compiled against the current API and run:
 * if the API changes and the README does not, this fails.
 */
class ReadmeEmbeddingTest {
  @TempDir Path dir;

  @Test
  void readmeEmbeddingSample_compilesAndRunsAsDocumented() throws Exception {
    String sample = DocSamples.javaBlock("README.md", "## Embedding");
    Path classes = DocSamples.compile(dir, "Quickstart", sample, "README.md");
    String classpath = System.getProperty("java.class.path");

    Process run =
        new ProcessBuilder(
                ProcessHandle.current().info().command().orElse("java"),
                "-cp",
                classes + File.pathSeparator + classpath,
                "Quickstart")
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .start();
    assertTrue(run.waitFor(60, TimeUnit.SECONDS), "README sample did not finish");
    String output = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, run.exitValue(), output);
    assertTrue(output.contains("[ACCEPTED] [DUPLICATE, ACCEPTED]"), output);
    assertTrue(output.contains("order-1 {\"amount\":42}"), output);
    assertTrue(output.contains("3 received, 2 unique, 1 duplicates"), output);
    assertTrue(Files.exists(dir.resolve("data/quickstart.db")), "sample did not use its file");
  }
}
