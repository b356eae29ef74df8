package dev.aggregator.examples;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * The raw client: every connection on one selector thread, HTTP/1.1 on plain keep-alive sockets
 * with TCP_NODELAY, one request in flight per connection, each request (head and body) written in
 * one call. One thread waiting on all the connections, as wrk does, instead of a thread blocked on
 * each: on 2 cores shared with the server, a thread woken per answer cost the generator about twice
 * the CPU per request.
 */
final class NioDriver {
  private final InetSocketAddress address;
  private final byte[] head; // the request head up to the Content-Length value
  private final LoadGen.Progress progress;
  private final Selector selector;
  private final PriorityQueue<Link> due = new PriorityQueue<>(Comparator.comparingLong(l -> l.at));
  private final ArrayDeque<Link> failedLinks = new ArrayDeque<>(); // go on with their next request
  private final ByteBuffer in = ByteBuffer.allocateDirect(64 << 10);
  private long start;
  private int active;

  /** One connection: its source of requests, its figures, and the request in flight. */
  private final class Link {
    final LoadGen.Source source;
    final LoadGen.Conn stats;
    final ResponseReader reader = new ResponseReader();
    SocketChannel channel;
    SelectionKey key;
    LoadGen.Outgoing current;
    ByteBuffer out;
    long at; // when current may be sent
    long sentAt;

    Link(LoadGen.Source source, LoadGen.Conn stats) {
      this.source = source;
      this.stats = stats;
    }
  }

  NioDriver(URI publish, String apiKey, LoadGen.Progress progress) throws IOException {
    int port = publish.getPort() == -1 ? 80 : publish.getPort();
    this.address = new InetSocketAddress(publish.getHost(), port);
    this.head =
        ("POST "
                + publish.getRawPath()
                + " HTTP/1.1\r\nHost: "
                + publish.getHost()
                + ":"
                + port
                + "\r\nContent-Type: application/json\r\n"
                + (apiKey == null ? "" : "X-API-Key: " + apiKey + "\r\n")
                + "Content-Length: ")
            .getBytes(StandardCharsets.US_ASCII);
    this.progress = progress;
    this.selector = Selector.open();
  }

  /** Sends every source's requests, all connections at once, until each source is done. */
  void run(List<LoadGen.Source> sources, LoadGen.Conn[] conns) throws IOException {
    start = System.nanoTime();
    for (int i = 0; i < sources.size(); i++) {
      active++;
      next(new Link(sources.get(i), conns[i]));
    }
    try {
      while (active > 0) {
        for (Link l; (l = failedLinks.poll()) != null; ) {
          next(l);
        }
        long now = System.nanoTime();
        while (!due.isEmpty() && due.peek().at <= now) {
          send(due.poll());
        }
        if (active == 0) {
          break;
        }
        long wait =
            !failedLinks.isEmpty() ? 0 : due.isEmpty() ? 1_000 : (due.peek().at - now) / 1_000_000;
        if (wait <= 0) {
          selector.selectNow();
        } else {
          selector.select(wait);
        }
        Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
        while (keys.hasNext()) {
          SelectionKey k = keys.next();
          keys.remove();
          Link l = (Link) k.attachment();
          if (!k.isValid()) {
            continue;
          }
          if (k.isWritable()) {
            write(l);
          }
          if (k.isValid() && k.isReadable()) {
            read(l);
          }
        }
      }
    } finally {
      selector.close();
    }
  }

  /** The link's next request: sent now, or queued for its time; the link ends without one. */
  private void next(Link l) {
    LoadGen.Outgoing o = l.source.next(start);
    if (o == null) {
      disconnect(l);
      active--;
      return;
    }
    l.current = o;
    l.at = o.notBefore();
    if (l.at > System.nanoTime()) {
      due.add(l);
    } else {
      send(l);
    }
  }

  private void send(Link l) {
    byte[] body = l.current.body();
    byte[] length = (body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    int size = head.length + length.length + body.length;
    if (l.out == null || l.out.capacity() < size) {
      l.out = ByteBuffer.allocateDirect(Math.max(size, 16 << 10));
    }
    l.out.clear();
    l.out.put(head).put(length).put(body).flip();
    l.stats.requests++;
    progress.requests.incrementAndGet();
    l.sentAt = System.nanoTime();
    try {
      if (l.channel == null) {
        connect(l);
      }
      write(l);
    } catch (IOException e) {
      failed(l, e.toString());
    }
  }

  private void connect(Link l) throws IOException {
    SocketChannel ch = SocketChannel.open();
    try {
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      ch.socket().connect(address, 10_000);
      ch.configureBlocking(false);
      l.key = ch.register(selector, SelectionKey.OP_READ, l);
    } catch (IOException e) {
      ch.close();
      throw e;
    }
    l.channel = ch;
  }

  private void write(Link l) {
    try {
      l.channel.write(l.out);
      int ops =
          l.out.hasRemaining()
              ? SelectionKey.OP_READ | SelectionKey.OP_WRITE
              : SelectionKey.OP_READ;
      if (l.key.interestOps() != ops) {
        l.key.interestOps(ops);
      }
    } catch (IOException e) {
      failed(l, e.toString());
    }
  }

  private void read(Link l) {
    try {
      while (true) {
        in.clear();
        int n = l.channel.read(in);
        if (n < 0) {
          failed(l, "java.io.EOFException: connection closed by the server");
          return;
        }
        if (n == 0) {
          return;
        }
        in.flip();
        if (l.reader.feed(in)) {
          answered(l);
          return;
        }
      }
    } catch (IOException e) {
      failed(l, e.toString());
    }
  }

  private void answered(Link l) {
    l.stats.answered(
        l.reader.status(),
        l.reader.body(),
        l.current.events(),
        (System.nanoTime() - l.sentAt) / 1000,
        progress);
    if (l.reader.close()) {
      disconnect(l);
    }
    next(l);
  }

  /**
   * A transport failure: counted against the request, which is not retried; the link reconnects for
   * its next request, from the main loop (not from here: against a server that refuses every
   * connection, that would recurse once per request).
   */
  private void failed(Link l, String what) {
    l.stats.failed(what, (System.nanoTime() - l.sentAt) / 1000, progress);
    disconnect(l);
    failedLinks.add(l);
  }

  private void disconnect(Link l) {
    if (l.channel != null) {
      try {
        l.channel.close(); // also cancels its key
      } catch (IOException e) {
        // closing anyway
      }
      l.channel = null;
      l.key = null;
    }
    l.reader.reset();
  }
}
