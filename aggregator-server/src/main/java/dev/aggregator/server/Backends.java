package dev.aggregator.server;

import dev.aggregator.postgres.PostgresDedupStore;
import dev.aggregator.sqlite.SqliteDedupStore;
import dev.aggregator.store.DedupStore;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The standalone jar's choice of store from {@code --store}. Kept apart from {@link Main}'s option
 * parsing so the URL forms are in one place; PostgreSQL and Redis are optional dependencies of this
 * module (present in the shaded jar), touched only from here and from {@link Main}.
 */
final class Backends {
  private Backends() {}

  /** Whether {@code url} names a PostgreSQL database. */
  static boolean isPostgres(String url) {
    String lower = url.strip().toLowerCase(Locale.ROOT);
    return lower.startsWith("postgres://")
        || lower.startsWith("postgresql://")
        || lower.startsWith("jdbc:postgresql:");
  }

  /**
   * Opens the store named by {@code url}: {@code postgres://}, {@code postgresql://} or {@code
   * jdbc:postgresql:} for PostgreSQL; {@code sqlite:PATH} for SQLite at PATH; empty for SQLite at
   * {@code defaultDb}.
   *
   * @throws IllegalArgumentException for a URL of no known form (a bad flag)
   * @throws dev.aggregator.StoreException if the database cannot be reached or opened
   */
  static DedupStore openStore(String url, Path defaultDb, SqliteDedupStore.Synchronous sync) {
    if (url == null || url.isBlank()) {
      return SqliteDedupStore.builder(defaultDb).synchronous(sync).open();
    }
    String u = url.strip();
    if (isPostgres(u)) {
      return PostgresDedupStore.open(u);
    }
    if (u.toLowerCase(Locale.ROOT).startsWith("sqlite:")) {
      String path = u.substring("sqlite:".length());
      if (path.startsWith("//")) {
        path = path.substring(2);
      }
      if (path.isBlank()) {
        throw new IllegalArgumentException("--store sqlite: needs a file, e.g. sqlite:data/a.db");
      }
      return SqliteDedupStore.builder(Path.of(path)).synchronous(sync).open();
    }
    int colon = u.indexOf(':');
    String scheme = colon < 0 ? u : u.substring(0, colon + 1); // never echo a password
    throw new IllegalArgumentException(
        "--store must be postgres://user:password@host:5432/db, jdbc:postgresql://... or"
            + " sqlite:FILE, was '"
            + (colon < 0 ? "a plain name" : scheme + "...")
            + "'");
  }

  /** Where a SQLite store named by {@code url} lives, or {@code null} for another store. */
  static Path sqlitePath(String url, Path defaultDb) {
    if (url == null || url.isBlank()) {
      return defaultDb;
    }
    String u = url.strip();
    if (u.toLowerCase(Locale.ROOT).startsWith("sqlite:")) {
      String path = u.substring("sqlite:".length());
      return Path.of(path.startsWith("//") ? path.substring(2) : path);
    }
    return null;
  }
}
