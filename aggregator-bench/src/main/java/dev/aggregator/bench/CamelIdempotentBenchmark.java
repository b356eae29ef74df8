package dev.aggregator.bench;

import dev.aggregator.Event;
import dev.aggregator.EventAggregator;
import dev.aggregator.camel.AggregatorIdempotentRepository;
import dev.aggregator.sqlite.SqliteDedupStore;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.processor.idempotent.jdbc.JdbcMessageIdRepository;
import org.apache.camel.spi.IdempotentRepository;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;
import org.sqlite.SQLiteDataSource;

/**
 * Camel's idempotent consumer, one route, two repositories: messages per second through {@code
 * from("direct:in").idempotentConsumer(header("id"), repo).eager(true).removeOnFailure(true)
 * .completionEager(false)} with {@link AggregatorIdempotentRepository} ({@code aggregator}) or
 * Camel's {@link JdbcMessageIdRepository} ({@code jdbc}), each on its own SQLite file with the same
 * settings (WAL, {@code synchronous=NORMAL}, 64 MiB cache). One operation is one message; each
 * invocation sends {@value #CHUNK} messages, UUID keys with 20% duplicates of recent keys, one
 * after the other from one thread, as a consumer of one queue would.
 *
 * <p>Per new key the aggregator commits a claim, the confirmed event and the end of the claim,
 * durably across restarts and exact under concurrent consumers; the JDBC repository commits one
 * insert at {@code add} (its confirm does nothing), after a {@code SELECT COUNT(*)}. Its table gets
 * a primary key and one pooled connection, as in {@link Sink.CamelSink}; both favour the baseline.
 *
 * <pre>
 * java -jar aggregator-bench/target/benchmarks.jar CamelIdempotentBenchmark -rf json \
 *     -rff camel-idempotent.json
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx2g"})
@Warmup(iterations = 1, time = 5)
@Measurement(iterations = 3, time = 5)
@State(Scope.Benchmark)
public class CamelIdempotentBenchmark {
  /** Messages per invocation. */
  static final int CHUNK = 2_000;

  /** The repository behind the route. */
  @Param({"aggregator", "jdbc"})
  public String impl;

  /** Share of messages that repeat a recent key. */
  @Param({"0.2"})
  public double dupRatio;

  private Path dir;
  private EventAggregator aggregator;
  private Connection connection;
  private CamelContext camel;
  private ProducerTemplate template;
  private Workload workload;
  private List<String> chunk;
  private long processed;

  @Setup(Level.Trial)
  public void open() throws Exception {
    dir = BenchDirs.freshWorkDir("camel-" + impl);
    IdempotentRepository repo =
        switch (impl) {
          case "aggregator" -> {
            aggregator =
                EventAggregator.builder()
                    .store(
                        SqliteDedupStore.builder(dir.resolve(Sink.DB_FILE))
                            .synchronous(SqliteDedupStore.Synchronous.NORMAL)
                            .open())
                    .build();
            yield AggregatorIdempotentRepository.builder(aggregator).topic("camel").build();
          }
          case "jdbc" -> {
            SQLiteDataSource sqlite =
                new SQLiteDataSource(Sink.sqliteConfig(SqliteDedupStore.Synchronous.NORMAL));
            sqlite.setUrl("jdbc:sqlite:" + dir.resolve(Sink.DB_FILE));
            connection = sqlite.getConnection();
            try (Statement s = connection.createStatement()) {
              s.executeUpdate(Sink.CamelSink.createTable());
            }
            yield new JdbcMessageIdRepository(
                new SingleConnectionDataSource(connection, true), Sink.CAMEL_PROCESSOR);
          }
          default -> throw new IllegalArgumentException("impl must be aggregator or jdbc: " + impl);
        };
    camel = new DefaultCamelContext();
    camel.addRoutes(
        new RouteBuilder() {
          @Override
          public void configure() {
            from("direct:in")
                .idempotentConsumer(header("id"), repo)
                .eager(true)
                .removeOnFailure(true)
                .completionEager(false)
                .process(exchange -> processed++);
          }
        });
    camel.start();
    template = camel.createProducerTemplate();
    workload = new Workload(42, dupRatio);
  }

  @Setup(Level.Invocation)
  public void generate() {
    chunk = workload.calls(CHUNK, CHUNK).get(0).stream().map(Event::eventId).toList();
  }

  @Benchmark
  @OperationsPerInvocation(CHUNK)
  public long route() {
    for (String id : chunk) {
      template.sendBodyAndHeader("direct:in", null, "id", id);
    }
    return processed;
  }

  /** Both must stay exact while they are fast: each distinct key processed once, no other. */
  @TearDown(Level.Iteration)
  public void check() {
    if (processed != workload.distinctKeys()) {
      throw new IllegalStateException(
          impl
              + " processed "
              + processed
              + " messages, the workload had "
              + workload.distinctKeys()
              + " distinct keys");
    }
  }

  @TearDown(Level.Trial)
  public void close() throws Exception {
    camel.close();
    if (aggregator != null) {
      aggregator.close();
    }
    if (connection != null) {
      Sink.closeQuietly(connection);
    }
    BenchDirs.delete(dir);
  }
}
