"""Pass host devices into a container only when it cannot work without them.

**What it finds.**
- every `devices:` entry of a service. Critical: raw memory and I/O ports (`/dev/mem`, `/dev/kmem`,
  `/dev/port`) and block devices (`/dev/sd*`, `/dev/nvme*`, `/dev/vd*`, `/dev/xvd*`, `/dev/hd*`,
  `/dev/mmcblk*`, `/dev/dm-*`, `/dev/md*`, `/dev/loop*`, `/dev/sg*`, `/dev/mapper/...`,
  `/dev/disk/...`). High: `/dev/fuse`, `/dev/kvm`, `/dev/cpu/...` (model-specific registers),
  `/dev/input/...` and `/dev/uinput` (keyboards and mice), `/dev/bus/usb/...`, `/dev/hidraw*`,
  `/dev/vhost-*`, `/dev/vfio/...`. Low: GPUs and accelerators, sound, video and serial adapters,
  `/dev/net/tun`, CDI names such as `nvidia.com/gpu=all`. Medium: any other device.
- `device_cgroup_rules` that allow block devices or every device (`b ...`, `a ...`): critical, since
  the default `MKNOD` capability then lets the container create a node for the host's disk itself;
  character-device rules with a wildcard major number are high, other rules medium.
- `cgroup_parent` (low): the container is placed in a cgroup of the author's choosing instead of
  Docker's own, so the limits and device rules that apply to it depend on the host's set-up.

Compose merges `devices` across files by container path: a device a later file maps to the same
path replaces the earlier one, which is then not reported.

**Why it matters.** A device node is a direct line to a kernel driver or to hardware, outside what
namespaces isolate. A block device is the host's disk: the container can read every file on it,
including other containers' data and the host's secrets, or write to it behind the file system's
back. `/dev/mem` is the host's physical memory. Input devices allow keylogging, FUSE and KVM expose
large kernel interfaces (attack tree 1.1.2).

**Example.**

    services:
      backup:
        image: myorg/backup
        devices:
          - /dev/sda:/dev/sda

**Fix.** None: the rule cannot tell which device the service truly needs, and removing hardware
access breaks the service for certain. Review each entry; prefer a volume or a bind mount of the
needed files to a whole disk, and pass a single device node rather than a class of them.

**What may break.** Nothing is changed by this rule.

**References.** CIS Docker Benchmark v1.2.0 sections 5.17 (host devices) and 5.24 (cgroup usage);
MITRE ATT&CK T1611 (Escape to Host), T1006 (Direct Volume Access).
"""
from __future__ import annotations

import re

from ..compose import has_variable, seq_items
from ..model import Applicability, Confidence, Severity
from ..yamltext import Map, Scalar, deref, scalar_value
from .base import finding

ID = "ISO003"
NAME = "host-device"
ATTACK_TREE = ("1.1.2",)
SEVERITY = Severity.CRITICAL
CONFIDENCE = Confidence.HIGH
FIX = Applicability.NONE
OPTIONS: dict = {}

_CRITICAL = re.compile(r"^/dev/(mem|kmem|port|(sd|hd|vd|xvd)[a-z]+\d*|nvme\d+(n\d+)?(p\d+)?|mmcblk\d+(p\d+)?"
                       r"|dm-\d+|md\d+|loop\d+|loop-control|mapper/.*|disk/.*|sg\d+|root)$")
_HIGH = re.compile(r"^/dev/(fuse|kvm|cpu(/.*)?|input(/.*)?|uinput|bus/usb(/.*)?|hidraw\d*|vhost-\w+|"
                   r"vfio(/.*)?|mei\d*|watchdog\d*)$")
_LOW = re.compile(r"^/dev/(dri(/.*)?|snd(/.*)?|video\d*|media\d*|ttyUSB\d*|ttyACM\d*|ttyAMA\d*|ttyS\d*|"
                  r"serial/.*|nvidia.*|gpiochip\d*|gpiomem|i2c-\d+|spidev.*|net/tun|vchiq|vcsm.*|dvb(/.*)?|"
                  r"apex_\d+|accel(/.*)?|hailo\d*)$")


def device_severity(source: str) -> Severity:
    path = source.rstrip("/")
    if not path.startswith("/"):
        return Severity.LOW  # a CDI name (vendor.com/class=name): a vendor-defined, usually GPU, device
    if _CRITICAL.match(path):
        return Severity.CRITICAL
    if _HIGH.match(path):
        return Severity.HIGH
    if _LOW.match(path):
        return Severity.LOW
    return Severity.MEDIUM


def rule_severity(rule: str) -> Severity:
    """Severity of a device cgroup rule 'type major:minor access' ('a', 'b' or 'c')."""
    parts = rule.split()
    kind = parts[0] if parts else ""
    numbers = parts[1] if len(parts) > 1 else "*:*"
    if kind in ("a", "b"):
        return Severity.CRITICAL
    if numbers.split(":")[0] == "*":
        return Severity.HIGH
    return Severity.MEDIUM


def _source(node) -> str | None:
    if isinstance(node, Scalar) and not node.is_null:
        return node.value.strip().split(":")[0] if node.value.strip().startswith("/") else node.value.strip()
    if isinstance(node, Map):
        source = deref(node.get("source"))
        if isinstance(source, Scalar) and not source.is_null:
            return source.value.strip()
    return None


def _here(svc, key):
    entry = svc.written_here(key)
    return entry.value if entry else None


def check(ctx):
    for svc in ctx.services:
        # devices merge by target like mounts: only those that survive, judged where written
        for entry, item in svc.surviving("devices"):
            item = deref(item)
            source = _source(item) if entry.here else None
            if not source or has_variable(source):
                continue
            yield finding(__name__, ctx, item, f"service '{svc.name}' gets the host device {source}",
                          service=svc, key_path=("services", svc.name, "devices", source),
                          severity=device_severity(source))
        for item in seq_items(_here(svc, "device_cgroup_rules")):
            if not isinstance(item, Scalar) or item.is_null or has_variable(item.value):
                continue
            rule = " ".join(item.value.split())
            yield finding(__name__, ctx, item, f"service '{svc.name}' may create and use host devices matching "
                          f"'{rule}' (device_cgroup_rules)", service=svc, severity=rule_severity(rule),
                          key_path=("services", svc.name, "device_cgroup_rules", rule))
        entry, here = svc.last_value("cgroup_parent")
        parent = scalar_value(entry.value) if entry and here else None
        if parent and not has_variable(parent):
            yield finding(__name__, ctx, deref(entry.value), f"service '{svc.name}' runs under "
                          f"the host cgroup '{parent}' instead of Docker's own (cgroup_parent)", service=svc,
                          key_path=("services", svc.name, "cgroup_parent"), severity=Severity.LOW)
