package dev.aggregator;

import dev.aggregator.sqlite.SqliteDedupStore;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

/**
 * The child process of {@link CrashRecoveryTest}: publishes forever into a SQLite store and prints
 * {@code ACK <topic> <event_id>;} for every event whose publish has completed (so it is durable),
 * until it is killed. Also re-publishes keys of earlier runs, to show they stay duplicates.
 *
 * <p>Arguments: database file, run number, and optionally a {@code maxStoredEvents}: then the store
 * keeps only that many, removing the oldest as it goes, and only new keys are published, so every
 * acknowledged event must have been accepted: a duplicate is printed as {@code DUP <topic>
 * <event_id>;}.
 */
public final class CrashPublisher {
  private CrashPublisher() {}

  public static void main(String[] args) throws Exception {
    Path db = Path.of(args[0]);
    int run = Integer.parseInt(args[1]);
    Random random = new Random(run);
    long maxStored = args.length > 2 ? Long.parseLong(args[2]) : Long.MAX_VALUE;
    boolean expiring = maxStored != Long.MAX_VALUE;
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    EventAggregator.Builder builder = EventAggregator.builder().store(SqliteDedupStore.open(db));
    if (expiring) {
      builder.maxStoredEvents(maxStored);
    }
    try (EventAggregator agg = builder.build()) {
      out.println("READY;");
      out.flush();
      List<CompletableFuture<Void>> inFlight = new ArrayList<>();
      for (long n = 0; ; ) {
        int size = 1 + random.nextInt(50);
        List<Event> batch = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
          if (run > 0 && !expiring && random.nextInt(5) == 0) {
            // a key an earlier run may have stored: must come back as a duplicate, never twice
            batch.add(
                Event.of(
                    "t" + random.nextInt(3),
                    "r" + random.nextInt(run) + "-" + random.nextInt(2000)));
          } else {
            batch.add(Event.of("t" + (n % 3), "r" + run + "-" + n++));
          }
        }
        inFlight.add(
            agg.publish(batch)
                .thenAccept(
                    result -> {
                      synchronized (out) {
                        for (int i = 0; i < batch.size(); i++) {
                          Event e = batch.get(i);
                          // Under a limit every key is new: a duplicate would be a false one.
                          String tag =
                              expiring && result.outcome(i) == Outcome.DUPLICATE ? "DUP " : "ACK ";
                          out.print(tag + e.topic() + " " + e.eventId() + ";\n");
                        }
                        out.flush();
                      }
                    }));
        if (inFlight.size() >= 8) {
          inFlight.remove(0).join();
        }
      }
    }
  }
}
