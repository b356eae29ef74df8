package dev.aggregator.redis;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisPooled;

/**
 * A source or stream address, {@code
 * redis://[user:password@]host[:port]/key[?group=name][&type=stream|list]}: unlike a plain Redis
 * URL, the path names the key, a stream or a list (database 0 is used). {@code rediss://} connects
 * with TLS.
 *
 * @param host the Redis host
 * @param port the Redis port, 6379 when not given
 * @param user the ACL user, or {@code null}
 * @param password the password, or {@code null}
 * @param stream the stream key
 * @param group the {@code group} parameter, or {@code null}
 * @param type the {@code type} parameter, what a source reads if the key does not exist yet, or
 *     {@code null}
 * @param tls whether the scheme is {@code rediss}
 */
record RedisStreamUrl(
    String host,
    int port,
    String user,
    String password,
    String stream,
    String group,
    RedisSource.Type type,
    boolean tls) {

  static RedisStreamUrl parse(String url) {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException("Redis stream URL must not be blank");
    }
    String lower = url.toLowerCase(Locale.ROOT);
    if (!lower.startsWith("redis://") && !lower.startsWith("rediss://")) {
      throw new IllegalArgumentException(
          "Redis stream URL must look like redis://host:port/stream, was '" + hide(url) + "'");
    }
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(
          "Redis stream URL '" + hide(url) + "' is malformed: " + e.getReason(), e);
    }
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("Redis stream URL '" + hide(url) + "' has no host");
    }
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    String stream = decode(path.startsWith("/") ? path.substring(1) : path);
    if (stream.isEmpty()) {
      throw new IllegalArgumentException(
          "Redis stream URL '" + hide(url) + "' names no stream: use redis://host:port/stream");
    }
    String user = null;
    String password = null;
    if (uri.getRawUserInfo() != null) {
      String info = uri.getRawUserInfo();
      int colon = info.indexOf(':');
      String u = decode(colon < 0 ? info : info.substring(0, colon));
      user = u.isEmpty() ? null : u;
      password = colon < 0 ? null : decode(info.substring(colon + 1));
    }
    String group = null;
    RedisSource.Type type = null;
    if (uri.getRawQuery() != null) {
      for (String p : uri.getRawQuery().split("&")) {
        if (p.startsWith("group=")) {
          group = decode(p.substring("group=".length()));
        } else if (p.startsWith("type=")) {
          String t = decode(p.substring("type=".length())).toLowerCase(Locale.ROOT);
          if (!t.equals("stream") && !t.equals("list")) {
            throw new IllegalArgumentException(
                "Redis stream URL '"
                    + hide(url)
                    + "' has type="
                    + t
                    + ": use type=stream or type=list");
          }
          type = t.equals("list") ? RedisSource.Type.LIST : RedisSource.Type.STREAM;
        } else if (!p.isEmpty()) {
          throw new IllegalArgumentException(
              "Redis stream URL '" + hide(url) + "' has an unknown parameter '" + p + "'");
        }
      }
    }
    return new RedisStreamUrl(
        uri.getHost(),
        uri.getPort() < 0 ? 6379 : uri.getPort(),
        user,
        password,
        stream,
        group,
        type,
        lower.startsWith("rediss://"));
  }

  /** A client for this address; {@code socketTimeoutMillis} bounds every command. */
  JedisPooled connect(int socketTimeoutMillis) {
    DefaultJedisClientConfig.Builder config =
        DefaultJedisClientConfig.builder()
            .ssl(tls)
            .socketTimeoutMillis(socketTimeoutMillis)
            .connectionTimeoutMillis(5_000)
            .clientName("event-aggregator");
    if (user != null) {
      config.user(user);
    }
    if (password != null) {
      config.password(password);
    }
    return new JedisPooled(new HostAndPort(host, port), config.build());
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  private static String hide(String url) {
    return url.replaceAll("://[^@/]*@", "://***@");
  }

  /** The address without its password, for messages and logs. */
  @Override
  public String toString() {
    return (tls ? "rediss://" : "redis://")
        + (user != null ? user + "@" : "")
        + host
        + ":"
        + port
        + "/"
        + stream;
  }
}
