#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine, then run the whole suite.
# Used as it is by CI (.ci/run) and shown in README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt

# Node tools: the Microsoft 365 Agents Playground, the manifest validator, adaptivecards.
npm ci --no-audit --no-fund --loglevel=error

# Debian's Chromium for the real-browser tests (the tests never download a browser).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi

mkdir -p artifacts
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
