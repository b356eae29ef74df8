package dev.aggregator;

import dev.aggregator.sqlite.SqliteDedupStore;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * The child process of {@link GuardCrashTest}: processes one event through a {@link ConsumerGuard}
 * on a SQLite store, prints {@code IN HANDLER} from inside the handler (so the claim is committed),
 * and then waits inside the handler until it is killed.
 *
 * <p>Arguments: database file, topic, event id.
 */
public final class GuardCrashChild {
  private GuardCrashChild() {}

  public static void main(String[] args) throws Exception {
    EventAggregator aggregator =
        EventAggregator.builder().store(SqliteDedupStore.open(Path.of(args[0]))).build();
    ConsumerGuard guard = ConsumerGuard.of(aggregator);
    guard.process(
        Event.of(args[1], args[2]),
        e -> {
          System.out.println("IN HANDLER");
          System.out.flush();
          new CountDownLatch(1).await(); // the handler never finishes: the parent kills us here
        });
    System.out.println("HANDLER RETURNED"); // never reached
  }
}
