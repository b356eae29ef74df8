package dev.aggregator.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.management.OperatingSystemMXBean;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Posts service metrics to {@code POST /metrics/}: the host's real CPU and memory load (from {@code
 * com.sun.management.OperatingSystemMXBean}), with a simulated latency and error count per service,
 * one record per service per tick (default once a second).
 *
 * <p>{@code java -cp loadgen.jar dev.aggregator.examples.ServiceMetricsGenerator --url
 * http://127.0.0.1:8080 --services order-service,payment-service --count 60}. Exit 0 when every
 * record was stored (201), 1 otherwise, 2 on bad flags.
 */
@Command(
    name = "service-metrics",
    mixinStandardHelpOptions = true,
    version = "service-metrics 0.1.0",
    sortOptions = false,
    showDefaultValues = true,
    description = "Posts host CPU/memory plus simulated latency and errors to /metrics/.")
public final class ServiceMetricsGenerator implements Callable<Integer> {
  private static final ObjectMapper JSON = JsonMapper.builder().build();

  @Option(names = "--url", defaultValue = "http://127.0.0.1:8080", description = "Server base URL.")
  URI url;

  @Option(
      names = "--services",
      split = ",",
      defaultValue = "order-service,payment-service,inventory-service",
      description = "Service names, comma-separated.")
  List<String> services;

  @Option(
      names = "--count",
      defaultValue = "0",
      description = "Ticks to send (one record per service each); 0: until killed.")
  long count;

  @Option(names = "--interval-ms", defaultValue = "1000", description = "Time between ticks.")
  long intervalMs;

  @Option(names = "--api-key", description = "Sent as X-API-Key.")
  String apiKey;

  @Option(names = "--seed", description = "Seed of the simulated latency and errors.")
  Long seed;

  private PrintStream out = System.out;
  private PrintStream err = System.err;

  /** Runs the generator: {@code --help} lists the options. */
  public static void main(String[] args) {
    System.exit(execute(System.out, System.err, args));
  }

  static int execute(PrintStream out, PrintStream err, String... args) {
    ServiceMetricsGenerator gen = new ServiceMetricsGenerator();
    gen.out = out;
    gen.err = err;
    CommandLine cli = new CommandLine(gen);
    cli.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
    cli.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
    cli.setParameterExceptionHandler(
        (e, a) -> {
          err.println("service-metrics: " + e.getMessage() + " (see --help)");
          return 2;
        });
    return cli.execute(args);
  }

  @Override
  public Integer call() throws Exception {
    if (count < 0 || intervalMs < 0 || services.isEmpty() || services.contains("")) {
      err.println(
          "service-metrics: --count and --interval-ms must not be negative, and --services must"
              + " name at least one service (see --help)");
      return 2;
    }
    OperatingSystemMXBean os = ManagementFactory.getPlatformMXBean(OperatingSystemMXBean.class);
    SplittableRandom rnd = new SplittableRandom(seed != null ? seed : System.nanoTime());
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    URI metrics = url.resolve("/metrics/");
    long posted = 0;
    long failed = 0;
    long start = System.nanoTime();
    for (long tick = 0; count == 0 || tick < count; tick++) {
      long due = start + tick * intervalMs * 1_000_000L;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      double cpu = cpuPercent(os);
      double memory =
          100.0 * (os.getTotalMemorySize() - os.getFreeMemorySize()) / os.getTotalMemorySize();
      for (int s = 0; s < services.size(); s++) {
        ObjectNode record = JSON.createObjectNode();
        record.put("id_data", UUID.randomUUID().toString());
        record.put("service_name", services.get(s));
        record.put("cpu_usage", round1(cpu));
        record.put("memory_usage", round1(memory));
        record.put("latency", simulatedLatency(rnd, s, cpu));
        record.put("error_count", simulatedErrors(rnd, cpu));
        HttpRequest.Builder req =
            HttpRequest.newBuilder(metrics)
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(record)));
        if (apiKey != null) {
          req.header("X-API-Key", apiKey);
        }
        try {
          HttpResponse<String> r = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() == 201) {
            posted++;
          } else {
            failed++;
            err.println("service-metrics: HTTP " + r.statusCode() + ": " + r.body());
          }
        } catch (java.io.IOException e) {
          failed++;
          err.println("service-metrics: " + metrics + ": " + e);
        }
      }
      if (intervalMs >= 1000) {
        out.printf(
            "tick %d: cpu %.1f%%, memory %.1f%%, %d posted, %d failed%n",
            tick + 1, cpu, memory, posted, failed);
      }
    }
    out.printf("{\"posted\":%d,\"failed\":%d}%n", posted, failed);
    return failed == 0 ? 0 : 1;
  }

  private static double cpuPercent(OperatingSystemMXBean os) {
    double load = os.getCpuLoad(); // negative when not yet available (the first call)
    if (load < 0) {
      double avg = os.getSystemLoadAverage();
      load = avg < 0 ? 0 : Math.min(1.0, avg / os.getAvailableProcessors());
    }
    return 100.0 * load;
  }

  /** Milliseconds: a per-service base, log-normal noise, slower when the host is busy. */
  private static long simulatedLatency(SplittableRandom rnd, int service, double cpu) {
    double base = 40 + 25 * service;
    double noise = Math.exp(0.35 * gaussian(rnd));
    return Math.max(1, Math.round(base * noise * (1 + cpu / 100.0)));
  }

  /** Mostly 0, sometimes a few, more often when the host is busy. */
  private static long simulatedErrors(SplittableRandom rnd, double cpu) {
    double p = 0.05 + 0.25 * cpu / 100.0;
    long errors = 0;
    while (errors < 20 && rnd.nextDouble() < p) {
      errors++;
    }
    return errors;
  }

  private static double gaussian(SplittableRandom rnd) {
    // Box-Muller: SplittableRandom has no nextGaussian on Java 17.
    double u = 1.0 - rnd.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd.nextDouble());
  }

  private static double round1(double v) {
    return Math.round(Math.max(0, Math.min(100, v)) * 10) / 10.0;
  }
}
