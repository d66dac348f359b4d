"""Say which image version runs.

**What it finds.** A service whose `image` has no tag (`nginx`, which means `nginx:latest`) or the tag
`latest` (option `floating_tags` adds others, such as `edge` or `nightly`), and no `@sha256:` digest.
An image that is only a variable (`${APP_IMAGE}`), a tag that is a variable (`app:${TAG}`), and a
service with `build:` (its `image` names the result of the build, not something pulled) are not
reported. Nothing is looked up on the network.

**Why it matters.** `latest` is whatever the registry holds at the moment of the pull: two hosts, or
two pulls a week apart, run different software, and nobody can tell from the file which patch level is
deployed or whether a fixed vulnerability is really fixed. Patch currency needs a version you can see
and move on purpose. A digest goes further: a tag can be re-pointed by whoever controls the
repository, a digest cannot. This is a supply-chain risk (attack tree 6.1.1, a node hardener adds to
the seed tree), not a breakout: the host kernel's patch level (1.1.1) is `hardener host`'s to judge.

**Example.**

    services:
      web:
        image: nginx
      cache:
        image: redis:latest

**Fix.** None automatic (the right version is a choice, and looking it up needs the network). Pin a
version tag (`nginx:1.27.3-alpine`), ideally with its digest (`nginx:1.27.3-alpine@sha256:...`), and
let a tool such as Renovate or Dependabot propose updates; prefer small variants (`-alpine`, `-slim`,
distroless) so that fewer packages need patching.

**What may break.** Nothing until you pin; afterwards updates only arrive when you change the file.

**References.** CIS Docker Benchmark v1.2.0 5.27; OWASP Docker Security Cheat Sheet rules #9 and #13;
MITRE ATT&CK T1204.003 (Malicious Image).
"""
from __future__ import annotations

from ..model import Applicability, Confidence, Severity
from ..syntax import has_variable, image_last_component, split_outside
from .base import finding, option

ID = "IMG001"
NAME = "unpinned-image"
ATTACK_TREE = ("6.1.1",)
SEVERITY = Severity.LOW
CONFIDENCE = Confidence.HIGH
FIX = Applicability.NONE
OPTIONS = {"floating_tags": ["latest"]}


def floating(image: str, tags) -> str | None:
    """Why an image reference is not pinned (no tag, or a floating tag), or None."""
    image = image.strip()
    if not image or "@" in image:
        return None  # pinned by digest
    last = image_last_component(image)
    parts = split_outside(last, ":", brackets=True)  # ':' inside ${...} does not count
    if len(parts) == 2:
        tag = parts[1]
        return f"floats with the tag '{tag}'" if tag in tags else None
    if len(parts) > 2 or has_variable(last.replace("$$", "")):
        return None  # the name, and perhaps a tag, come from a variable
    return "has no tag, so whatever 'latest' is at pull time runs"


def check(ctx):
    tags = set(option(ctx, __name__, "floating_tags"))
    for svc in ctx.services:
        entry = svc.entry("image")
        if entry is None or svc.entry("build") is not None:
            continue
        image = svc.value("image")
        why = floating(image, tags) if image else None
        if why is None:
            continue
        yield finding(__name__, ctx, entry.value, f"service '{svc.name}': image {image.strip()} {why}; pin a version "
                      "tag, ideally with its @sha256 digest", service=svc, key_path=("services", svc.name, "image"))
