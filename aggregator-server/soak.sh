#!/usr/bin/env bash
# Soak: the server jar under ~80% of its measured peak for a while (default 10 minutes), with
# errors, p99, heap and RSS at the start and at the end. Not part of CI (RELIABILITY.md).
#
#   aggregator-server/soak.sh SERVER_JAR LOADGEN_JAR [SECONDS] [PERCENT]
#
# 1. starts the server (-Xmx$HEAP, default 3g: the key index needs ~11-22 bytes per stored key
#    and twice that while it doubles) on a fresh database (127.0.0.1:18181),
# 2. measures the peak: loadgen --rate 0 for 30 s (batches of 50, 16 connections),
# 3. runs loadgen --rate PERCENT% of that peak for SECONDS,
# 4. samples heap (jcmd GC.heap_info) and RSS (/proc/PID/status VmRSS) before and after, checks
#    /stats (received == unique + duplicates) and stops the server with SIGTERM (exit 0 expected).
set -euo pipefail
SERVER_JAR=$1; LOADGEN_JAR=$2; SECONDS_=${3:-600}; PERCENT=${4:-80}
WORK=$(mktemp -d /tmp/aggregator-soak.XXXXXX); PORT=${PORT:-18181}; URL=http://127.0.0.1:$PORT
JAVA=${JAVA:-java}
echo "work dir: $WORK"
$JAVA -Xmx${HEAP:-3g} -jar "$SERVER_JAR" --port $PORT --db "$WORK/soak.db" --log-file "$WORK/soak.log" \
  --log-level WARN > "$WORK/server.out" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf $URL/health >/dev/null && break; sleep 0.2; done
mem() { # label
  local rss heap
  rss=$(awk '/VmRSS/ {print $2, $3}' /proc/$PID/status)
  heap=$(jcmd $PID GC.heap_info 2>/dev/null | grep -Eo '(garbage-first heap|heap) +total [0-9]+K, used [0-9]+K' | head -1)
  echo "$1: RSS $rss; $heap"
}
LOAD="--url $URL --batch 50 --concurrency 16 --topics 8 --payload-bytes 200 --dup-ratio 0.1"
echo "peak (30 s, unpaced):"
$JAVA -jar "$LOADGEN_JAR" $LOAD --duration 30 --rate 0 --verify | tee "$WORK/peak.json"
PEAK=$(grep -Eo '"events_per_s": *[0-9.]+' "$WORK/peak.json" | grep -Eo '[0-9.]+$' | cut -d. -f1)
RATE=$((PEAK * PERCENT / 100))
echo "soak: $RATE events/s (${PERCENT}% of $PEAK) for $SECONDS_ s"
jcmd $PID GC.run >/dev/null 2>&1 || true
mem "start (after the peak run and a GC)"
$JAVA -jar "$LOADGEN_JAR" $LOAD --duration "$SECONDS_" --rate "$RATE" --verify | tee "$WORK/soak.json"
mem "end"
jcmd $PID GC.run >/dev/null 2>&1 || true
mem "end (after a GC)"
curl -s $URL/stats | tee "$WORK/stats.json"; echo
kill -TERM $PID; wait $PID; echo "server exit status: $?"
tail -2 "$WORK/server.out"
