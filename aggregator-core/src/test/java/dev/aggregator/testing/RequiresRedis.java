package dev.aggregator.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/** Needs a Redis server (AGGREGATOR_TEST_REDIS, default 127.0.0.1:6379); see {@link Requires}. */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("redis")
@Requires(Prerequisite.REDIS)
public @interface RequiresRedis {}
