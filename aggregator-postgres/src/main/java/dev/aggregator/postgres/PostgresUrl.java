package dev.aggregator.postgres;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A database address as users write it, {@code postgres://user:secret@host:5432/db?schema=s} (the
 * libpq form) or {@code jdbc:postgresql://host:5432/db?user=u&password=secret}, turned into what
 * pgjdbc takes, plus a form safe to print (no password).
 *
 * @param jdbcUrl the JDBC URL handed to the driver (may carry a password for JDBC input)
 * @param user the user from the libpq form's user info, or {@code null}
 * @param password the password from the libpq form's user info, or {@code null}
 * @param schema the {@code schema} parameter of the libpq form, or {@code null}
 * @param safe the address without any password, for messages and logs
 */
record PostgresUrl(String jdbcUrl, String user, String password, String schema, String safe) {

  private static final Pattern JDBC_PASSWORD = Pattern.compile("(?i)([?&;]password=)[^&;]*");

  static PostgresUrl parse(String url) {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException("database URL must not be blank");
    }
    String lower = url.toLowerCase(Locale.ROOT);
    if (lower.startsWith("jdbc:postgresql:")) {
      return new PostgresUrl(url, null, null, null, JDBC_PASSWORD.matcher(url).replaceAll("$1***"));
    }
    if (!lower.startsWith("postgres://") && !lower.startsWith("postgresql://")) {
      throw new IllegalArgumentException(
          "database URL must start with postgres://, postgresql:// or jdbc:postgresql:, was '"
              + safeGuess(url)
              + "'");
    }
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(
          "database URL '" + safeGuess(url) + "' is malformed: " + e.getReason(), e);
    }
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("database URL '" + safeGuess(url) + "' has no host");
    }
    String user = null;
    String password = null;
    String userInfo = uri.getRawUserInfo();
    if (userInfo != null) {
      int colon = userInfo.indexOf(':');
      user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
      password = colon < 0 ? null : decode(userInfo.substring(colon + 1));
    }
    String schema = null;
    List<String> params = new ArrayList<>();
    if (uri.getRawQuery() != null) {
      for (String p : uri.getRawQuery().split("&")) {
        if (p.startsWith("schema=")) {
          schema = decode(p.substring("schema=".length()));
        } else if (!p.isEmpty()) {
          params.add(p); // libpq and pgjdbc share the common ones (sslmode, connectTimeout...)
        }
      }
    }
    String hostPort =
        (uri.getHost().contains(":") && !uri.getHost().startsWith("[")
                ? "[" + uri.getHost() + "]"
                : uri.getHost())
            + (uri.getPort() >= 0 ? ":" + uri.getPort() : "");
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    String query = params.isEmpty() ? "" : "?" + String.join("&", params);
    String jdbc = "jdbc:postgresql://" + hostPort + path + query;
    String safe =
        uri.getScheme()
            + "://"
            + (user != null ? userInfo.split(":", 2)[0] + "@" : "")
            + hostPort
            + path
            + (uri.getRawQuery() != null ? "?" + uri.getRawQuery() : "");
    return new PostgresUrl(
        jdbc, user, password, schema, JDBC_PASSWORD.matcher(safe).replaceAll("$1***"));
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  /** For an address we could not parse: drop whatever sits between "://" and "@". */
  private static String safeGuess(String url) {
    return url.replaceAll("://[^@/]*@", "://***@");
  }

  @Override
  public String toString() {
    return safe;
  }
}
