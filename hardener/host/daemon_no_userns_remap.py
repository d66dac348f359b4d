"""Root in a container is root on the host.

**What it finds.** daemon.json without `userns-remap`.

**Why it matters.** Without user-namespace remapping uid 0 in a container is uid 0 on the host, so a
process that escapes (or reaches a host file through a mount) acts as host root. With remapping it
lands as an unprivileged subordinate uid (attack tree 5.1.1); several runc and kernel escapes need
real root to work.

**Example.** `{"icc": false}`: no `userns-remap`.

**Fix.** Add `"userns-remap": "default"` (Docker creates the `dockremap` user and its subordinate id
ranges) and restart the daemon. Rootless Docker is an alternative.

**What may break.** Existing images and volumes are kept apart per remapping (they must be pulled or
re-owned again); `--privileged`, `--pid=host` and `--network=host` need `--userns=host`; bind-mounted
host files must be readable by the remapped ids.

**References.** CIS Docker Benchmark 2.8; Docker documentation "Isolate containers with a user
namespace".
"""
from __future__ import annotations

from ..model import Applicability, Confidence, Severity
from . import base

ID = "HOST006"
NAME = "daemon-no-userns-remap"
ATTACK_TREE = ("5.1.1",)
SEVERITY = Severity.MEDIUM
CONFIDENCE = Confidence.HIGH
FIX = Applicability.NONE  # the host is reported, never edited
OPTIONS: dict = {}


def check(facts):
    daemon = facts.daemon
    if daemon is None:
        return
    remap = daemon.cfg.get("userns-remap")
    if not (isinstance(remap, str) and remap.strip()):
        yield base.finding(__name__, f"{daemon.state('userns-remap')}: root in a container is root (uid 0) on the "
                           "host, so an escape lands as host root; set \"userns-remap\": \"default\"",
                           daemon.label, key_path=("userns-remap",), confidence=daemon.sure("userns-remap"),
                           **daemon.at("userns-remap"))
