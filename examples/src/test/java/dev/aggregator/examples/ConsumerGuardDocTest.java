package dev.aggregator.examples;

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
 * The first Java sample of docs/consumer-guard.md is compiled against the current API, inside a
 * method whose parameters stand for the message broker it talks about: if the guard's API changes
 * and the page does not, this fails.
 */
class ConsumerGuardDocTest {
  @TempDir Path dir;

  @Test
  void consumerGuardSample_compilesAgainstTheApi() throws Exception {
    String page =
        Files.readString(Path.of("..", "docs", "consumer-guard.md"), StandardCharsets.UTF_8);
    Matcher code = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(page);
    assertTrue(code.find(), "no java code block in docs/consumer-guard.md");
    String source =
        String.join(
            "\n",
            "import dev.aggregator.*;",
            "import dev.aggregator.sqlite.SqliteDedupStore;",
            "import java.nio.file.Path;",
            "import java.time.Duration;",
            "import java.util.List;",
            "",
            "class GuardSample {",
            "  static class PaymentException extends Exception {",
            "    private static final long serialVersionUID = 1L;",
            "  }",
            "  interface Message {",
            "    String id(); void ack(); void nack(); void nackAfter(Duration wait);",
            "  }",
            "  interface Broker { List<Message> poll(); }",
            "  interface Payments { void charge(Message m) throws PaymentException; }",
            "",
            "  static void consume(Broker consumer, Payments payments) {",
            code.group(1),
            "  }",
            "}");
    Path file = dir.resolve("src/GuardSample.java");
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
    assertTrue(compiled, "docs/consumer-guard.md sample does not compile:\n" + diagnostics);
  }
}
