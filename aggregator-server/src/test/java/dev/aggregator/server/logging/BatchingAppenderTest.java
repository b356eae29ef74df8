package dev.aggregator.server.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.OutputStreamAppender;
import dev.aggregator.testing.Await;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class BatchingAppenderTest {
  /** A logger writing through a BatchingAppender into a buffered stream that never flushes. */
  private static final class Setup {
    final ByteArrayOutputStream sink = new ByteArrayOutputStream();
    final BatchingAppender batching = new BatchingAppender();
    final Logger logger;

    Setup() {
      LoggerContext context = new LoggerContext();
      context.setMDCAdapter(new LogbackMDCAdapter()); // as the slf4j binding sets it up
      PatternLayoutEncoder encoder = new PatternLayoutEncoder();
      encoder.setContext(context);
      encoder.setPattern("%msg%n");
      encoder.start();
      OutputStreamAppender<ILoggingEvent> out = new OutputStreamAppender<>();
      out.setContext(context);
      out.setEncoder(encoder);
      out.setImmediateFlush(false);
      out.setOutputStream(new BufferedOutputStream(sink, 1 << 20)); // only a flush empties it
      out.start();
      batching.setContext(context);
      batching.addAppender(out);
      batching.start();
      logger = context.getLogger("test");
      logger.addAppender(batching);
    }

    String written() {
      synchronized (sink) {
        return sink.toString(StandardCharsets.UTF_8);
      }
    }
  }

  @Test
  void aLine_isFlushedSoonAfterItIsLogged_withoutTheAppenderFlushingEachLine() {
    Setup s = new Setup();
    s.logger.info("first line");
    Await.value(
        "the line flushed", Duration.ofSeconds(5), s::written, w -> w.contains("first line"));
    s.batching.stop();
  }

  @Test
  void stop_writesEveryQueuedLineInOrder() {
    Setup s = new Setup();
    for (int i = 0; i < 20_000; i++) {
      s.logger.info("line {}", i);
    }
    s.batching.stop();
    String[] lines = s.written().split("\n");
    assertEquals(20_000, lines.length);
    for (int i = 0; i < lines.length; i++) {
      assertEquals("line " + i, lines[i]);
    }
  }
}
