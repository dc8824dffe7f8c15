# Sourced by test.sh (not run on its own): a private PostgreSQL cluster for the tests.
#   start_test_postgres   installs Debian's postgresql when initdb is missing, starts a
#                         cluster in a temporary directory on 127.0.0.1 and a free port, as a
#                         user other than root (initdb refuses root), and exports
#                         TEST_POSTGRES_URL; the cluster stops and its directory goes when
#                         the shell exits.
# A TEST_POSTGRES_URL that is already set is used as it is (a server of your own: the tests
# create and drop their databases there).

pg_bin_dir() {
  local dir
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return 0
  fi
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

start_test_postgres() {
  if [ -n "${TEST_POSTGRES_URL:-}" ]; then
    echo "PostgreSQL for the tests: $TEST_POSTGRES_URL (given)"
    return 0
  fi
  local bin
  if ! bin=$(pg_bin_dir); then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bin=$(pg_bin_dir) || { echo "scripts/test.sh: no PostgreSQL after installing it" >&2; return 1; }
  fi
  PG_TEST_DIR=$(mktemp -d)
  local port runas=()
  port=$("${PYTHON:-python3}" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  if [ "$(id -u)" = 0 ]; then
    local user=postgres
    id "$user" >/dev/null 2>&1 || user=nobody
    chown "$user" "$PG_TEST_DIR"
    runas=(runuser -u "$user" --)
  fi
  PG_TEST_RUN=("${runas[@]}")
  "${runas[@]}" "$bin/initdb" -D "$PG_TEST_DIR/data" -U postgres -A trust -E UTF8 \
    --locale=C.UTF-8 --no-sync >"$PG_TEST_DIR/initdb.log" 2>&1 \
    || { cat "$PG_TEST_DIR/initdb.log" >&2; return 1; }
  # The token tests sign in as entra_bot with a password (the fake token): scram for that
  # role, trust for the rest, on loopback only.
  cat >"$PG_TEST_DIR/data/pg_hba.conf" <<EOF
host all entra_bot 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
local all all trust
EOF
  # Test data need not survive a crash: no fsync, which makes CREATE DATABASE cheap.
  "${runas[@]}" "$bin/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w -s \
    -o "-k $PG_TEST_DIR -p $port -c listen_addresses=127.0.0.1 -c fsync=off \
        -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start \
    || { cat "$PG_TEST_DIR/server.log" >&2; return 1; }
  PG_TEST_BIN=$bin
  trap stop_test_postgres EXIT
  export TEST_POSTGRES_URL="postgresql+asyncpg://postgres@127.0.0.1:$port/postgres"
  echo "PostgreSQL for the tests: $TEST_POSTGRES_URL ($("$bin/postgres" --version))"
}

stop_test_postgres() {
  if [ -n "${PG_TEST_DIR:-}" ] && [ -d "$PG_TEST_DIR" ]; then
    "${PG_TEST_RUN[@]}" "$PG_TEST_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -m fast -w -s stop || true
    rm -rf "$PG_TEST_DIR"
  fi
}
