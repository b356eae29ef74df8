package dev.aggregator.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Where benchmarks keep their files: {@code -Dbench.dir}, default aggregator-bench/target. */
final class BenchDirs {
  private BenchDirs() {}

  static Path root() {
    String configured = System.getProperty("bench.dir");
    if (configured != null) {
      return Path.of(configured).toAbsolutePath();
    }
    for (Path dir : new Path[] {Path.of("aggregator-bench/target"), Path.of("target")}) {
      if (Files.isDirectory(dir)) {
        return dir.toAbsolutePath(); // from the repository root, or from inside the module
      }
    }
    // Gigabytes of stores must not land in whatever directory this happens to run from.
    throw new IllegalStateException(
        "run from the repository root (or the aggregator-bench module), or set -Dbench.dir");
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
