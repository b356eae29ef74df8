package dev.aggregator.redis;

import dev.aggregator.EventAggregator;
import dev.aggregator.postgres.PostgresDedupStore;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * A consumer process for the kill tests ({@link RedisConsumerKillTest}, {@link RedisListKillTest}):
 * a {@link RedisSource} (a stream or a list, as the key holds) feeding an aggregator on a shared
 * PostgreSQL schema. Talks to its parent by lines: prints {@code READY}; with a stall threshold,
 * prints {@code STALLED <entries in hand>} and blocks for good once it has acked that many entries
 * (or list items) and read its next batch (a batch delivered and not committed, as at a crash); on
 * {@code stop} or end of input, closes and prints {@code STATS <fields>}.
 *
 * <p>Arguments: source URL, PostgreSQL URL, schema, consumer name, claim idle in ms, stall
 * threshold (-1 for none).
 */
public final class RedisConsumerProcess {
  private RedisConsumerProcess() {}

  public static void main(String[] args) throws Exception {
    String sourceUrl = args[0];
    String postgresUrl = args[1];
    String schema = args[2];
    String consumer = args[3];
    long claimIdleMillis = Long.parseLong(args[4]);
    long stallAfterAcked = Long.parseLong(args[5]);

    EventAggregator aggregator =
        EventAggregator.builder()
            .store(PostgresDedupStore.builder(postgresUrl).schema(schema).open())
            .build();
    RedisSource source =
        RedisSource.builder(sourceUrl, aggregator)
            .consumer(consumer)
            .claimIdle(Duration.ofMillis(claimIdleMillis))
            .block(Duration.ofMillis(200))
            .retryDelay(Duration.ofMillis(200))
            .batchSize(500)
            .start();
    if (stallAfterAcked >= 0) {
      CountDownLatch never = new CountDownLatch(1);
      source.loop().beforePublishForTest =
          () -> {
            RedisSourceStats s = source.stats();
            if (s.acked() >= stallAfterAcked) {
              System.out.println("STALLED " + (s.delivered() - s.acked()));
              System.out.flush();
              try {
                never.await(); // until SIGKILL
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
          };
    }
    System.out.println("READY");
    System.out.flush();
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null && !line.equals("stop")) {
      // only "stop" means something
    }
    source.close();
    RedisSourceStats s = source.stats();
    aggregator.close();
    System.out.println(
        "STATS delivered="
            + s.delivered()
            + " accepted="
            + s.accepted()
            + " duplicates="
            + s.duplicates()
            + " acked="
            + s.acked()
            + " reclaimed="
            + s.reclaimed()
            + " deadLettered="
            + s.deadLettered()
            + " failures="
            + s.failures());
    System.out.flush();
  }
}
