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
    Path dir = Path.of(System.getProperty("bench.dir", "aggregator-bench/target"));
    if (System.getProperty("bench.dir") == null && !Files.isDirectory(dir)) {
      dir = Path.of("target"); // run from inside the module
    }
    return dir.toAbsolutePath();
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
