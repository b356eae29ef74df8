package dev.aggregator.http;

import dev.aggregator.PublishResult;
import java.time.Duration;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Answers that wait for a commit without a thread waiting: the answer is built where the request
 * says ({@link dev.aggregator.http.spi.ApiRequest#answerOn()}) when the aggregator's future
 * completes, so the writer thread that completed it never serializes an answer, and it is a 503 if
 * the commit takes longer than the ack timeout.
 *
 * <p>The ack timeouts are one queue, not a timer per request: every answer waits the same time, so
 * the order answers start waiting is the order their time runs out, and a sweep a few times a
 * second completes the oldest that are overdue and drops those already answered. Scheduling and
 * cancelling a timer per publish woke the timer thread on most requests.
 */
final class Commits {
  /** Builds an answer from a commit's result. */
  @FunctionalInterface
  interface AnswerBuilder<T> {
    T build(PublishResult result) throws Exception;
  }

  /** An answer in the making, when it is overdue, and where it is to be completed. */
  private record Waiting(long deadline, CompletableFuture<?> answer, Executor answerOn) {}

  private final Duration ackTimeout;
  private final long timeoutNanos;
  private final Queue<Waiting> waiting = new ConcurrentLinkedQueue<>();

  /**
   * @param timer runs the sweep of overdue answers
   */
  Commits(Duration ackTimeout, ScheduledExecutorService timer) {
    this.ackTimeout = ackTimeout;
    this.timeoutNanos = ackTimeout.toNanos();
    long period = Math.max(10_000_000L, Math.min(timeoutNanos / 20, 100_000_000L));
    timer.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.NANOSECONDS);
  }

  /** The answer to {@code committed}, built on {@code answerOn}, or 503 after the ack timeout. */
  <T> CompletableFuture<T> answer(
      CompletableFuture<PublishResult> committed, Executor answerOn, AnswerBuilder<T> builder) {
    CompletableFuture<T> answer = new CompletableFuture<>();
    Executor onAnswerThread = inlineWhenRejected(answerOn);
    waiting.add(new Waiting(System.nanoTime() + timeoutNanos, answer, onAnswerThread));
    committed.whenCompleteAsync(
        (result, failure) -> {
          if (failure != null) {
            answer.completeExceptionally(failure);
            return;
          }
          try {
            answer.complete(builder.build(result));
          } catch (Throwable t) {
            answer.completeExceptionally(t);
          }
        },
        onAnswerThread);
    return answer;
  }

  /** Completes the overdue answers with 503 and forgets the answered ones, oldest first. */
  private void sweep() {
    long now = System.nanoTime();
    for (Waiting w; (w = waiting.peek()) != null; ) {
      boolean overdue = now - w.deadline() >= 0;
      if (!overdue && !w.answer().isDone()) {
        return; // the oldest is still within its time: so is every later one
      }
      waiting.poll();
      if (overdue && !w.answer().isDone()) {
        CompletableFuture<?> answer = w.answer();
        w.answerOn().execute(() -> answer.completeExceptionally(timedOut()));
      }
    }
  }

  private HttpError timedOut() {
    return new HttpError(
        503,
        "unavailable",
        "the events were queued but not committed within "
            + ackTimeout.toMillis()
            + " ms; retry, duplicates are harmless",
        null,
        Map.of("Retry-After", "1"));
  }

  /**
   * {@code executor}, or the calling thread once it refuses tasks: a server closing down stops its
   * threads, and a commit completing then must still be answered (and counted out of the requests
   * in flight).
   */
  private static Executor inlineWhenRejected(Executor executor) {
    return task -> {
      try {
        executor.execute(task);
      } catch (RejectedExecutionException e) {
        task.run();
      }
    };
  }
}
