"""Stop processes from gaining privileges through setuid programs.

**What it finds.** A service whose `security_opt` does not turn on `no-new-privileges`
(accepted spellings: `no-new-privileges`, `no-new-privileges:true`, `no-new-privileges=true`), and
one that turns it off explicitly (`no-new-privileges:false`).

**Why it matters.** Without the flag, a process that starts as an ordinary user can still become root
inside the container by running a setuid-root or file-capability program: `su`, `sudo`, `passwd`, a
vulnerable setuid helper left in the image. With `no-new-privileges` set, the kernel refuses to raise
privileges on `execve` for the container's whole process tree, so the non-root user the image or
`user:` chose stays non-root, and added capabilities cannot be picked up by new programs (attack tree
5.1.1, 5.2.1).

**Example.**

    services:
      api:
        image: myorg/api
        user: "10001"

**Fix.** Adds `security_opt: [no-new-privileges:true]` in the file's block or flow style, or
appends `no-new-privileges:true` to the service's own `security_opt` list, or fills an empty
`security_opt:`. That is *safe*: it only adds a restriction the file did not mention. Replacing an
explicit `no-new-privileges:false` by `true` is *unsafe*, as is giving a service whose
`security_opt` comes from a merged mapping an own list (a copy of the merged entries plus
`no-new-privileges:true`), which stops following later edits of the shared list. A list reached
through an alias is reported only.

**When it is not safe.** The flag stops exactly one thing: a process that is not root gaining
privileges through a setuid program. So adding it is *unsafe*, with the reason in the message, when
the service's `command`, `entrypoint` or healthcheck `test` calls `sudo`, `su`, `doas`, `pkexec`,
`newgrp`, `fusermount` or `newuidmap`/`newgidmap` and the service may run as a user that is not root
(a non-root or variable `user:`, an image that runs as or switches to its own user, an image hardener
knows nothing about; not a service written to run as root, nor a base image such as debian run
without a user: root gains nothing from a setuid program), and when the image's knowledge says its own
user raises privileges by design (`raises_privileges` in `hardener/data/images.json`: code-server's
and Gitpod's passwordless sudo, linuxserver's code-server once `SUDO_PASSWORD` or
`SUDO_PASSWORD_HASH` is set, the Zabbix server and proxy images, whose user runs nmap through sudo for
network discovery). A script the command runs is not read: a `sudo` inside it is not seen.

When `security_opt` is written in a read-only file, the last file that may be written gets
`no-new-privileges:true`; Compose appends it after the read-only file's entries and Docker keeps
the last `no-new-privileges` entry, so this also overrides a read-only `no-new-privileges:false`
(*unsafe* then).

**What may break.** Images whose start-up switches user through a setuid program (`su`, `sudo`,
`su-exec` installed setuid), and programs that rely on file capabilities, such as a `ping` binary
with `cap_net_raw`. Entrypoints that start as root and drop privileges themselves (`gosu`, `setpriv`,
`su-exec` run by root) keep working: they lower privileges, which the flag allows. With SELinux,
transitions to a more privileged domain are refused too.

**References.** CIS Docker Benchmark v1.2.0 section 5.25; OWASP Docker Security Cheat Sheet rule #4;
MITRE ATT&CK T1548.001 (Abuse Elevation Control Mechanism: Setuid and Setgid).
"""
from __future__ import annotations

import re

from .. import knowledge
from ..images import facts
from ..model import Applicability, Confidence, Severity
from ..syntax import has_variable, split_option
from ..views import texts
from ..yamltext import Alias, Map, Scalar, Seq, add_entries, add_items, deref, fill_null, flow_text, replace_scalar
from .base import finding, make_fix

ID = "PRV002"
NAME = "no-new-privileges"
ATTACK_TREE = ("5.1.1", "5.2.1")
SEVERITY = Severity.MEDIUM
CONFIDENCE = Confidence.HIGH
FIX = Applicability.SAFE
OPTIONS: dict = {}

FLAG = "no-new-privileges"
ENTRY = "no-new-privileges:true"
# the values Go's strconv.ParseBool accepts, which is what Docker uses for this option
GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def flag_state(text: str):
    """True or False when the entry sets no-new-privileges, None when it is about something else,
    "?" when it names the flag with a value Docker would refuse or a variable."""
    name, value = split_option(text)
    if name != FLAG:
        return None
    if value is None:
        return True
    if has_variable(value):
        return "?"
    return True if value in GO_TRUE else False if value in GO_FALSE else "?"


def _states(value) -> list:
    """flag_state of each entry of one layer's security_opt value."""
    node = deref(value)
    if not isinstance(node, Seq):
        return ["?"] if node is not None and not (isinstance(node, Scalar) and node.is_null) else []
    return [flag_state(i.value) if isinstance(i, Scalar) and not i.is_null else "?" for i in map(deref, node.items)]


