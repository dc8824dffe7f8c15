#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine (with a private PostgreSQL), run the checks (ruff, mypy, as
# configured in pyproject.toml), then the whole suite. Arguments go to pytest.
# Used as it is by CI (.ci/run) and shown in README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

setup_python requirements-dev.txt
# Node tools: the Microsoft 365 Agents Playground, the manifest validator, adaptivecards.
setup_node

# Debian's Chromium for the real-browser tests (the tests never download a browser).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi

# A private PostgreSQL cluster (installed with apt-get when missing) for the tests that run
# on both engines; stopped when this script exits. TEST_ENGINES=sqlite (outside CI) leaves
# it out for a quick run; without it the PostgreSQL tests fail, they never skip.
source scripts/postgres.sh
pg_status=0
case "${CI:-}:${TEST_ENGINES:-postgresql}" in
  true:* | *:*postgresql*) start_test_postgres || pg_status=$? ;;
esac

# Every step runs even when an earlier one failed, so one run shows all that is wrong; the
# exit status is that of the first failure.
status=0
fail() {
  echo "scripts/test.sh: $1" >&2
  [ "$status" != 0 ] || status=$2
}

[ "$pg_status" = 0 ] || fail "PostgreSQL for the tests did not start" 1
echo "--- ruff"
.venv/bin/ruff check . || fail "ruff found problems" 1
echo "--- mypy"
.venv/bin/mypy || fail "mypy found problems" 1
echo "--- pytest"
mkdir -p artifacts
rc=0
.venv/bin/python -m pytest -q -p no:cacheprovider "$@" || rc=$?
case $rc in
  0) ;;
  5) fail "pytest collected no tests" 5 ;;
  *) fail "pytest failed (exit $rc)" "$rc" ;;
esac
exit "$status"
