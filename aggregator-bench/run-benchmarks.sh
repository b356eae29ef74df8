#!/usr/bin/env bash
# Every figure of RESULTS.md, in the order it was measured. Run from the repository root after
# `mvn -q -pl aggregator-core,aggregator-bench -am package -DskipTests`. About 55 minutes on the
# 2-core machine, plus a few minutes the first time to build the cached 1M/10M stores.
set -euo pipefail
JAR=aggregator-bench/target/benchmarks.jar
OUT=aggregator-bench/results
mkdir -p "$OUT"

# Cached stores of 1M and 10M events for the growth and reopen benchmarks (skipped when present).
java -Xmx8g -cp "$JAR" dev.aggregator.bench.StoreCache

# 1. Core ingest, the acceptance configuration, every system in one run.
java -jar "$JAR" IngestBenchmark -p batch=1000 -p dupRatio=0.2 -p sync=NORMAL -wi 2 -i 5 \
    -rf json -rff "$OUT/ingest-core.json" | tee "$OUT/ingest-core.log"

# 2. Growth: 0, 1M and 10M events already stored. The defaults-journal autocommit baseline is
#    left out: at ~650 events/s a 20,000-event invocation takes 30 s, and its cost is the fsync.
java -jar "$JAR" GrowthBenchmark -p impl=aggregator,autocommit_wal,camel,memory \
    -rf json -rff "$OUT/growth.json" | tee "$OUT/growth.log"
java -cp "$JAR" dev.aggregator.bench.GrowthChart "$OUT/growth.json" "$OUT/growth.svg"

# 3. Reopen a 10M-event store and serve; heap bytes per retained key.
java -jar "$JAR" ReopenBenchmark -rf json -rff "$OUT/reopen.json" | tee "$OUT/reopen.log"

# 4. Publish -> durable ack latency, open loop, at about half of each system's peak (from step 1).
#    StallProbe beside it counts how often the machine itself stopped a sleeping thread for more
#    than 20 ms (docs/benchmarks.md): a p99 from a run with many such stalls measures the VM.
java -cp "$JAR" dev.aggregator.bench.StallProbe 90 | tail -1 > "$OUT/ack-latency-stalls.json" &
java -Xms4g -Xmx8g -XX:+AlwaysPreTouch -cp "$JAR" dev.aggregator.bench.AckLatency \
    aggregator:125000 autocommit_wal:8000 | tee "$OUT/ack-latency.jsonl"
wait

# 5. The rest of the ingest matrix, shortened: batch 1/100/1000 x dupRatio 0/0.2, NORMAL and FULL,
#    this design against the WAL autocommit baseline and the in-memory ceiling.
java -jar "$JAR" IngestBenchmark -p impl=aggregator,autocommit_wal,memory -p sync=NORMAL \
    -wi 1 -i 2 -r 3s -rf json -rff "$OUT/ingest-matrix-normal.json" | tee "$OUT/ingest-matrix-normal.log"
java -jar "$JAR" IngestBenchmark -p impl=aggregator,autocommit_wal -p sync=FULL -p batch=1000 \
    -p dupRatio=0.2 -wi 1 -i 2 -r 3s -rf json -rff "$OUT/ingest-full.json" | tee "$OUT/ingest-full.log"

# 6. Retention: ingest with expiry keeping pace (by count, by age) against no expiry, and with the
#    payloads of duplicates compared or not; then the same configurations taking turns in one JVM,
#    which a machine loaded by others disturbs less than one configuration after the other.
java -jar "$JAR" RetentionBenchmark -rf json -rff "$OUT/retention.json" | tee "$OUT/retention.log"
java -Xms4g -Xmx8g -XX:+AlwaysPreTouch -cp "$JAR" dev.aggregator.bench.RetentionInterleaved 80 10 \
    | tee "$OUT/retention-interleaved.txt"
