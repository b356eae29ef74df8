package dev.aggregator;

import java.util.List;

/**
 * The answer to one publish call, available once its events are durably committed.
 *
 * @param outcomes one outcome per published event, in the order of the call
 */
public record PublishResult(List<Outcome> outcomes) {

  /** Copies the list, so the result cannot change after it is handed out. */
  public PublishResult {
    outcomes = List.copyOf(outcomes);
  }

  /** The outcome of the event at {@code index} of the call. */
  public Outcome outcome(int index) {
    return outcomes.get(index);
  }

  /** How many events of the call were new. */
  public int accepted() {
    return (int) outcomes.stream().filter(o -> o == Outcome.ACCEPTED).count();
  }

  /** How many events of the call were duplicates. */
  public int duplicates() {
    return outcomes.size() - accepted();
  }
}
