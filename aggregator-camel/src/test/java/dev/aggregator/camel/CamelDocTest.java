package dev.aggregator.camel;

import dev.aggregator.testing.DocSamples;
import java.nio.file.Path;
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
    String sample = DocSamples.javaBlock("docs/consumer-guard.md", "## Camel");
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
            sample,
            "  }",
            "}");
    DocSamples.compile(dir, "CamelSample", source, "docs/consumer-guard.md");
  }
}
