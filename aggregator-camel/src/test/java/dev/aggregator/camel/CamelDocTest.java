package dev.aggregator.camel;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java sample of the "Camel" section of docs/consumer-guard.md is compiled against the current
 * API and Camel's, inside a method whose parameter stands for the application's shutdown signal: if
 * the repository's API changes and the page does not, this fails.
 */
class CamelDocTest {
  @TempDir Path dir;

  @Test
  void camelSample_compilesAgainstTheApi() throws Exception {
    String page =
        Files.readString(Path.of("..", "docs", "consumer-guard.md"), StandardCharsets.UTF_8);
    int section = page.indexOf("\n## Camel\n");
    assertTrue(section >= 0, "no Camel section in docs/consumer-guard.md");
    Matcher code = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(page);
    assertTrue(code.find(section), "no java code block in the Camel section");
    String source =
        String.join(
            "\n",
            "import dev.aggregator.EventAggregator;",
            "import dev.aggregator.camel.AggregatorIdempotentRepository;",
            "import dev.aggregator.sqlite.SqliteDedupStore;",
            "import java.nio.file.Path;",
            "import java.time.Duration;",
            "import java.util.concurrent.CountDownLatch;",
            "import org.apache.camel.CamelContext;",
            "import org.apache.camel.builder.RouteBuilder;",
            "import org.apache.camel.impl.DefaultCamelContext;",
            "",
            "class CamelSample {",
            "  static void run(CountDownLatch shutdown) throws Exception {",
            code.group(1),
            "  }",
            "}");
    Path file = dir.resolve("src/CamelSample.java");
    Files.createDirectories(file.getParent());
    Files.writeString(file, source, StandardCharsets.UTF_8);
    Path classes = dir.resolve("classes");
    Files.createDirectories(classes);
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    StringWriter diagnostics = new StringWriter();
    boolean compiled =
        javac
            .getTask(
                diagnostics,
                null,
                null,
                List.of(
                    "-classpath",
                    System.getProperty("java.class.path"),
                    "-d",
                    classes.toString(),
                    "-Xlint:all",
                    "-Werror"),
                null,
                javac
                    .getStandardFileManager(null, null, StandardCharsets.UTF_8)
                    .getJavaFileObjects(file))
            .call();
    assertTrue(compiled, "docs/consumer-guard.md Camel sample does not compile:\n" + diagnostics);
  }
}
