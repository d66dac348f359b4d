"""Where an observation is kept: the file `hardener observe` saves beside the compose file, and how
`check` and `fix` find it. Apart from observe.py and derive.py, which need the engine client and
the process tools: a check without an observation looks for the file and imports nothing more."""
from __future__ import annotations

import os

FILE_NAME = "hardener-observed.json"


def find_beside(paths: list[str]) -> str | None:
    """hardener-observed.json in the folder of the first input (a file's folder, or the folder itself)."""
    for p in paths:
        if p == "-":
            continue
        folder = p if os.path.isdir(p) else os.path.dirname(os.path.abspath(p))
        candidate = os.path.join(folder, FILE_NAME)
        if os.path.isfile(candidate):
            return candidate
    return None
