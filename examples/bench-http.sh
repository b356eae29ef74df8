#!/usr/bin/env bash
# HTTP figures of aggregator-bench/RESULTS.md: each server configuration started fresh (new --db under /tmp),
# one warm-up run, then 3 measured runs of the load generator; prints the JSON lines, then the server's
# CPU over the measured runs per request, by thread (from /proc: what each thread group costs a request).
# Usage: examples/bench-http.sh CONFIG SCENARIO [RUNS]
#   CONFIG: srv17 | srv25 (the jar on Java 17 / Temurin 25) | echo17 | echo25 (EchoServer: the JDK
#   HttpServer answering a constant, a transport baseline)
#   SCENARIO: batch100 (--batch 100 --concurrency 4 --verify) | batch1 (--batch 1 --concurrency 16
#   --shape object) ; EVENTS overrides the event count.
# JFR=FILE records the server (srv17) with Flight Recorder; ASYNC_PROFILER=.../libasyncProfiler.so profiles
# srv17 or echo17 with async-profiler (CPU, per thread), one file of collapsed stacks per 4 s (profile-0, profile-1, ...) in the run's directory.
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=$1 SCENARIO=$2 RUNS=${3:-3}
J17=${J17:-java}
J25=${J25:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
PORT=${PORT:-18080}
DIR=$(mktemp -d /tmp/lg-XXXXXX)
SERVER_JAR=${SERVER_JAR:-aggregator-server/target/aggregator-server.jar}  # SERVER_JAR=... compares another build
LOADGEN=examples/target/loadgen.jar
PROFILE=
if [[ -n ${ASYNC_PROFILER:-} ]]; then
  PROFILE="-agentpath:$ASYNC_PROFILER=start,event=cpu,interval=1ms,threads,collapsed,loop=4s,file=$DIR/profile-%n{1000}"
fi
case $CONFIG in
  srv17) CMD=("$J17" ${JFR:+-XX:StartFlightRecording=filename=$JFR,settings=profile} $PROFILE -jar "$SERVER_JAR" --port "$PORT" --db "$DIR/a.db" --log-file "$DIR/a.log" ${SERVER_ARGS:-}) ;;
  srv25) CMD=("$J25" -jar "$SERVER_JAR" --port "$PORT" --db "$DIR/a.db" --log-file "$DIR/a.log" ${SERVER_ARGS:-}) ;;
  echo17) CMD=("$J17" $PROFILE -cp "$LOADGEN" dev.aggregator.examples.EchoServer "$PORT") ;;
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
  batch100) BATCH=100; ARGS=(--batch "$BATCH" --concurrency 4 --shape array $VERIFY); EV=${EVENTS:-100000} ;;
  batch1) BATCH=1; ARGS=(--batch "$BATCH" --concurrency 16 --shape object $VERIFY); EV=${EVENTS:-100000} ;;
  *) echo "unknown scenario $SCENARIO" >&2; exit 2 ;;
esac
# CPU ticks of the server's threads, one "name ticks" line each, digits dropped from the names so a
# pool's threads add up (aggregator-http-17 -> aggregator-http-).
thread_ticks() {
  for t in /proc/"$SERVER"/task/*; do
    # comm is field 2 in parentheses and may hold spaces; utime and stime are fields 14 and 15 (11 and 12 after the name)
    sed -E 's/^[0-9]+ \((.*)\) [A-Za-z] (.*)$/\1|\2/' "$t/stat" 2>/dev/null \
      | awk -F'|' '{ split($2, f, " "); name = $1; gsub(/[0-9]+/, "", name); gsub(/ /, "_", name); print name, f[11] + f[12] }'
  done | awk '{ s[$1] += $2 } END { for (k in s) print k, s[k] }'
}
echo "# $CONFIG $SCENARIO load $(cut -d' ' -f1-3 /proc/loadavg)"
"$J17" -jar "$LOADGEN" --url "http://127.0.0.1:$PORT" --events "${WARM:-$((EV / 2))}" "${ARGS[@]}" > /dev/null
thread_ticks > "$DIR/cpu.before"
IDLE_BEFORE=$(awk '/^cpu /{ print $5 }' /proc/stat)
START=$(date +%s.%N)
for i in $(seq 1 "$RUNS"); do
  "$J17" -jar "$LOADGEN" --url "http://127.0.0.1:$PORT" --events "$EV" --client "${CLIENT:-raw}" "${ARGS[@]}" \
    || echo "# run $i exit $?"
done
thread_ticks > "$DIR/cpu.after"
# Requests, not events: CPU per request is what the transports differ by.
REQUESTS=$(( RUNS * EV / BATCH ))
TICK=$(getconf CLK_TCK)
IDLE=$(( $(awk '/^cpu /{ print $5 }' /proc/stat) - IDLE_BEFORE ))
awk -v n="$REQUESTS" -v tick="$TICK" -v secs="$(echo "$(date +%s.%N) - $START" | bc)" -v idle="$IDLE" '
  NR == FNR { before[$1] = $2; next }
  { d = $2 - before[$1]; total += d; if (d > 0) cpu[$1] = d }
  END {
    printf "# machine idle %.0f%% of one core; server CPU %.0f%% of one core, %.1f us per request:", \
      100 * idle / tick / secs, 100 * total / tick / secs, 1e6 * total / tick / n
    for (k in cpu) if (cpu[k] * 50 >= total) printf " %s %.1f", k, 1e6 * cpu[k] / tick / n
    printf "\n"
  }' "$DIR/cpu.before" "$DIR/cpu.after"
echo "# after: load $(cut -d' ' -f1-3 /proc/loadavg)${ASYNC_PROFILER:+; profile: $DIR/profile-*}"
