package dev.aggregator.store;

import dev.aggregator.Outcome;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.RandomAccess;

/**
 * The outcomes of one {@link DedupStore#append}, and which of its duplicates conflict: carry a
 * payload that differs from the stored event's (as decided by {@link PendingEvent#samePayload}).
 *
 * <p>It is the {@code List<Outcome>} that {@code append} returns, so the SPI keeps its shape: a
 * store that compares payloads returns one of these, and a store that wraps another and hands on
 * its list hands on the conflicts with it. A plain list means the store did not compare.
 */
public final class AppendResult extends AbstractList<Outcome> implements RandomAccess {
  private final Outcome[] outcomes;
  private final List<Integer> conflicts;

  /**
   * The outcomes of a batch with the indexes of its conflicting duplicates.
   *
   * @throws IllegalArgumentException if a conflict's index is out of range or not a {@link
   *     Outcome#DUPLICATE}
   */
  public AppendResult(List<Outcome> outcomes, Collection<Integer> conflicts) {
    this.outcomes = outcomes.toArray(new Outcome[0]);
    Integer[] sorted = conflicts.toArray(new Integer[0]);
    Arrays.sort(sorted);
    for (int i = 0; i < sorted.length; i++) {
      int index = sorted[i];
      if (index < 0 || index >= this.outcomes.length || this.outcomes[index] != Outcome.DUPLICATE) {
        throw new IllegalArgumentException(
            "conflict at index " + index + " is not a duplicate of this batch");
      }
      if (i > 0 && sorted[i - 1] == index) {
        throw new IllegalArgumentException("conflict at index " + index + " given twice");
      }
    }
    this.conflicts = List.of(sorted);
  }

  /**
   * The indexes, ascending, of the events of {@code outcomes} that are conflicting duplicates: the
   * conflicts of an {@link AppendResult}, none for any other list.
   */
  public static List<Integer> conflictsOf(List<Outcome> outcomes) {
    return outcomes instanceof AppendResult r ? r.conflicts : List.of();
  }

  /** The indexes, ascending, of the duplicates whose payload differs from the stored event's. */
  public List<Integer> conflicts() {
    return conflicts;
  }

  @Override
  public Outcome get(int index) {
    return outcomes[index];
  }

  @Override
  public int size() {
    return outcomes.length;
  }
}
