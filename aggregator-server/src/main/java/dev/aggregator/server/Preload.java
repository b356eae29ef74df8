package dev.aggregator.server;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Start-up in parallel: while the main thread configures the logging and opens the store, a second
 * thread loads what the server needs next (SQLite's native library, Jackson), so the first request
 * is answered sooner on a machine with more than one core. It only loads and initializes classes
 * and libraries the server loads anyway; nothing it does is kept. (Not the JDK HTTP server: it
 * reads its settings once, when its first server is created, and the transport sets them just
 * before.)
 */
final class Preload {
  private Preload() {}

  static void start() {
    Thread t = new Thread(Preload::run, "aggregator-preload");
    t.setDaemon(true);
    t.setPriority(Thread.NORM_PRIORITY - 1);
    t.start();
  }

  private static void run() {
    try {
      org.sqlite.SQLiteJDBCLoader.initialize(); // extracts and loads the native library
      new ObjectMapper().readTree("{\"warm\":[1,2.5,\"x\",true,null]}");
    } catch (Exception e) {
      // Only an early start of what the server does again; a failure shows up there, with context.
    }
  }
}
