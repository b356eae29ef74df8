package dev.aggregator.testing;

import java.lang.reflect.AnnotatedElement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * Runs a {@link Requires} test where its prerequisites are there; skips it with one line saying
 * what is missing where they are not; and with {@code CI=true} lets it run anyway and fail first
 * thing, naming what is missing, so a CI machine without them cannot pass by skipping.
 */
public final class PrerequisiteCheck implements ExecutionCondition {
  /** Each prerequisite is checked once per JVM: the answer does not change during a build. */
  private static final Map<Prerequisite, Optional<String>> MISSING = new ConcurrentHashMap<>();

  static boolean underCi() {
    return "true".equalsIgnoreCase(System.getenv("CI"));
  }

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    List<String> missing = missing(context.getElement());
    if (missing.isEmpty()) {
      return ConditionEvaluationResult.enabled("prerequisites present");
    }
    String what = context.getDisplayName() + " needs " + String.join(" and ", missing);
    if (underCi()) {
      throw new IllegalStateException(
          what + ", which this machine lacks; CI=true: a missing prerequisite fails the build");
    }
    System.err.println("SKIPPED " + what + ", which this machine lacks");
    return ConditionEvaluationResult.disabled("needs " + String.join(" and ", missing));
  }

  private static List<String> missing(Optional<AnnotatedElement> element) {
    List<String> missing = new ArrayList<>();
    element.ifPresent(
        e -> {
          for (Requires r : AnnotationSupport.findRepeatableAnnotations(e, Requires.class)) {
            MISSING
                .computeIfAbsent(r.value(), k -> Optional.ofNullable(k.missing()))
                .ifPresent(missing::add);
          }
        });
    return missing;
  }
}
