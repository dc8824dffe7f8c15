#!/usr/bin/env bash
# Chat with the bot in the Microsoft 365 Agents Playground: starts the bot (local mode) and
# the playground, which opens in your browser at http://localhost:56150. Ctrl+C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
[ -x node_modules/.bin/agentsplayground ] || npm ci --no-audit --no-fund --loglevel=error

PORT=${PORT:-3978}
# The playground always reports the locale en-US; show the bot in Danish unless told otherwise.
PORT=$PORT FORCE_LOCALE=${FORCE_LOCALE-da-DK} .venv/bin/python app.py &
bot=$!
trap 'kill $bot 2>/dev/null' EXIT
for _ in $(seq 1 50); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
node_modules/.bin/agentsplayground -e "http://127.0.0.1:$PORT/api/messages" -c msteams \
  -p "${PLAYGROUND_PORT:-56150}" --disable-telemetry
