package dev.aggregator.redis;

/**
 * What a {@link RedisSource} has done since it started. A unit is a stream entry or a list item; a
 * list item may hold several events.
 *
 * @param delivered units read (new, own pending or reclaimed)
 * @param accepted events stored as new
 * @param duplicates events that were already stored (retries, or redeliveries after a crash)
 * @param acked units released (XACK, or removed from the processing list), always after their
 *     events were committed
 * @param reclaimed units taken over from consumers idle longer than the claim timeout; for a list
 *     also the items found in this consumer's processing list at start
 * @param deadLettered units that are not valid events: copied to the dead letters, released
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
