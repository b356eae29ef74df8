#!/usr/bin/env bash
# Makes sure the PostgreSQL and Redis that the aggregator-postgres and aggregator-redis tests use
# are up (127.0.0.1:5432 with database "test", trust auth; 127.0.0.1:6379), starting them if they
# are down. Meant to be called from .ci/run before "mvn verify". Every step is bounded in time.
set -euo pipefail

wait_for() { # what, command...
  local what=$1; shift
  for _ in $(seq 1 30); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "start-test-services: $what is still not up after 30 s" >&2
  return 1
}

if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  echo "start-test-services: starting PostgreSQL"
  service postgresql start || pg_ctlcluster 15 main start
fi
wait_for "PostgreSQL on 127.0.0.1:5432" pg_isready -h 127.0.0.1 -p 5432 -q
if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
  psql -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE test"
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "start-test-services: starting Redis"
  service redis-server start || redis-server --daemonize yes --save '' --appendonly no
fi
wait_for "Redis on 127.0.0.1:6379" redis-cli -h 127.0.0.1 -p 6379 ping
echo "start-test-services: PostgreSQL and Redis are up"
