package dev.aggregator.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Where benchmarks keep their files: {@code -Dbench.dir}, else the directory of the benchmarks jar
 * (aggregator-bench/target), wherever the command runs from; gigabytes of stores must not land in
 * whatever directory that happens to be.
 */
final class BenchDirs {
  private BenchDirs() {}

  static Path root() {
    String configured = System.getProperty("bench.dir");
    if (configured != null) {
      return Path.of(configured).toAbsolutePath();
    }
    try {
      // benchmarks.jar, or target/classes when run from the build: either way, target/.
      Path code =
          Path.of(BenchDirs.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      return code.getParent().toAbsolutePath();
    } catch (java.net.URISyntaxException | RuntimeException e) {
      throw new IllegalStateException(
          "cannot tell where the benchmarks jar is (" + e + "); set -Dbench.dir", e);
    }
  }

  /** A fresh, empty working directory for one trial. */
  static Path freshWorkDir(String name) throws IOException {
    Path dir = root().resolve("bench-work").resolve(name + "-" + System.nanoTime());
    Files.createDirectories(dir);
    return dir;
  }

  static void delete(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(BenchDirs::deleteOne);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteOne(Path p) {
    try {
      Files.delete(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
