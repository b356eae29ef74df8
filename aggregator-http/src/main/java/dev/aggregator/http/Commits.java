package dev.aggregator.http;

import dev.aggregator.PublishResult;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Answers that wait for a commit without a thread waiting: the answer is built where the request
 * says ({@link dev.aggregator.http.spi.ApiRequest#answerOn()}) when the aggregator's future
 * completes, so the writer thread that completed it never serializes an answer, and it is a 503 if
 * the commit takes longer than the ack timeout.
 */
final class Commits {
  /** Builds an answer from a commit's result. */
  @FunctionalInterface
  interface AnswerBuilder<T> {
    T build(PublishResult result) throws Exception;
  }

  private final Duration ackTimeout;
  private final ScheduledExecutorService timer;

  /**
   * @param timer runs the ack timeouts of requests whose answer thread is not a scheduler itself
   */
  Commits(Duration ackTimeout, ScheduledExecutorService timer) {
    this.ackTimeout = ackTimeout;
    this.timer = timer;
  }

  /** The answer to {@code committed}, built on {@code answerOn}, or 503 after the ack timeout. */
  <T> CompletableFuture<T> answer(
      CompletableFuture<PublishResult> committed, Executor answerOn, AnswerBuilder<T> builder) {
    CompletableFuture<T> answer = new CompletableFuture<>();
    // An event loop is a scheduler of its own: its timers cost no cross-thread hand-off.
    ScheduledExecutorService scheduler =
        answerOn instanceof ScheduledExecutorService loop ? loop : timer;
    ScheduledFuture<?> timeout =
        scheduler.schedule(
            () -> answer.completeExceptionally(timedOut()),
            ackTimeout.toNanos(),
            TimeUnit.NANOSECONDS);
    committed.whenCompleteAsync(
        (result, failure) -> {
          timeout.cancel(false);
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
        inlineWhenRejected(answerOn));
    return answer;
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
