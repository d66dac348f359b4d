"""Keep the kernel's security profiles on.

**What it finds.** `security_opt` entries that switch off a confinement layer Docker applies by
default: `seccomp:unconfined` and `systempaths=unconfined` (high), `apparmor:unconfined`,
`label:disable` and `label:type:spc_t` (medium), each with `:` or `=` as separator.

**Why it matters.** These layers are what still protects the kernel when something else goes wrong.
Docker's default seccomp profile blocks several dozen system calls that containers do not need and
that keep showing up in kernel exploits (`keyctl`, `bpf`, `add_key`, `unshare`, `mount`...); its
AppArmor profile and SELinux labels stop a root process from writing to `/proc` and `/sys` files
that control the host; the masked and read-only system paths hide `/proc/kcore`, `/proc/sysrq-trigger`
and similar files. With them off, one more capability or a single kernel bug is enough to reach the
host (attack tree 1.1.2).

**Example.**

    services:
      app:
        image: myorg/app
        security_opt:
          - seccomp:unconfined
          - no-new-privileges:true

**Fix.** Removes the entry: its line in a block list (an end-of-line comment is kept as a comment
line), or the item and one comma in a flow list. When the entries to remove are all the list holds,
nothing is removed, so that no empty `security_opt` is left; the no-new-privileges rule (PRV002) adds
an entry to such a list, and a second pass of `fix` can then remove the others. Lists that come from
a merged mapping or an alias are reported only. The fix is *unsafe*.

**What may break.** Software that needs a system call the default profile blocks (debuggers, some
sandboxing browsers), and images built on a newer C library than the host's Docker knows: on old
Docker versions calls such as `clone3` or `faccessat2` failed with "operation not permitted", which
is the origin of many `seccomp:unconfined` lines in database examples. The better answer is a newer
Docker, or a custom profile that allows only the missing calls (`seccomp=./profile.json`). SELinux
relabelling problems are better solved with `:z`/`:Z` on the volume than with `label:disable`.

**References.** CIS Docker Benchmark v1.2.0 sections 5.1 (AppArmor), 5.2 (SELinux), 5.21 (seccomp);
OWASP Docker Security Cheat Sheet rule #6; MITRE ATT&CK T1611 (Escape to Host), T1068 (Exploitation
for Privilege Escalation).
"""
from __future__ import annotations

from ..model import Applicability, Confidence, Severity
from ..syntax import split_option
from ..views import flagged_items
from ..yamltext import deref
from .base import finding, make_fix

ID = "ISO002"
NAME = "security-profile-disabled"
ATTACK_TREE = ("1.1.2",)
SEVERITY = Severity.HIGH
CONFIDENCE = Confidence.HIGH
FIX = Applicability.UNSAFE
OPTIONS: dict = {}

# (option name, value) -> (severity, what is switched off)
DISABLING = {
    ("seccomp", "unconfined"): (Severity.HIGH, "the seccomp system-call filter"),
    ("systempaths", "unconfined"): (Severity.HIGH, "the masking of sensitive /proc and /sys paths"),
    ("apparmor", "unconfined"): (Severity.MEDIUM, "the AppArmor profile"),
    ("label", "disable"): (Severity.MEDIUM, "SELinux labelling"),
    ("label", "type:spc_t"): (Severity.MEDIUM, "SELinux confinement (the unconfined spc_t type)"),
}


def check(ctx):
    for svc in ctx.services:
        for item, (severity, what), edit in flagged_items(ctx.doc, svc, "security_opt",
                                                           lambda text: DISABLING.get(split_option(text))):
            text = deref(item).value.strip()
            yield finding(__name__, ctx, deref(item), f"service '{svc.name}' switches off {what} "
                          f"(security_opt: {text})", service=svc, severity=severity,
                          key_path=("services", svc.name, "security_opt", text),
                          fix=make_fix(FIX, f"remove {text} from security_opt", edit))
