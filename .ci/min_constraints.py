"""Prints pip constraints pinning every dependency to its declared floor.

`pip install --constraint` with this output installs the oldest versions
pyproject.toml claims to support, so a smoke run shows whether the floors
are true.
"""

import re
import sys
import tomllib
from pathlib import Path

FLOOR = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*>=\s*([^,;\s]+)")


def main() -> None:
    """Writes ``name==floor`` for each ``name>=floor`` of [project] dependencies."""
    project = tomllib.loads(Path("pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        match = FLOOR.match(requirement)
        if match is None:
            sys.exit(f"dependency without a floor: {requirement!r}")
        sys.stdout.write(f"{match[1]}=={match[2]}\n")


if __name__ == "__main__":
    main()
