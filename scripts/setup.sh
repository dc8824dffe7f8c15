# Sourced by run.sh and test.sh (not run on its own): sets up what is missing or out of date.
#   setup_python <requirements file>   the Python venv in .venv with those pinned packages
#   setup_node                         the npm tools of package-lock.json in node_modules, and
#                                      the overview page's chart.js and teams-js copied from
#                                      there into web/vendor (python -m web.vendor)

PYTHON=${PYTHON:-python3}

setup_python() {
  if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
  fi
  .venv/bin/pip install --quiet --disable-pip-version-check -r "$1"
}

setup_node() {
  # npm ci starts from an empty node_modules, so it runs only when the installed packages
  # (npm's record in node_modules/.package-lock.json) differ from package-lock.json.
  if ! node -e '
    const pick = (file) => {
      const packages = require(file).packages;
      return JSON.stringify(Object.keys(packages).filter((k) => k !== "").sort()
        .map((k) => [k, packages[k].version, packages[k].integrity]));
    };
    process.exit(pick("./package-lock.json") === pick("./node_modules/.package-lock.json") ? 0 : 1);
  ' 2>/dev/null; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
  # The overview page serves these built files itself (no CDN: Teams tabs and tests run offline).
  .venv/bin/python -m web.vendor
}
