#!/usr/bin/env bash
# HTTP figures of aggregator-bench/RESULTS.md: each server configuration started fresh (new --db under /tmp),
# one warm-up run, then 3 measured runs of the load generator; prints the JSON lines.
# Usage: examples/bench-http.sh CONFIG SCENARIO [RUNS]
#   CONFIG: srv17 | srv25 (the jar on Java 17 / Temurin 25) | echo17 | echo25 (EchoServer: the JDK
#   HttpServer answering a constant, a transport baseline)
#   SCENARIO: batch100 (--batch 100 --concurrency 4 --verify) | batch1 (--batch 1 --concurrency 16
#   --shape object) ; EVENTS overrides the event count.
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=$1 SCENARIO=$2 RUNS=${3:-3}
J17=${J17:-java}
J25=${J25:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
PORT=${PORT:-18080}
DIR=$(mktemp -d /tmp/lg-XXXXXX)
SERVER_JAR=${SERVER_JAR:-aggregator-server/target/aggregator-server.jar}  # SERVER_JAR=... compares another build
LOADGEN=examples/target/loadgen.jar
case $CONFIG in
  srv17) CMD=("$J17" ${JFR:+-XX:StartFlightRecording=filename=$JFR,settings=profile} -jar "$SERVER_JAR" --port "$PORT" --db "$DIR/a.db" --log-file "$DIR/a.log" ${SERVER_ARGS:-}) ;;
  srv25) CMD=("$J25" -jar "$SERVER_JAR" --port "$PORT" --db "$DIR/a.db" --log-file "$DIR/a.log" ${SERVER_ARGS:-}) ;;
  echo17) CMD=("$J17" -cp "$LOADGEN" dev.aggregator.examples.EchoServer "$PORT") ;;
  echo25) CMD=("$J25" -cp "$LOADGEN" dev.aggregator.examples.EchoServer "$PORT") ;;
  *) echo "unknown config $CONFIG" >&2; exit 2 ;;
esac
"${CMD[@]}" > "$DIR/server.out" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/health" 2>/dev/null && break
  curl -sS -o /dev/null -X POST -d '[]' "http://127.0.0.1:$PORT/publish" 2>/dev/null && break
  sleep 0.1
done
VERIFY=--verify
[[ $CONFIG == echo* ]] && VERIFY=
case $SCENARIO in
  batch100) ARGS=(--batch 100 --concurrency 4 --shape array $VERIFY); EV=${EVENTS:-100000} ;;
  batch1) ARGS=(--batch 1 --concurrency 16 --shape object $VERIFY); EV=${EVENTS:-100000} ;;
  *) echo "unknown scenario $SCENARIO" >&2; exit 2 ;;
esac
echo "# $CONFIG $SCENARIO load $(cut -d' ' -f1-3 /proc/loadavg)"
"$J17" -jar "$LOADGEN" --url "http://127.0.0.1:$PORT" --events "${WARM:-$((EV / 2))}" "${ARGS[@]}" > /dev/null
for i in $(seq 1 "$RUNS"); do
  "$J17" -jar "$LOADGEN" --url "http://127.0.0.1:$PORT" --events "$EV" --client "${CLIENT:-raw}" "${ARGS[@]}" \
    || echo "# run $i exit $?"
done
echo "# after: load $(cut -d' ' -f1-3 /proc/loadavg)"
