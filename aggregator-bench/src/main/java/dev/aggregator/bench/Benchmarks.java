package dev.aggregator.bench;

/**
 * The benchmarks jar's entry point: JMH's own, with {@code -foe true} (fail on error) unless the
 * command says otherwise, so a benchmark that fails its iterations ends the run with exit status 1
 * instead of 0 and an empty table. {@code java -jar benchmarks.jar <regex> [JMH options]}.
 */
public final class Benchmarks {
  private Benchmarks() {}

  /** Runs JMH with these arguments, failing on the first benchmark error by default. */
  public static void main(String[] args) throws Exception {
    boolean given = false;
    for (String a : args) {
      given |= a.equals("-foe");
    }
    String[] all = args;
    if (!given) {
      all = new String[args.length + 2];
      all[0] = "-foe";
      all[1] = "true";
      System.arraycopy(args, 0, all, 2, args.length);
    }
    org.openjdk.jmh.Main.main(all);
  }
}
