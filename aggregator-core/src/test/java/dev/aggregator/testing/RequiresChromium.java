package dev.aggregator.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * Needs Chromium and chromedriver (Debian's chromium and chromium-driver); see {@link Requires}.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("chromium")
@Requires(Prerequisite.CHROMIUM)
public @interface RequiresChromium {}