def check(ctx):
    for svc in ctx.services:
        # Compose concatenates security_opt over files and extends bases: look at every layer it keeps
        layers = svc.written("security_opt")
        everywhere = [state for written in layers for state in _states(written.value)]
        if True in everywhere or "?" in everywhere:
            continue
        entry = svc.written_here("security_opt")
        path = ("services", svc.name, "security_opt")
        message = f"service '{svc.name}' does not set no-new-privileges, so setuid programs can raise privileges"
        raises = _raises(svc)  # a reason the flag may stop the service: then adding it is unsafe
        adding = Applicability.UNSAFE if raises else Applicability.SAFE
        message += raises or ""
        node = deref(entry.value) if entry else None
        if isinstance(node, Seq) and False in _states(node):
            yield from _turned_off(ctx, svc, node, entry.editable)
            continue
        off = [w for w in layers if False in _states(w.value)]
        if off and svc.overrides(off[0]):
            yield _over_read_only(ctx, svc, entry, message)
            continue
        if False in everywhere or svc.builds_on:
            continue  # turned off in another layer, or missing everywhere: reported in the first layer
        if entry is None:
            edit = None if svc.shared else add_entries(ctx.doc, svc.node,
                                                       {"security_opt": [flow_text(ctx.doc, ENTRY, svc.node.flow)]})
            yield finding(__name__, ctx, svc.key, message, service=svc, key_path=path,
                          fix=make_fix(adding, f"add security_opt: [{ENTRY}]", edit))
            continue
        key, own = entry.key, entry.own
        editable = entry.editable
        if isinstance(node, Scalar) and node.is_null:
            edit = fill_null(ctx.doc, key, node, [ENTRY]) if editable else None
            yield finding(__name__, ctx, key, message, service=svc, key_path=path,
                          fix=make_fix(adding, f"add {ENTRY} to security_opt", edit))
            continue
        items = [deref(i) for i in node.items]
        if editable:
            edit = add_items(ctx.doc, node, [flow_text(ctx.doc, ENTRY, node.flow)])
            safety, how = adding, f"append {ENTRY}"
        elif not own and not svc.shared and not any(has_variable(i.value) for i in items):
            copy = [flow_text(ctx.doc, t, svc.node.flow) for t in [i.value for i in items] + [ENTRY]]
            edit = add_entries(ctx.doc, svc.node, {"security_opt": copy})
            safety, how = Applicability.UNSAFE, f"give the service its own security_opt with {ENTRY}"
        else:
            edit, safety, how = None, Applicability.SAFE, f"append {ENTRY}"
        yield finding(__name__, ctx, key, message, service=svc, key_path=path, fix=make_fix(safety, how, edit))


def _turned_off(ctx, svc, seq, editable):
    for item in seq.items:
        node = deref(item)
        if flag_state(node.value) is not False:
            continue
        sep = "=" if "=" in node.value else ":"
        edit = None
        if editable and not isinstance(item, Alias) and not node.anchor:
            text = f"{FLAG}{sep}true"
            edit = replace_scalar(ctx.doc, node, flow_text(ctx.doc, text, seq.flow) if node.style == "" else text)
        yield finding(__name__, ctx, node, f"service '{svc.name}' turns no-new-privileges off explicitly "
                      f"({node.value.strip()})", service=svc, key_path=("services", svc.name, "security_opt"),
                      fix=make_fix(Applicability.UNSAFE, f"set {FLAG}{sep}true", edit))


def _over_read_only(ctx, svc, entry, message):
    """A read-only file turns the flag off: Compose appends this mapping's security_opt after it and
    Docker keeps the last no-new-privileges entry, so `true` here wins. Unsafe like any reversal."""
    node = deref(entry.value) if entry else None
    if entry is None:
        edit = add_entries(ctx.doc, svc.node, {"security_opt": [flow_text(ctx.doc, ENTRY, svc.node.flow)]})
    elif entry.editable and isinstance(node, Seq):
        edit = add_items(ctx.doc, node, [flow_text(ctx.doc, ENTRY, node.flow)])
    else:
        edit = None
    return finding(__name__, ctx, entry.key if entry else svc.key, message, read_only=True, service=svc,
                   key_path=("services", svc.name, "security_opt"),
                   fix=make_fix(Applicability.UNSAFE, f"add {ENTRY} after the read-only file's false", edit))


_CALL = re.compile(r"(?:^|[\s;&|(`'\"]|/s?bin/)(" + "|".join(map(re.escape, knowledge.SETUID_PROGRAMS))
                   + r")(?=$|[\s;&|)`'\"])")


def _raises(svc) -> str | None:
    """Why no-new-privileges may stop the service (a message suffix), or None. A process that is not
    root calls a setuid program in the service's command, entrypoint or healthcheck (root gains
    nothing from one, so a service written to run as root, or a base image run without a user, is not
    concerned); or the image's knowledge says its own user raises privileges by design (sudo in
    code-server), when the variables that enable it are set."""
    user = svc.user()
    as_root = user.root or (user.text is None and (known := facts(svc.image_name())) is not None and known.base)
    if not as_root:
        for where, key in (("command", "command"), ("entrypoint", "entrypoint"), ("healthcheck", "healthcheck")):
            node = svc.get(key)
            if key == "healthcheck":
                node = deref(node).get("test") if isinstance(deref(node), Map) else None
            for text in texts(node):
                m = _CALL.search(text)
                if m:
                    program = m.group(1)
                    return (f"; its {where} calls {program}, a setuid program, as a user that may not be root: "
                            f"no-new-privileges stops {program} from gaining root, so adding it is unsafe (safe when "
                            f"{program} only runs as root)")
    known = facts(svc.image_name())
    if known is None or known.raises_privileges is None:
        return None
    env = svc.environment()
    if known.raises_when and svc.entry("env_file") is None and not any(
            name in env and env[name].raw != "" for name in known.raises_when):
        return None
    return (f"; {svc.image_name()} relies on {known.raises_privileges}: no-new-privileges stops a setuid program "
            "from gaining root, so adding it is unsafe")
