package dev.aggregator.examples;

import dev.aggregator.testing.DocSamples;
import java.nio.file.Path;
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
    String sample = DocSamples.javaBlock("docs/consumer-guard.md", null);
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
            sample,
            "  }",
            "}");
    DocSamples.compile(dir, "GuardSample", source, "docs/consumer-guard.md");
  }
}
