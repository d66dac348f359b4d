"""Where the jinja2 templates come from: the package hardener.templates (the top-level templates/ folder
of the source tree), read through importlib.resources so that an editable install, a wheel and a
zipped install all work."""
from __future__ import annotations

from importlib import resources


def read(name: str) -> str:
    return resources.files("hardener.templates").joinpath(name).read_text(encoding="utf-8")


def loader():
    import jinja2

    def load(name: str):
        try:
            return read(name), None, lambda: True
        except (FileNotFoundError, IsADirectoryError):
            return None

    return jinja2.FunctionLoader(load)
