#!/usr/bin/env bash
# Retention soak: the server jar at a steady rate with duplicates and a retention, for a long
# while, sampled every INTERVAL seconds: used heap after a full GC, RSS, the database file's size,
# the WAL's size and /stats' stored. With a retention, each must level off: RELIABILITY.md has the
# chart and the slopes (aggregator-bench's SoakChart draws the one and computes the other).
# The heap is read from the GC log line of the full GC that jcmd GC.run asks for (what survived
# it), not from a heap summary taken after it, which already counts the garbage made since.
#
#   aggregator-server/retention-soak.sh SERVER_JAR LOADGEN_JAR OUT.csv \
#       [SECONDS=1800] [RATE=20000] [RETENTION=60s] [INTERVAL=10] [DUP_RATIO=0.2]
#
# The CSV has one row per sample: seconds,heap_used_after_gc_bytes,rss_bytes,db_bytes,wal_bytes,
# stored,received,unique_processed,duplicate_dropped,expired. The load generator's summary (errors, exact
# counts with --verify) is printed at the end; the run fails if it reports an error.
set -euo pipefail
SERVER_JAR=$1; LOADGEN_JAR=$2; OUT=$3
SECONDS_=${4:-1800}; RATE=${5:-20000}; RETENTION=${6:-60s}; INTERVAL=${7:-10}; DUP=${8:-0.2}
JAVA=${JAVA:-java}; PORT=${PORT:-18281}; URL=http://127.0.0.1:$PORT
WORK=$(mktemp -d /tmp/retention-soak.XXXXXX)
echo "work dir: $WORK"
$JAVA -Xmx${HEAP:-2g} -Xlog:gc:file="$WORK/gc.log" -jar "$SERVER_JAR" --port "$PORT" --db "$WORK/soak.db" \
  --log-file "$WORK/soak.log" --log-level WARN --retention "$RETENTION" > "$WORK/server.out" 2>&1 &
PID=$!
trap 'kill $PID ${LOAD:-} 2>/dev/null || true' EXIT # the load generator too, if a sample failed
for _ in $(seq 100); do curl -sf "$URL/health" >/dev/null && break; sleep 0.2; done

stat_field() { # json field
  grep -Eo "\"$2\": *[0-9]+" <<<"$1" | grep -Eo '[0-9]+$'
}
to_bytes() { # 45M, 512K, 2G
  local n=${1%[KMG]}
  case $1 in *K) echo $((n << 10)) ;; *M) echo $((n << 20)) ;; *G) echo $((n << 30)) ;; *) echo "$n" ;; esac
}
sample() { # seconds
  jcmd $PID GC.run >/dev/null 2>&1 || true # returns once the full GC is done
  local heap rss db wal stats
  # "... Pause Full (Diagnostic Command) 81M->45M(2048M) 30.1ms": what was live after it.
  heap=$(grep -F 'Pause Full (Diagnostic Command)' "$WORK/gc.log" | tail -1 | grep -Eo '[0-9]+[KMG]->[0-9]+[KMG]' | sed 's/.*->//')
  rss=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)
  db=$(stat -c %s "$WORK/soak.db")
  wal=$( [ -f "$WORK/soak.db-wal" ] && stat -c %s "$WORK/soak.db-wal" || echo 0)
  stats=$(curl -sf "$URL/stats")
  echo "$1,$(to_bytes "$heap"),$((rss * 1024)),$db,$wal,$(stat_field "$stats" stored),$(stat_field "$stats" received),$(stat_field "$stats" unique_processed),$(stat_field "$stats" duplicate_dropped),$(stat_field "$stats" expired)"
}

echo "seconds,heap_used_after_gc_bytes,rss_bytes,db_bytes,wal_bytes,stored,received,unique_processed,duplicate_dropped,expired" > "$OUT"
$JAVA -jar "$LOADGEN_JAR" --url "$URL" --batch 100 --concurrency 4 --topics 8 --payload-bytes 100 \
  --dup-ratio "$DUP" --duration "$SECONDS_" --rate "$RATE" --verify > "$WORK/loadgen.json" 2>"$WORK/loadgen.err" &
LOAD=$!
START=$(date +%s)
while kill -0 $LOAD 2>/dev/null; do
  sleep "$INTERVAL"
  kill -0 $LOAD 2>/dev/null || break
  sample $(( $(date +%s) - START )) | tee -a "$OUT"
done
wait $LOAD || { echo "load generator failed:"; cat "$WORK/loadgen.json" "$WORK/loadgen.err"; exit 1; }
cat "$WORK/loadgen.json"
kill -TERM $PID; wait $PID || true
tail -1 "$WORK/server.out"
