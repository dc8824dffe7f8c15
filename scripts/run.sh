#!/usr/bin/env bash
# Set up and run the bot on its embedded default (local mode, SQLite under ./data/) together
# with the Microsoft 365 Agents Playground, Microsoft's local Teams client, at
# http://localhost:56150 (it opens in your browser). Ctrl+C or SIGTERM stops both.
#
#   bash scripts/run.sh              the bot and the playground
#   bash scripts/run.sh --bot-only   only the bot, as on a server (Teams or a playground elsewhere)
#
# PORT (3978) and PLAYGROUND_PORT (56150) move them; the bot speaks Danish here unless
# FORCE_LOCALE=en-US (the playground always reports en-US).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

case ${1-} in
  "") ;;
  --bot-only)
    setup_python requirements.txt
    setup_node  # the overview page's libraries, from node_modules
    exec .venv/bin/python app.py
    ;;
  *)
    echo "usage: bash scripts/run.sh [--bot-only]" >&2
    exit 2
    ;;
esac

setup_python requirements.txt
setup_node

export PORT=${PORT:-3978}
PLAYGROUND_PORT=${PLAYGROUND_PORT:-56150}
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Something already on a port would answer in place of ours (the playground would even move
# to a random port without a word): stop here instead.
for port in "$PORT" "$PLAYGROUND_PORT"; do
  if listening "$port"; then
    echo "scripts/run.sh: port $port is in use (is the bot or a playground already running?)." >&2
    echo "Stop it, or choose other ports: PORT=... PLAYGROUND_PORT=... bash scripts/run.sh" >&2
    exit 1
  fi
done
# Without a display (a terminal over SSH, a container) there is no browser to open.
if [ "$(uname -s)" = Linux ] && [ -z "${DISPLAY-}${WAYLAND_DISPLAY-}" ]; then
  export TEAMSAPPTESTER_BROWSER=${TEAMSAPPTESTER_BROWSER-none}
fi

# Each runs in a process group of its own, so Ctrl+C reaches only this script, which sends
# each exactly one SIGTERM: the bot then finishes the turns under way and exits (a second
# signal would cut that short), and nothing the playground started is left behind.
in_own_group() { set -m; "$@" & set +m; }
bot= playground=
stop() {
  trap '' INT TERM HUP
  for pid in $playground $bot; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  wait $playground $bot 2>/dev/null || true
}
trap 'stop; exit 129' HUP
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap 'stop' EXIT

export FORCE_LOCALE=${FORCE_LOCALE-da-DK}
in_own_group .venv/bin/python app.py
bot=$!
until curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do
  if ! kill -0 "$bot" 2>/dev/null; then
    wait "$bot" && status=0 || status=$?
    echo "scripts/run.sh: the bot did not start (exit $status)." >&2
    exit 1
  fi
  sleep 0.2
done

in_own_group node_modules/.bin/agentsplayground -e "http://127.0.0.1:$PORT/api/messages" \
  -c msteams -p "$PLAYGROUND_PORT" --disable-telemetry
playground=$!
until curl -fs "http://127.0.0.1:$PLAYGROUND_PORT/_debug/ping" >/dev/null 2>&1; do
  if ! kill -0 "$playground" 2>/dev/null; then
    echo "scripts/run.sh: the playground did not start." >&2
    exit 1
  fi
  sleep 0.2
done
echo
echo "Chat with the bot at http://localhost:$PLAYGROUND_PORT (write 'hjælp'). Ctrl+C stops both."
echo

# Either one ending ends both.
wait -n $bot $playground && status=0 || status=$?
echo "scripts/run.sh: the bot or the playground stopped (exit $status); stopping the other." >&2
exit "$status"
