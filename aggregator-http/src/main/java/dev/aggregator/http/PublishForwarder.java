package dev.aggregator.http;

import dev.aggregator.Event;
import java.util.List;

/**
 * Where a forwarding server sends what {@code POST /publish} receives, instead of its own
 * aggregator: a queue that aggregators consume (the standalone jar's {@code --forward
 * redis://host:port/stream} is one). See {@link AggregatorServer.Builder#forwarder}.
 */
@FunctionalInterface
public interface PublishForwarder {
  /**
   * Checks the events with the consuming aggregators' rules ({@link
   * dev.aggregator.EventRules#check}), so that an invalid event is refused to its publisher rather
   * than dead-lettered later, then hands them on, all or none, in order. The server has read them
   * ({@link dev.aggregator.EventJson}) and refused the reserved topics.
   *
   * @return one id per event, in the order of {@code events} (answered as {@code stream_ids})
   * @throws dev.aggregator.EventValidationException if an event breaks a rule: answered 422
   * @throws RuntimeException for any other failure: answered 503 {@code unavailable}, since the
   *     publisher can retry (the consumers deduplicate)
   */
  List<String> forward(List<Event> events);
}
