package dev.aggregator;

import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * The answer to one publish call, available once its events are durably committed.
 *
 * @param outcomes one outcome per published event, in the order of the call
 * @param conflicts the indexes, ascending, of the events that are duplicates whose payload differs
 *     from the stored event's: the same key came with other content. Payloads are compared as JSON
 *     values (member order and the spelling of numbers do not matter); timestamp and source are not
 *     compared, since clients regenerate them on retry. The stored event is unchanged.
 */
public record PublishResult(List<Outcome> outcomes, List<Integer> conflicts) {

  /**
   * Copies the lists, so the result cannot change after it is handed out.
   *
   * @throws IllegalArgumentException if a conflict is not the index of a duplicate, or the indexes
   *     are not ascending
   */
  public PublishResult {
    outcomes = List.copyOf(outcomes);
    conflicts = List.copyOf(conflicts);
    int previous = -1;
    for (int index : conflicts) {
      if (index <= previous
          || index >= outcomes.size()
          || outcomes.get(index) != Outcome.DUPLICATE) {
        throw new IllegalArgumentException(
            "conflicts must be ascending indexes of duplicates, was " + conflicts);
      }
      previous = index;
    }
  }

  /** A result without conflicts. */
  public PublishResult(List<Outcome> outcomes) {
    this(outcomes, List.of());
  }

  /** The outcome of the event at {@code index} of the call. */
  public Outcome outcome(int index) {
    return outcomes.get(index);
  }

  /**
   * Whether the event at {@code index} is a duplicate whose payload differs from the stored one's.
   */
  public boolean conflict(int index) {
    Objects.checkIndex(index, outcomes.size());
    return !conflicts.isEmpty() && Collections.binarySearch(conflicts, index) >= 0;
  }

  /** How many events of the call were new. */
  public int accepted() {
    return (int) outcomes.stream().filter(o -> o == Outcome.ACCEPTED).count();
  }

  /** How many events of the call were duplicates, conflicting or not. */
  public int duplicates() {
    return outcomes.size() - accepted();
  }
}
