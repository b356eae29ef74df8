#!/usr/bin/env bash
# How fast a fresh server is useful: the time from "java -jar" to the first 200 from /health, and
# the time the first 100-event publish on that fresh server takes (curl's time_total). Each run
# starts the jar on a new empty database and stops it. Polling uses bash's /dev/tcp, so no process
# is spawned per probe while the JVM starts.
# Usage: examples/startup-time.sh [RUNS] [-- extra server flags]
#   SERVER_JAR (default aggregator-server/target/aggregator-server.jar), JAVA (default java).
set -euo pipefail
# A probe that meets a socket closing under it (the server checks its port is free by binding it for
# a moment) must fail that probe, not kill the script with SIGPIPE.
trap '' PIPE
cd "$(dirname "$0")/.."
RUNS=${1:-10}
shift || true
[ "${1:-}" = "--" ] && shift
JAR=${SERVER_JAR:-aggregator-server/target/aggregator-server.jar}
JAVA=${JAVA:-java}
PORT=${PORT:-18181}
[ -f "$JAR" ] || { echo "startup-time: $JAR not found; build with: mvn -q package -DskipTests" >&2; exit 1; }

BODY="[$(seq 1 100 | awk '{ printf "{\"topic\":\"startup\",\"event_id\":\"e-%d\",\"payload\":{\"n\":%d}}\n", $1, $1 }' | paste -sd,)]"

health_ok() { # one GET /health over /dev/tcp; true on a 200
  { exec 3<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null || return 1
  printf 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
  local line
  IFS= read -r -t 2 line <&3 || line=
  exec 3<&- 3>&-
  [[ $line == "HTTP/1.1 200"* ]]
}

# A server left on the port would answer for the one being measured.
if health_ok; then echo "startup-time: something already answers on port $PORT" >&2; exit 1; fi

starts=() publishes=()
for run in $(seq 1 "$RUNS"); do
  dir=$(mktemp -d /tmp/startup-XXXXXX)
  t0=$(date +%s%N)
  "$JAVA" -jar "$JAR" --port "$PORT" --db "$dir/a.db" --log-file "$dir/a.log" "$@" >"$dir/out" 2>&1 &
  pid=$!
  until health_ok; do
    if ! kill -0 "$pid" 2>/dev/null; then cat "$dir/out" >&2; exit 1; fi
    sleep 0.005
  done
  t1=$(date +%s%N)
  pub=$(curl -sS -o "$dir/answer" -w '%{http_code} %{time_total}' -H 'Content-Type: application/json' \
    --data-binary "$BODY" "http://127.0.0.1:$PORT/publish")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  grep -q '"accepted":100' "$dir/answer" || { echo "startup-time: publish answered $pub: $(cat "$dir/answer")" >&2; exit 1; }
  start_ms=$(( (t1 - t0) / 1000000 ))
  pub_ms=$(awk -v t="${pub#* }" 'BEGIN { printf "%.1f", t * 1000 }')
  echo "run $run: /health 200 after ${start_ms} ms; first 100-event publish ${pub_ms} ms"
  starts+=("$start_ms") publishes+=("$pub_ms")
  rm -rf "$dir"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "median of $RUNS: start $(median "${starts[@]}") ms, first publish $(median "${publishes[@]}") ms ($JAVA, load $(cut -d' ' -f1-3 /proc/loadavg))"
