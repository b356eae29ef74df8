package dev.aggregator.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container files, read as a reviewer would (no container engine runs here): compose publishes
 * no open write API on every interface, and the image builds the jar from the sources and has a
 * health check, which is run here against the jar itself.
 */
class ContainerFilesIT {
  private static final Path ROOT = projectRoot();

  @TempDir Path dir;

  static Path projectRoot() {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      if (Files.isRegularFile(d.resolve("compose.yaml"))
          && Files.isRegularFile(d.resolve("Dockerfile"))) {
        return d;
      }
    }
    throw new IllegalStateException("no directory above the build holds compose.yaml");
  }

  @Test
  void compose_everyPublishedPort_onLoopbackUnlessTheServiceNeedsAKey() throws IOException {
    List<String> lines = Files.readAllLines(ROOT.resolve("compose.yaml"));
    Pattern service = Pattern.compile("^  ([a-z0-9-]+):\\s*$");
    Pattern port = Pattern.compile("^\\s+- \"([^\"]+)\"\\s*$");
    String current = null;
    boolean inPorts = false;
    List<String> open = new ArrayList<>();
    int published = 0;
    for (String line : lines) {
      Matcher s = service.matcher(line);
      if (s.matches()) {
        current = s.group(1);
        inPorts = false;
        continue;
      }
      if (line.strip().equals("ports:")) {
        inPorts = true;
        continue;
      }
      Matcher p = port.matcher(line);
      if (inPorts && p.matches()) {
        published++;
        String mapping = p.group(1);
        boolean keyed = serviceSetsApiKey(lines, current);
        if (!mapping.startsWith("127.0.0.1:") && !keyed) {
          open.add(current + " publishes " + mapping);
        }
      } else if (!line.isBlank()) {
        inPorts = inPorts && line.startsWith("      ");
      }
    }
    assertTrue(published >= 3, "ports found: " + published);
    assertEquals(List.of(), open, "write APIs open on every interface without a key");
  }

  private static boolean serviceSetsApiKey(List<String> lines, String service) {
    boolean in = false;
    for (String line : lines) {
      if (line.matches("^  [a-z0-9-]+:\\s*$")) {
        in = line.strip().equals(service + ":");
      } else if (in && line.contains("AGGREGATOR_API_KEY")) {
        return true;
      }
    }
    return false;
  }

  @Test
  void dockerfile_buildsTheJarFromTheSources_andHasAHealthCheckThatWorks() throws Exception {
    String docker = Files.readString(ROOT.resolve("Dockerfile"));
    assertTrue(docker.matches("(?s).*FROM \\S+ AS build.*RUN mvn .*package.*"), docker);
    assertTrue(docker.contains("COPY --from=build "), docker);
    Matcher check =
        Pattern.compile("HEALTHCHECK .*\\n\\s*CMD \\[\"bash\", \"-c\", \"(.*)\"\\]")
            .matcher(docker);
    assertTrue(check.find(), "no HEALTHCHECK CMD in:\n" + docker);
    String command = check.group(1).replace("\\\\", "\\");

    int free;
    try (ServerSocket s = new ServerSocket(0)) {
      free = s.getLocalPort();
    }
    assertNotEquals(0, healthCheck(command, free), "healthy with nothing listening");
    try (JarServer server = JarServer.start("health", dir)) {
      int port = server.awaitListening(Duration.ofSeconds(60));
      assertEquals(0, healthCheck(command, port), "unhealthy while the server runs");
      assertEquals(0, server.stop());
    }
  }

  private static int healthCheck(String command, int port) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", command).redirectErrorStream(true);
    pb.environment().put("PORT", String.valueOf(port));
    Process p = pb.start();
    if (!p.waitFor(10, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return -1;
    }
    return p.exitValue();
  }
}
