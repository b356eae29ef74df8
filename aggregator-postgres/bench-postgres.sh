#!/usr/bin/env bash
# Throughput of aggregator-server on PostgreSQL (1 and 3 servers on one database) with the load
# generator, and the single-server SQLite figure measured in the same session as the baseline.
# Usage: aggregator-postgres/bench-postgres.sh SERVER_JAR LOADGEN_JAR [EVENTS]
# The database: AGGREGATOR_TEST_POSTGRES_URL, default the local one (db test, user postgres).
set -euo pipefail
JAR=${1:?server jar}; LOADGEN=${2:?loadgen jar}; EVENTS=${3:-200000}
PG=${AGGREGATOR_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
WORK=$(mktemp -d); PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for s in bench_pg1 bench_pg3; do psql -q "$PG" -c "DROP SCHEMA IF EXISTS $s CASCADE" >/dev/null 2>&1; done
  rm -rf "$WORK"
}
trap cleanup EXIT

start() { # name port args...
  local name=$1 port=$2; shift 2
  java -jar "$JAR" --port "$port" --log-level WARN --log-file "$WORK/$name.log" --db "$WORK/$name.db" "$@" \
    > "$WORK/$name.out" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 300); do
    grep -q "listening on" "$WORK/$name.out" && return 0
    sleep 0.1
  done
  echo "$name did not start:"; cat "$WORK/$name.out"; exit 1
}
stop_all() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}
load() { # url events seed prefix [--verify]
  java -jar "$LOADGEN" --url "$1" --events "$2" --seed "$3" --topic-prefix "$4" \
    --batch 100 --concurrency 4 --dup-ratio 0.2 "${@:5}"
}

for s in bench_pg1 bench_pg3; do psql -q "$PG" -c "DROP SCHEMA IF EXISTS $s CASCADE" >/dev/null 2>&1; done

echo "== SQLite, 1 server"
start sqlite 18801
load http://127.0.0.1:18801 20000 100 warm. > /dev/null 2>&1     # JIT warm-up, not measured
load http://127.0.0.1:18801 "$EVENTS" 1 sqlite. --verify
stop_all

echo "== PostgreSQL, 1 server"
start pg1 18811 --store "$PG?schema=bench_pg1"
load http://127.0.0.1:18811 20000 100 warm. > /dev/null 2>&1
load http://127.0.0.1:18811 "$EVENTS" 1 pg1. --verify
stop_all

echo "== PostgreSQL, 3 servers, one load generator per server (same --batch/--concurrency each)"
for i in 0 1 2; do start "pg3-$i" $((18821 + i)) --store "$PG?schema=bench_pg3"; done
for i in 0 1 2; do
  load http://127.0.0.1:$((18821 + i)) 20000 $((100 + i)) "warm$i." > /dev/null 2>&1 &
  LG[$i]=$!
done
for i in 0 1 2; do wait "${LG[$i]}"; done # not a bare wait: that would wait for the servers too
t0=$(date +%s.%N)
for i in 0 1 2; do
  load http://127.0.0.1:$((18821 + i)) $((EVENTS / 3)) $((1 + i)) "pg3n$i." > "$WORK/load-$i.json" 2>/dev/null &
  LG[$i]=$!
done
for i in 0 1 2; do wait "${LG[$i]}"; done
t1=$(date +%s.%N)
for i in 0 1 2; do cat "$WORK/load-$i.json"; done
echo "3 servers: $((EVENTS / 3 * 3)) events in $(echo "$t1 - $t0" | bc) s wall = $(echo "$EVENTS / 3 * 3 / ($t1 - $t0)" | bc) events/s"
curl -s http://127.0.0.1:18821/stats; echo
curl -s http://127.0.0.1:18823/stats; echo
stop_all
