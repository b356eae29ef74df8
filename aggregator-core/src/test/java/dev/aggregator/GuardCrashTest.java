package dev.aggregator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aggregator.sqlite.SqliteDedupStore;
import dev.aggregator.store.TestClock;
import dev.aggregator.testing.Await;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A process killed with SIGKILL inside its handler: the key stays claimed (a redelivery is told it
 * is in progress) until the lease runs out, and then the redelivery runs the handler: at least
 * once, never zero times. The lease is told by a {@link TestClock} in this process, moved past the
 * child's claim, so nothing waits five minutes.
 */
class GuardCrashTest {
  @TempDir Path dir;

  @Test
  void sigkillInsideTheHandler_redeliveryInProgressUntilTheLeaseRunsOut_thenRunsTheHandler()
      throws Exception {
    Path db = dir.resolve("guard-crash.db");
    Path output = dir.resolve("child.out");
    Instant beforeChild = Instant.now();
    Process child =
        new ProcessBuilder(
                ProcessHandle.current().info().command().orElse("java"),
                "-cp",
                System.getProperty("java.class.path"),
                GuardCrashChild.class.getName(),
                db.toString(),
                "payments",
                "p-1")
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .redirectOutput(output.toFile())
            .start();
    try {
      Await.until(
          "the child inside its handler",
          Duration.ofSeconds(60),
          () -> {
            assertTrue(child.isAlive(), "the child exited before its handler ran");
            return Files.readString(output, StandardCharsets.US_ASCII).contains("IN HANDLER");
          });
    } finally {
      child.destroyForcibly(); // SIGKILL on Linux
    }
    assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the child did not die");
    Instant afterKill = Instant.now();
    assertEquals(List.of("IN HANDLER"), Files.readAllLines(output, StandardCharsets.US_ASCII));

    TestClock clock = new TestClock(afterKill);
    Event event = Event.of("payments", "p-1");
    AtomicInteger runs = new AtomicInteger();
    try (EventAggregator aggregator =
        EventAggregator.builder().store(SqliteDedupStore.open(db)).clock(clock).build()) {
      ConsumerGuard guard = ConsumerGuard.of(aggregator);
      assertEquals(new ClaimStats(1, 0, 0, 0), aggregator.stats().claims());

      Claim busy = guard.process(event, e -> runs.incrementAndGet());
      assertEquals(Claim.Status.IN_PROGRESS, busy.status(), "the dead child's claim was lost");
      assertTrue(
          busy.leaseExpiresAt().isAfter(beforeChild.plus(guard.lease()).minusNanos(1))
              && !busy.leaseExpiresAt().isAfter(afterKill.plus(guard.lease())),
          "the lease ends five minutes after the child's claim: " + busy.leaseExpiresAt());
      assertEquals(0, runs.get());

      clock.set(busy.leaseExpiresAt());
      Claim redelivered = guard.process(event, e -> runs.incrementAndGet());
      assertEquals(Claim.Status.ACQUIRED, redelivered.status());
      assertEquals(1, runs.get());
      assertEquals(new ClaimStats(0, 1, 0, 1), aggregator.stats().claims());
      assertEquals(1, aggregator.stats().stored());
    }

    try (EventAggregator aggregator =
        EventAggregator.builder().store(SqliteDedupStore.open(db)).clock(clock).build()) {
      Claim again = ConsumerGuard.of(aggregator).process(event, e -> runs.incrementAndGet());
      assertEquals(Claim.Status.DUPLICATE, again.status());
      assertEquals(1, runs.get());
    }
  }
}
