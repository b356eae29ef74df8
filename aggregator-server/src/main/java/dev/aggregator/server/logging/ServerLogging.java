package dev.aggregator.server.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy;
import ch.qos.logback.core.spi.ContextAwareBase;
import ch.qos.logback.core.util.FileSize;
import java.util.function.UnaryOperator;

/**
 * The standalone jar's logging, set up in code: the console and a rolling file, both written by one
 * {@link BatchingAppender}. In code rather than a logback.xml: reading the XML (a SAX parser and
 * logback's model of the file, a few hundred classes) was a large part of the server's start-up.
 *
 * <p>It applies when the server's {@code Main} has set {@code aggregator.log.file} (and {@code
 * aggregator.log.level}) from {@code --log-file} and {@code --log-level}, which it does before the
 * first logger exists. Otherwise it steps aside and logback configures itself as usual: in the
 * build's tests (their logback-test.xml), and when a user names a file of their own with {@code
 * -Dlogback.configurationFile}.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class ServerLogging extends ContextAwareBase implements Configurator {
  private static final String PATTERN =
      "%d{yyyy-MM-dd'T'HH:mm:ss.SSS'Z',UTC} %-5level [%thread] %logger{24} - %msg%n";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    return configure(context, System::getProperty);
  }

  /** Configures {@code context} from the system properties {@code property} reads. */
  static ExecutionStatus configure(LoggerContext context, UnaryOperator<String> property) {
    String file = property.apply("aggregator.log.file");
    if (file == null || property.apply("logback.configurationFile") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }

    // The console and the file do not flush by themselves: LOG writes them a batch at a time.
    BufferedConsoleAppender console = new BufferedConsoleAppender();
    console.setName("CONSOLE");
    start(context, console, encoder(context));

    RollingFileAppender<ILoggingEvent> rolling = new RollingFileAppender<>();
    rolling.setName("FILE");
    rolling.setFile(file);
    rolling.setImmediateFlush(false);
    SizeAndTimeBasedRollingPolicy<ILoggingEvent> policy = new SizeAndTimeBasedRollingPolicy<>();
    policy.setContext(context);
    policy.setParent(rolling);
    policy.setFileNamePattern(file + ".%d{yyyy-MM-dd}.%i.gz");
    policy.setMaxFileSize(FileSize.valueOf("50MB"));
    policy.setMaxHistory(14);
    policy.setTotalSizeCap(FileSize.valueOf("2GB"));
    policy.start();
    rolling.setRollingPolicy(policy);
    start(context, rolling, encoder(context));

    // One line per request: the threads serving requests only queue their lines (BatchingAppender
    // has the why). Nothing is dropped: a full queue slows requests instead.
    BatchingAppender log = new BatchingAppender();
    log.setName("LOG");
    log.setContext(context);
    log.setQueueSize(8192);
    log.setLingerMillis(5);
    log.addAppender(console);
    log.addAppender(rolling);
    log.start();

    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.toLevel(property.apply("aggregator.log.level"), Level.INFO));
    root.addAppender(log);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  private static PatternLayoutEncoder encoder(LoggerContext context) {
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(PATTERN);
    encoder.start();
    return encoder;
  }

  private static void start(
      LoggerContext context,
      OutputStreamAppender<ILoggingEvent> appender,
      PatternLayoutEncoder encoder) {
    appender.setContext(context);
    appender.setEncoder(encoder);
    appender.start();
  }
}
