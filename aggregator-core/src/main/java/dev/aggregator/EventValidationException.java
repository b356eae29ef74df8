package dev.aggregator;

import java.util.List;
import java.util.stream.Collectors;

/**
 * One or more events of a publish call break a rule of {@link Event}; nothing of the call was
 * queued or stored.
 */
public final class EventValidationException extends AggregatorException {
  private static final long serialVersionUID = 1L;

  /**
   * One broken rule.
   *
   * @param index the position of the event in the publish call
   * @param field the field, as named on the wire ({@code topic}, {@code event_id}, ...)
   * @param rule what the field must be, e.g. {@code "must be at most 255 characters"}
   */
  public record Violation(int index, String field, String rule) {
    @Override
    public String toString() {
      return "event " + index + ": " + field + " " + rule;
    }
  }

  private final transient List<Violation> violations;

  /** An exception listing every violation found. */
  public EventValidationException(List<Violation> violations) {
    super(message(violations));
    this.violations = List.copyOf(violations);
  }

  /** Every violation found, in event order. */
  public List<Violation> violations() {
    return violations;
  }

  private static String message(List<Violation> violations) {
    if (violations.isEmpty()) {
      throw new IllegalArgumentException("an EventValidationException needs a violation");
    }
    return "invalid event"
        + (violations.size() > 1 ? "s: " : ": ")
        + violations.stream().map(Violation::toString).collect(Collectors.joining("; "));
  }
}
