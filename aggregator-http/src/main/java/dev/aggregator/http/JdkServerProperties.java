package dev.aggregator.http;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The limits that the JDK's {@code com.sun.net.httpserver} keeps per JVM, not per server: it reads
 * them from system properties once, when the first server of the JVM starts. They are set here from
 * the first JDK transport's settings, unless set already (with {@code -D}); a later server that
 * asks for other values gets a warning naming the value in force.
 *
 * <ul>
 *   <li>{@code sun.net.httpserver.nodelay}: on. Off, Nagle's algorithm and the client's delayed ACK
 *       hold every small answer for tens of milliseconds.
 *   <li>{@code sun.net.httpserver.idleInterval} (seconds) and {@code clockTick} (ms): a connection
 *       that sends nothing (between requests, or at all) is closed after the request timeout,
 *       checked every quarter of it.
 *   <li>{@code jdk.httpserver.maxConnections}: connections over the cap are closed when accepted;
 *       {@code sun.net.httpserver.maxIdleConnections} the same, or the JDK closes keep-alive
 *       connections beyond its default of 200 idle ones.
 * </ul>
 */
final class JdkServerProperties {
  private static final Logger log = LoggerFactory.getLogger(JdkServerProperties.class);

  private JdkServerProperties() {}

  static synchronized void apply(Duration requestTimeout, int maxConnections) {
    long seconds = Math.max(1, (requestTimeout.toMillis() + 999) / 1000);
    long tick = Math.max(100, Math.min(10_000, seconds * 1000 / 4));
    Map<String, String> wanted = new LinkedHashMap<>();
    wanted.put("sun.net.httpserver.nodelay", "true");
    wanted.put("sun.net.httpserver.idleInterval", Long.toString(seconds));
    wanted.put("sun.net.httpserver.clockTick", Long.toString(tick));
    wanted.put("jdk.httpserver.maxConnections", Integer.toString(maxConnections));
    wanted.put("sun.net.httpserver.maxIdleConnections", Integer.toString(maxConnections));
    wanted.forEach(
        (name, value) -> {
          String set = System.getProperty(name);
          if (set == null) {
            System.setProperty(name, value);
          } else if (!set.equals(value) && !name.endsWith("clockTick")) {
            log.warn(
                "the JDK HTTP server's {} is {} for the whole JVM, not {} as this server asks"
                    + " (it is read once, when the first server starts)",
                name,
                set,
                value);
          }
        });
  }
}
