package dev.aggregator.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A test class or method that needs more than a JDK and Maven. Where a prerequisite is missing, the
 * test is skipped with one line naming it; under CI ({@code CI=true}) it fails instead, so nothing
 * is skipped silently there. Tests use the tagged forms: {@link RequiresPostgres}, {@link
 * RequiresRedis}, {@link RequiresChromium}, {@link RequiresRoot} (tags {@code postgres}, {@code
 * redis}, {@code chromium}, {@code root}, for {@code -Dgroups} and {@code -DexcludedGroups}).
 */
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Repeatable(Requires.All.class)
@ExtendWith(PrerequisiteCheck.class)
public @interface Requires {
  /** What the test needs. */
  Prerequisite value();

  /** Several prerequisites on one element. */
  @Target({ElementType.TYPE, ElementType.METHOD, ElementType.ANNOTATION_TYPE})
  @Retention(RetentionPolicy.RUNTIME)
  @ExtendWith(PrerequisiteCheck.class)
  @interface All {
    /** The prerequisites. */
    Requires[] value();
  }
}
