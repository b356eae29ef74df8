package dev.aggregator.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a test needs beyond a JDK and Maven, and how to tell whether this machine has it. Each check
 * is quick (a connection attempt of at most a second) and says what is missing in one line.
 */
public enum Prerequisite {
  /** PostgreSQL at AGGREGATOR_TEST_POSTGRES_URL (default 127.0.0.1:5432, database test). */
  POSTGRES {
    @Override
    String missing() {
      String url =
          System.getenv()
              .getOrDefault(
                  "AGGREGATOR_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test");
      URI uri = URI.create(url.replaceFirst("^jdbc:", ""));
      String host = uri.getHost() == null ? "127.0.0.1" : uri.getHost();
      int port = uri.getPort() < 0 ? 5432 : uri.getPort();
      return reachable(host, port, null)
          ? null
          : "PostgreSQL at " + host + ":" + port + " (AGGREGATOR_TEST_POSTGRES_URL)";
    }
  },
  /** Redis at AGGREGATOR_TEST_REDIS (default 127.0.0.1:6379). */
  REDIS {
    @Override
    String missing() {
      String hostPort = System.getenv().getOrDefault("AGGREGATOR_TEST_REDIS", "127.0.0.1:6379");
      int colon = hostPort.lastIndexOf(':');
      String host = hostPort.substring(0, colon);
      int port = Integer.parseInt(hostPort.substring(colon + 1));
      return reachable(host, port, "PING\r\n")
          ? null
          : "Redis at " + hostPort + " (AGGREGATOR_TEST_REDIS)";
    }
  },
  /** Chromium and its chromedriver (Debian's chromium and chromium-driver packages). */
  CHROMIUM {
    @Override
    String missing() {
      String chromium = System.getProperty("chromium.binary", "/usr/bin/chromium");
      String driver = System.getProperty("chromedriver.binary", "/usr/bin/chromedriver");
      return Files.isExecutable(Path.of(chromium)) && Files.isExecutable(Path.of(driver))
          ? null
          : "Chromium and chromedriver ("
              + chromium
              + ", "
              + driver
              + "; apt-get install chromium chromium-driver)";
    }
  },
  /** Root, to mount a small tmpfs that fills up. */
  ROOT {
    @Override
    String missing() {
      return "root".equals(System.getProperty("user.name"))
          ? null
          : "root (the test mounts a tmpfs; user " + System.getProperty("user.name") + ")";
    }
  };

  /** What is missing, in words, or {@code null} when this machine has it. */
  abstract String missing();

  /** Whether a server answers at host:port (and, with a probe, sends something back to it). */
  private static boolean reachable(String host, int port, String probe) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 1000);
      if (probe == null) {
        return true;
      }
      s.setSoTimeout(1000);
      OutputStream out = s.getOutputStream();
      out.write(probe.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      return in.read() >= 0;
    } catch (IOException e) {
      return false;
    }
  }
}
