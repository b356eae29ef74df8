package dev.aggregator.examples;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** One keep-alive connection that POSTs request bodies to /publish. Not thread-safe. */
interface Sender extends AutoCloseable {

  /** Sends one body; returns the status. */
  int post(byte[] body) throws IOException, InterruptedException;

  /** The last response body (for error messages). */
  String lastBody();

  /** False once the server closed the connection: open a new one. */
  default boolean isOpen() {
    return true;
  }

  @Override
  void close();

  /** Opens connections. */
  interface Factory {
    Sender open() throws IOException;
  }

  static Factory factory(LoadGen.Client client, URI base, String apiKey) {
    URI publish = base.resolve("/publish");
    if (client == LoadGen.Client.jdk) {
      HttpClient http =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(Duration.ofSeconds(10))
              .build();
      return () -> new JdkSender(http, publish, apiKey);
    }
    return () -> new RawSender(publish, apiKey);
  }

  /** A GET with the JDK client (for /stats: not measured). */
  static byte[] get(URI uri, String apiKey) throws IOException, InterruptedException {
    HttpRequest.Builder req = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).GET();
    if (apiKey != null) {
      req.header("X-API-Key", apiKey);
    }
    HttpResponse<byte[]> r =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .build()
            .send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
    if (r.statusCode() != 200) {
      throw new IOException(
          "GET "
              + uri
              + ": HTTP "
              + r.statusCode()
              + " "
              + new String(r.body(), StandardCharsets.UTF_8));
    }
    return r.body();
  }

  /** java.net.http.HttpClient, HTTP/1.1; the client pools the connection between calls. */
  final class JdkSender implements Sender {
    private final HttpClient http;
    private final URI uri;
    private final String apiKey;
    private byte[] last = new byte[0];

    JdkSender(HttpClient http, URI uri, String apiKey) {
      this.http = http;
      this.uri = uri;
      this.apiKey = apiKey;
    }

    @Override
    public int post(byte[] body) throws IOException, InterruptedException {
      HttpRequest.Builder req =
          HttpRequest.newBuilder(uri)
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofByteArray(body));
      if (apiKey != null) {
        req.header("X-API-Key", apiKey);
      }
      HttpResponse<byte[]> r = http.send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
      last = r.body();
      return r.statusCode();
    }

    @Override
    public String lastBody() {
      return new String(last, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
      // the shared client owns the connections
    }
  }

  /**
   * HTTP/1.1 on a plain socket: the request head and body go out in one write, the response is read
   * by Content-Length or chunked encoding. Only what a keep-alive POST needs.
   */
  final class RawSender implements Sender {
    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;
    private final byte[] head;
    private final ByteArrayOutputStream responseBody = new ByteArrayOutputStream();
    private final StringBuilder line = new StringBuilder();
    private byte[] request = new byte[0];
    private boolean open = true;

    RawSender(URI uri, String apiKey) throws IOException {
      int port = uri.getPort() == -1 ? 80 : uri.getPort();
      socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(uri.getHost(), port), 10_000);
      socket.setSoTimeout(60_000);
      out = socket.getOutputStream();
      in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
      String h =
          "POST "
              + uri.getRawPath()
              + " HTTP/1.1\r\nHost: "
              + uri.getHost()
              + ":"
              + port
              + "\r\nContent-Type: application/json\r\n"
              + (apiKey == null ? "" : "X-API-Key: " + apiKey + "\r\n")
              + "Content-Length: ";
      head = h.getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public int post(byte[] body) throws IOException {
      byte[] len = (body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
      int size = head.length + len.length + body.length;
      if (request.length < size) {
        request = new byte[Math.max(size, request.length * 2)];
      }
      System.arraycopy(head, 0, request, 0, head.length);
      System.arraycopy(len, 0, request, head.length, len.length);
      System.arraycopy(body, 0, request, head.length + len.length, body.length);
      out.write(request, 0, size);
      out.flush();
      return readResponse();
    }

    private int readResponse() throws IOException {
      String status = readLine();
      if (!status.startsWith("HTTP/1.")) {
        throw new IOException("not an HTTP response: " + status);
      }
      int code = Integer.parseInt(status.substring(9, 12));
      long length = -1;
      boolean chunked = false;
      boolean close = false;
      for (String h = readLine(); !h.isEmpty(); h = readLine()) {
        int colon = h.indexOf(':');
        if (colon < 0) {
          continue;
        }
        String name = h.substring(0, colon).trim();
        String value = h.substring(colon + 1).trim();
        if (name.equalsIgnoreCase("Content-Length")) {
          length = Long.parseLong(value);
        } else if (name.equalsIgnoreCase("Transfer-Encoding")) {
          chunked = value.equalsIgnoreCase("chunked");
        } else if (name.equalsIgnoreCase("Connection")) {
          close = value.equalsIgnoreCase("close");
        }
      }
      responseBody.reset();
      if (chunked) {
        for (long n = Long.parseLong(chunkSize(readLine()), 16); n > 0; ) {
          copy(n);
          readLine();
          n = Long.parseLong(chunkSize(readLine()), 16);
        }
        for (String t = readLine(); !t.isEmpty(); t = readLine()) {
          // trailers
        }
      } else if (length > 0) {
        copy(length);
      }
      if (close) {
        open = false;
      }
      return code;
    }

    private static String chunkSize(String line) {
      int semi = line.indexOf(';');
      return (semi < 0 ? line : line.substring(0, semi)).trim();
    }

    private void copy(long n) throws IOException {
      byte[] buf = new byte[8192];
      while (n > 0) {
        int r = in.read(buf, 0, (int) Math.min(buf.length, n));
        if (r < 0) {
          throw new EOFException("connection closed inside a response body");
        }
        responseBody.write(buf, 0, r);
        n -= r;
      }
    }

    private String readLine() throws IOException {
      line.setLength(0);
      for (int c = in.read(); c != '\n'; c = in.read()) {
        if (c < 0) {
          throw new EOFException("connection closed by the server");
        }
        if (c != '\r') {
          line.append((char) c);
        }
      }
      return line.toString();
    }

    @Override
    public String lastBody() {
      return responseBody.toString(StandardCharsets.UTF_8);
    }

    @Override
    public boolean isOpen() {
      return open;
    }

    @Override
    public void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }
}
