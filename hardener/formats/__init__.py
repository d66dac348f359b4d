"""Output formats: each module renders FileResults to a string and knows nothing about rules."""

FORMATS = ("text", "json")


def render(name: str, results, **kw) -> str:
    if name == "json":
        from . import json_format

        return json_format.render(results, **kw)
    from . import text

    return text.render(results, **kw)
