"""The page's files: ours in web/static, and the two libraries it uses, copied from
node_modules (package.json pins them) into web/vendor by ``python -m web.vendor`` (run by
scripts/setup.sh, so also by scripts/run.sh, scripts/test.sh and .ci/run). The copies are not
committed: they are built files of npm packages, with their licence notices beside them.

- chart.js 4.6.1 (MIT): ``dist/chart.umd.min.js``;
- @microsoft/teams-js 2.58.0 (MIT): ``dist/umd/MicrosoftTeams.min.js``.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "web" / "static"
VENDOR = ROOT / "web" / "vendor"
NODE_MODULES = ROOT / "node_modules"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JS = "text/javascript; charset=utf-8"
TEXT = "text/plain; charset=utf-8"

#: Served name: (where the copy is, where it comes from in node_modules, content type).
COPIED: dict[str, tuple[str, str]] = {
    "chart.umd.min.js": ("chart.js/dist/chart.umd.min.js", JS),
    "chart.js-LICENSE.txt": ("chart.js/LICENSE.md", TEXT),
    "MicrosoftTeams.min.js": ("@microsoft/teams-js/dist/umd/MicrosoftTeams.min.js", JS),
    "teams-js-LICENSE.txt": ("@microsoft/teams-js/LICENSE", TEXT),
}
OURS: dict[str, str] = {
    "overview.js": JS,
    "overview.css": "text/css; charset=utf-8",
}


def asset(name: str) -> tuple[Path, str] | None:
    """The file served as ``/overview/static/<name>`` and its content type; None: no such."""
    if name in OURS:
        return STATIC / name, OURS[name]
    if name in COPIED:
        return VENDOR / name, COPIED[name][1]
    return None


def copy(node_modules: Path = NODE_MODULES, to: Path = VENDOR) -> list[str]:
    """Copy the libraries' files into ``to``; returns what is missing in node_modules."""
    to.mkdir(parents=True, exist_ok=True)
    missing = []
    for name, (source, _) in COPIED.items():
        if (node_modules / source).is_file():
            shutil.copyfile(node_modules / source, to / name)
        else:
            missing.append(source)
    return missing


if __name__ == "__main__":
    gone = copy()
    if gone:
        print("web.vendor: not in node_modules (run npm ci):", ", ".join(gone), file=sys.stderr)
        sys.exit(1)
