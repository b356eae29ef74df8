package dev.aggregator.redis;

/**
 * What a {@link RedisStreamSource} has done since it started.
 *
 * @param delivered entries read from the stream (new, own pending or reclaimed)
 * @param accepted events stored as new
 * @param duplicates events that were already stored (retries, or redeliveries after a crash)
 * @param acked entries acknowledged (XACK), always after their events were committed
 * @param reclaimed entries taken over from consumers idle longer than the claim timeout
 * @param deadLettered entries that are not valid events: copied to the dead-letter stream, acked
 * @param failures rounds that failed (Redis or the store) and were retried
 * @param running whether the consumer thread runs
 */
public record RedisSourceStats(
    long delivered,
    long accepted,
    long duplicates,
    long acked,
    long reclaimed,
    long deadLettered,
    long failures,
    boolean running) {}
