#!/usr/bin/env bash
# Set up and run the bot on its embedded default (local mode, SQLite under ./data/).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
exec .venv/bin/python app.py
