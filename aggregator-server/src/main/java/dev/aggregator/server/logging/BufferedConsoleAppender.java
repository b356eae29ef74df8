package dev.aggregator.server.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;

/**
 * Standard output through a 64 KiB buffer that only its {@link BatchingAppender} flushes, once per
 * batch. Logback's ConsoleAppender writes through {@code System.out}, which flushes every line, one
 * write call per line whatever {@code immediateFlush} says.
 */
public final class BufferedConsoleAppender extends OutputStreamAppender<ILoggingEvent> {
  @Override
  public void start() {
    setImmediateFlush(false);
    setOutputStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 64 << 10));
    super.start();
  }
}
