package dev.aggregator.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * Needs a PostgreSQL server (AGGREGATOR_TEST_POSTGRES_URL, default 127.0.0.1:5432, database test);
 * see {@link Requires}.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("postgres")
@Requires(Prerequisite.POSTGRES)
public @interface RequiresPostgres {}
