package dev.aggregator.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
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
    String readme = Files.readString(Path.of("..", "README.md"), StandardCharsets.UTF_8);
    int section = readme.indexOf("\n## Embedding");
    assertTrue(section >= 0, "README.md has no '## Embedding' section");
    Matcher code = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(readme);
    assertTrue(code.find(section), "no java code block in the Embedding section");
    Path source = dir.resolve("src/Quickstart.java");
    Files.createDirectories(source.getParent());
    Files.writeString(source, code.group(1), StandardCharsets.UTF_8);

    Path classes = dir.resolve("classes");
    Files.createDirectories(classes);
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    String classpath = System.getProperty("java.class.path");
    StringWriter diagnostics = new StringWriter();
    boolean compiled =
        javac
            .getTask(
                diagnostics,
                null,
                null,
                List.of("-classpath", classpath, "-d", classes.toString(), "-Xlint:all", "-Werror"),
                null,
                javac
                    .getStandardFileManager(null, null, StandardCharsets.UTF_8)
                    .getJavaFileObjects(source))
            .call();
    assertTrue(compiled, "README sample does not compile:\n" + diagnostics);

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
