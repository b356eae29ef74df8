package dev.aggregator;

/** What happened to one published event. */
public enum Outcome {
  /** The key was new: the event is now stored. */
  ACCEPTED,
  /**
   * The key was already stored (by an earlier call or earlier in the same call): nothing was
   * stored, the first version stays. {@link PublishResult#conflict} tells whether its payload
   * differed from the stored one's.
   */
  DUPLICATE
}
