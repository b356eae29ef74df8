package dev.aggregator.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * The Java samples of the repository's Markdown pages, compiled against the current API by the
 * tests that keep the pages true: a sample that no longer compiles fails its test, naming the page.
 */
public final class DocSamples {
  private static final Pattern JAVA_BLOCK = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL);

  private DocSamples() {}

  /**
   * The first Java code block of {@code page} (relative to the repository's root) after the line
   * {@code heading}, or after its start if {@code heading} is null.
   */
  public static String javaBlock(String page, String heading) throws IOException {
    String text = Files.readString(Path.of("..").resolve(page), StandardCharsets.UTF_8);
    int from = 0;
    if (heading != null) {
      from = text.indexOf("\n" + heading + "\n");
      assertTrue(from >= 0, page + " has no section '" + heading + "'");
    }
    Matcher code = JAVA_BLOCK.matcher(text);
    assertTrue(code.find(from), "no java code block in " + page + " after " + heading);
    return code.group(1);
  }

  /**
   * Compiles {@code source}, the class {@code className}, with every lint warning an error, against
   * the test's classpath, into {@code dir/classes}, which it returns; fails naming {@code page} and
   * javac's diagnostics if it does not compile.
   */
  public static Path compile(Path dir, String className, String source, String page)
      throws IOException {
    Path file = dir.resolve("src").resolve(className + ".java");
    Files.createDirectories(file.getParent());
    Files.writeString(file, source, StandardCharsets.UTF_8);
    Path classes = dir.resolve("classes");
    Files.createDirectories(classes);
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    StringWriter diagnostics = new StringWriter();
    List<String> options =
        List.of(
            "-classpath",
            System.getProperty("java.class.path"),
            "-d",
            classes.toString(),
            "-Xlint:all",
            "-Werror");
    boolean compiled =
        javac
            .getTask(
                diagnostics,
                null,
                null,
                options,
                null,
                javac
                    .getStandardFileManager(null, null, StandardCharsets.UTF_8)
                    .getJavaFileObjects(file))
            .call();
    assertTrue(compiled, "the sample of " + page + " does not compile:\n" + diagnostics);
    return classes;
  }
}
