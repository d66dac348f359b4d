"""Tests for the isolation rules: PRV001, CAP002, ISO001, ISO002, ISO003, PRV002, FS001, RES002.

Fixes run through the public API (`hardener.harden` with the rule selected: the engine's passes,
suppressions, anchor reach and merge logic), by conftest's `fix_text`, `assert_fixes` and
`assert_no_fix`. Every before/after pair also yields: idempotency, the safe-only run, CRLF and
no-final-newline variants, and acceptance of both texts by the real `docker compose config`.
Detection alone (severities, positions, projects) calls the rule modules' `check` directly.
"""
from __future__ import annotations

import re
from collections import Counter

import pytest

from hardener.compose import Context
from hardener.model import Applicability, Severity
from hardener.rules import (dangerous_capabilities, host_devices, host_namespaces, no_new_privileges, pids_limit,
                            privileged, read_only_rootfs, security_profiles)
from hardener.yamltext import comments, parse

from compose_tools import corpus_names, require_corpus

from conftest import assert_fixes, assert_no_fix, fix_text, y

MODULES = (privileged, dangerous_capabilities, host_namespaces, security_profiles, host_devices, no_new_privileges,
           read_only_rootfs, pids_limit)
BY_ID = {m.ID: m for m in MODULES}
SAFE, UNSAFE = "safe", "unsafe"


def findings(text: str, rules, options=None):
    doc = parse(text)
    ctx = Context.of(doc, options)
    return sorted((f for r in rules for f in r.check(ctx)), key=lambda f: (f.line, f.column, f.rule_id))


def run(text: str, rules, unsafe: bool = True, options=None):
    """(remaining findings, applied findings, new text) through the public API with these rules only."""
    ids = [r if isinstance(r, str) else r.ID for r in ([rules] if isinstance(rules, str) else rules)]
    return fix_text(text, ids, unsafe, options)


# --------------------------------------------------------------------------- before/after pairs
# (rule, applicability of the fix, before, after)

PRV = [
    pytest.param("PRV001", UNSAFE,
                 y("services:", "  agent:", "    image: myorg/agent", "    privileged: true", "    init: true"),
                 y("services:", "  agent:", "    image: myorg/agent", "    init: true"),
                 id="PRV001-remove"),
    pytest.param("PRV001", UNSAFE,
                 y("services:", "  agent:", "    image: myorg/agent", "    privileged: yes  # raw sockets"),
                 y("services:", "  agent:", "    image: myorg/agent", "    # raw sockets"),
                 id="PRV001-yes-keeps-comment"),
    pytest.param("PRV001", UNSAFE,
                 y("services:", "  agent:", "    privileged: 'True'", "    image: myorg/agent"),
                 y("services:", "  agent:", "    image: myorg/agent"),
                 id="PRV001-quoted-first-key"),
    pytest.param("PRV001", UNSAFE,
                 y("x-base: &base", "  privileged: true", "services:", "  agent:", "    <<: *base",
                   "    image: myorg/agent"),
                 y("x-base: &base", "  privileged: true", "services:", "  agent:", "    <<: *base",
                   "    image: myorg/agent", "    privileged: false"),
                 id="PRV001-merged-gets-own-false"),
    pytest.param("PRV001", UNSAFE,
                 y("services:", "  agent: {image: myorg/agent, privileged: on}"),
                 y("services:", "  agent: {image: myorg/agent, privileged: false}"),
                 id="PRV001-flow-service"),
    pytest.param("PRV001", UNSAFE,
                 y("services:", "  a: &a", "    image: myorg/agent", "    privileged: true", "  b: *a"),
                 y("services:", "  a: &a", "    image: myorg/agent", "  b: *a"),
                 id="PRV001-aliased-service-edited-once"),
    pytest.param("PRV002", SAFE,
                 y("services:", "  api:", "    image: myorg/api"),
                 y("services:", "  api:", "    image: myorg/api", "    security_opt:",
                   "      - no-new-privileges:true"),
                 id="PRV002-add-block"),
    pytest.param("PRV002", SAFE,
                 y("services:", "    api:", "        image: myorg/api", "        ports:", "        - '8080:80'"),
                 y("services:", "    api:", "        image: myorg/api", "        ports:", "        - '8080:80'",
                   "        security_opt:", "        - no-new-privileges:true"),
                 id="PRV002-add-follows-indentless-style"),
    pytest.param("PRV002", SAFE,
                 y("services:", "  api: {image: myorg/api}"),
                 y("services:", "  api: {image: myorg/api, security_opt: [\"no-new-privileges:true\"]}"),
                 id="PRV002-add-flow-service"),
    pytest.param("PRV002", SAFE,
                 y("services:", "  api:", "    image: myorg/api", "    security_opt:",
                   "      - apparmor=docker-default  # the default, written out"),
                 y("services:", "  api:", "    image: myorg/api", "    security_opt:",
                   "      - apparmor=docker-default  # the default, written out", "      - no-new-privileges:true"),
                 id="PRV002-append-block"),
    pytest.param("PRV002", SAFE,
                 y("services:", "  api:", "    image: myorg/api", '    security_opt: ["label=level:s0:c100"]'),
                 y("services:", "  api:", "    image: myorg/api",
                   '    security_opt: ["label=level:s0:c100", "no-new-privileges:true"]'),
                 id="PRV002-append-flow"),
    pytest.param("PRV002", SAFE,
                 y("services:", "  api:", "    image: 'myorg/api'", "    security_opt: []"),
                 y("services:", "  api:", "    image: 'myorg/api'", "    security_opt: ['no-new-privileges:true']"),
                 id="PRV002-fill-empty-flow"),
    pytest.param("PRV002", SAFE,
                 y("services:", "  api:", "    security_opt:  # filled in later", "    image: myorg/api"),
                 y("services:", "  api:", "    security_opt:  # filled in later", "      - no-new-privileges:true",
                   "    image: myorg/api"),
                 id="PRV002-fill-null"),
    pytest.param("PRV002", UNSAFE,
                 y("services:", "  api:", "    image: myorg/api", "    security_opt:",
                   "      - no-new-privileges:false"),
                 y("services:", "  api:", "    image: myorg/api", "    security_opt:",
                   "      - no-new-privileges:true"),
                 id="PRV002-replace-false"),
    pytest.param("PRV002", UNSAFE,
                 y("services:", "  api:", "    image: myorg/api", '    security_opt: ["no-new-privileges=False"]'),
                 y("services:", "  api:", "    image: myorg/api", '    security_opt: ["no-new-privileges=true"]'),
                 id="PRV002-replace-false-equals-quoted"),
    pytest.param("PRV002", UNSAFE,
                 y("x-base: &base", "  security_opt:", "    - label=disable", "services:", "  api:",
                   "    <<: *base", "    image: myorg/api"),
                 y("x-base: &base", "  security_opt:", "    - label=disable", "services:", "  api:",
                   "    <<: *base", "    image: myorg/api", "    security_opt:", "      - label=disable",
                   "      - no-new-privileges:true"),
                 id="PRV002-merged-list-gets-own-copy"),
    pytest.param("PRV002", SAFE,
                 y("services:", "  web: &web", "    image: myorg/web", "  web2: *web"),
                 y("services:", "  web: &web", "    image: myorg/web", "    security_opt:",
                   "      - no-new-privileges:true", "  web2: *web"),
                 id="PRV002-aliased-service-edited-once"),
]

CAP = [
    pytest.param("CAP002", UNSAFE,
                 y("services:", "  tools:", "    image: myorg/tools", "    cap_add:", "      - SYS_ADMIN",
                   "      - NET_BIND_SERVICE"),
                 y("services:", "  tools:", "    image: myorg/tools", "    cap_add:", "      - NET_BIND_SERVICE"),
                 id="CAP002-block-first"),
    pytest.param("CAP002", UNSAFE,
                 y("services:", "  tools:", "    image: myorg/tools", "    cap_add:", "      - CHOWN",
                   "      - CAP_SYS_PTRACE  # for the debugger", "    restart: on-failure:3"),
                 y("services:", "  tools:", "    image: myorg/tools", "    cap_add:", "      - CHOWN",
                   "      # for the debugger", "    restart: on-failure:3"),
                 id="CAP002-block-last-keeps-comment"),
    pytest.param("CAP002", UNSAFE,
                 y("services:", "  tools:", "    image: myorg/tools", "    cap_add:", "    - sys_module",
                   "    - NET_RAW", "    - all"),
                 y("services:", "  tools:", "    image: myorg/tools", "    cap_add:", "    - NET_RAW"),
                 id="CAP002-indentless-two-removed"),
    pytest.param("CAP002", UNSAFE,
                 y("services:", "  tools:", "    image: myorg/tools", "    cap_add: [SYS_ADMIN, CHOWN]"),
                 y("services:", "  tools:", "    image: myorg/tools", "    cap_add: [CHOWN]"),
                 id="CAP002-flow-first"),
    pytest.param("CAP002", UNSAFE,
                 y("services:", "  tools:", "    image: myorg/tools", "    cap_add: [ CHOWN , 'cap_bpf' ]  # tracing"),
                 y("services:", "  tools:", "    image: myorg/tools", "    cap_add: [ CHOWN ]  # tracing"),
                 id="CAP002-flow-last-quoted"),
    pytest.param("CAP002", UNSAFE,
                 y("services:", "  tools:", "    image: myorg/tools",
                   "    cap_add: [CHOWN, NET_ADMIN, SYS_TIME, SETUID]"),
                 y("services:", "  tools:", "    image: myorg/tools", "    cap_add: [CHOWN, SETUID]"),
                 id="CAP002-flow-two-in-the-middle"),
    pytest.param("CAP002", UNSAFE,
                 y("services:", "  tools:", "    image: myorg/tools", "    cap_add: &caps", "      - DAC_READ_SEARCH",
                   "      - CHOWN"),
                 y("services:", "  tools:", "    image: myorg/tools", "    cap_add: &caps", "      - CHOWN"),
                 id="CAP002-anchored-list-is-its-own"),
]

ISO = [
    pytest.param("ISO001", UNSAFE,
                 y("services:", "  exporter:", "    image: myorg/exporter", "    pid: host", "    ipc: 'host'  # shm"),
                 y("services:", "  exporter:", "    image: myorg/exporter", "    # shm"),
                 id="ISO001-pid-and-ipc"),
    pytest.param("ISO001", UNSAFE,
                 y("services:", "  box:", "    uts: host", "    userns_mode: \"host\"", "    image: myorg/box"),
                 y("services:", "  box:", "    image: myorg/box"),
                 id="ISO001-uts-userns"),
    pytest.param("ISO002", UNSAFE,
                 y("services:", "  app:", "    image: myorg/app", "    security_opt:", "      - seccomp:unconfined",
                   "      - no-new-privileges:true"),
                 y("services:", "  app:", "    image: myorg/app", "    security_opt:",
                   "      - no-new-privileges:true"),
                 id="ISO002-block"),
    pytest.param("ISO002", UNSAFE,
                 y("services:", "  app:", "    image: myorg/app", "    security_opt:", "      - no-new-privileges",
                   '      - "label=disable"   # SELinux relabel issue', "      - systempaths=unconfined"),
                 y("services:", "  app:", "    image: myorg/app", "    security_opt:", "      - no-new-privileges",
                   "      # SELinux relabel issue"),
                 id="ISO002-block-two-with-comment"),
    pytest.param("ISO002", UNSAFE,
                 y("services:", "  app:", "    image: myorg/app",
                   '    security_opt: ["apparmor=unconfined", "no-new-privileges:true", "label:type:spc_t"]'),
                 y("services:", "  app:", "    image: myorg/app", '    security_opt: ["no-new-privileges:true"]'),
                 id="ISO002-flow"),
]

FS = [
    pytest.param("FS001", UNSAFE,
                 y("services:", "  api:", "    image: myorg/api"),
                 y("services:", "  api:", "    image: myorg/api", "    read_only: true", "    tmpfs:", "      - /tmp"),
                 id="FS001-add-with-tmpfs"),
    pytest.param("FS001", UNSAFE,
                 y("services:", "  api:", "    image: myorg/api", "    tmpfs: /run"),
                 y("services:", "  api:", "    image: myorg/api", "    tmpfs: /run", "    read_only: true"),
                 id="FS001-existing-tmpfs-kept"),
    pytest.param("FS001", UNSAFE,
                 y("services:", "  api:", "    image: myorg/api", "    volumes:", "      - scratch:/tmp",
                   "volumes:", "  scratch:"),
                 y("services:", "  api:", "    image: myorg/api", "    volumes:", "      - scratch:/tmp",
                   "    read_only: true", "volumes:", "  scratch:"),
                 id="FS001-tmp-already-mounted"),
    pytest.param("FS001", UNSAFE,
                 y("services:", "  api:", "    image: myorg/api", "    read_only: false  # writes its cache"),
                 y("services:", "  api:", "    image: myorg/api", "    read_only: true  # writes its cache",
                   "    tmpfs:", "      - /tmp"),
                 id="FS001-false-becomes-true"),
    pytest.param("FS001", UNSAFE,
                 y("services:", "  api: {image: myorg/api, tmpfs: [/run]}"),
                 y("services:", "  api: {image: myorg/api, tmpfs: [/run], read_only: true}"),
                 id="FS001-flow-service"),
    pytest.param("RES002", UNSAFE,
                 y("services:", "  worker:", "    image: myorg/worker"),
                 y("services:", "  worker:", "    image: myorg/worker", "    deploy:", "      resources:",
                   "        limits:", "          pids: 4096"),
                 id="RES002-add"),
    pytest.param("RES002", SAFE,
                 y("services:", "  web:", "    image: nginx:1.27-alpine"),
                 y("services:", "  web:", "    image: nginx:1.27-alpine", "    deploy:", "      resources:",
                   "        limits:", "          pids: 4096"),
                 id="RES002-add-known-image"),
    pytest.param("RES002", SAFE,
                 y("services:", "  ch:", "    image: clickhouse/clickhouse-server:25.3"),
                 y("services:", "  ch:", "    image: clickhouse/clickhouse-server:25.3", "    deploy:", "      resources:",
                   "        limits:", "          pids: 16384"),
                 id="RES002-add-thread-heavy-image"),
    pytest.param("RES002", UNSAFE,
                 y("services:", "  worker:", "    image: myorg/worker", "    mem_limit: 1g"),
                 y("services:", "  worker:", "    image: myorg/worker", "    mem_limit: 1g", "    pids_limit: 4096"),
                 id="RES002-add-beside-legacy-limits"),
    pytest.param("RES002", UNSAFE,
                 y("services:", "  worker:", "    image: myorg/worker", "    deploy:", "      resources:",
                   "        limits:", "          memory: 1G"),
                 y("services:", "  worker:", "    image: myorg/worker", "    deploy:", "      resources:",
                   "        limits:", "          memory: 1G", "          pids: 4096"),
                 id="RES002-add-under-deploy-limits"),
    pytest.param("RES002", SAFE,
                 y("services:", "  worker:", "    image: myorg/worker", "    pids_limit: 200", "    deploy:",
                   "      resources:", "        limits: {cpus: '0.5'}"),
                 y("services:", "  worker:", "    image: myorg/worker", "    deploy:",
                   "      resources:", "        limits: {cpus: '0.5', pids: 200}"),
                 id="RES002-move-pids-next-to-deploy-limits"),
    pytest.param("RES002", UNSAFE,
                 y("services:", "  worker:", "    image: myorg/worker", "    pids_limit: -1  # unlimited"),
                 y("services:", "  worker:", "    image: myorg/worker", "    pids_limit: 4096  # unlimited"),
                 id="RES002-replace-unlimited"),
    pytest.param("RES002", UNSAFE,
                 y("services:", "  worker:", "    image: myorg/worker", "    deploy:", "      resources:",
                   "        limits:", "          pids: 0"),
                 y("services:", "  worker:", "    image: myorg/worker", "    deploy:", "      resources:",
                   "        limits:", "          pids: 4096"),
                 id="RES002-replace-zero-under-deploy"),
]

PAIRS = PRV + CAP + ISO + FS


@pytest.mark.parametrize("rule,safety,before,after", PAIRS)
def test_fix(rule, safety, before, after):
    """The exact text, idempotent, the safe-only run, CRLF and no-final-newline variants."""
    assert_fixes(before, after, rule=rule, unsafe=safety == UNSAFE)


# inputs Compose itself refuses, which the fix turns into a file it accepts
REFUSED_BEFORE = {"PRV002-fill-null": "security_opt must be a array",
                  "RES002-move-pids-next-to-deploy-limits": "can't set distinct values"}


@pytest.mark.parametrize("rule,safety,before,after", PAIRS)
def test_compose_accepts_before_and_after(rule, safety, before, after, compose_check, request):
    code, _, err = compose_check(before)
    refused = REFUSED_BEFORE.get(request.node.callspec.id)
    if refused:
        assert code != 0 and refused in err
    else:
        assert code == 0, f"the test input itself is not a valid compose file: {err}"
    code, _, err = compose_check(after)
    assert code == 0, err


# --------------------------------------------------------------------------- no findings at all

NOOPS = [
    pytest.param("PRV001", y("services:", "  a:", "    image: x", "    privileged: false"), id="PRV001-false"),
    pytest.param("PRV001", y("services:", "  a:", "    image: x", "    privileged: ${PRIVILEGED}"),
                 id="PRV001-variable"),
    pytest.param("CAP002", y("services:", "  a:", "    image: x", "    cap_add: [NET_BIND_SERVICE, CHOWN, NET_RAW]"),
                 id="CAP002-harmless"),
    pytest.param("CAP002", y("services:", "  a:", "    image: x", "    cap_add: ['${EXTRA_CAP}']"),
                 id="CAP002-variable"),
    pytest.param("CAP002", y("services:", "  a:", "    image: x", "    cap_drop: [SYS_ADMIN]"),
                 id="CAP002-drop-is-fine"),
    pytest.param("CAP002", y("services:", "  a:", "    image: x", "    cap_add:", "      - CHOWN",
                             "      - SYS_ADMIN, # not a capability name"), id="CAP002-odd-text"),
    pytest.param("ISO001", y("services:", "  a:", "    image: x", "    pid: service:b", "    ipc: shareable",
                             "    network_mode: host", "  b:", "    image: x"), id="ISO001-not-host"),
    pytest.param("ISO002", y("services:", "  a:", "    image: x", "    security_opt:", "      - seccomp=./profile.json",
                             "      - apparmor=docker-default", "      - label=type:container_t"),
                 id="ISO002-profiles"),
    pytest.param("ISO003", y("services:", "  a:", "    image: x", "    deploy:", "      resources:",
                             "        reservations:",
                             "          devices:", "            - capabilities: [gpu]"), id="ISO003-gpu-reservation"),
    pytest.param("PRV002", y("services:", "  a:", "    image: x", "    security_opt: [no-new-privileges]"),
                 id="PRV002-bare"),
    pytest.param("PRV002", y("services:", "  a:", "    image: x", "    security_opt: ['no-new-privileges=1']"),
                 id="PRV002-go-bool"),
    pytest.param("PRV002", y("services:", "  a:", "    image: x", "    security_opt: ['no-new-privileges:${NNP}']"),
                 id="PRV002-variable"),
    pytest.param("PRV002", y("x-d: &d", "  security_opt: ['no-new-privileges:true']", "services:", "  a:", "    <<: *d",
                             "    image: x"), id="PRV002-merged"),
    pytest.param("PRV002", y("services:", "  a:", "    image: x", "    security_opt: ['no-new-privileges:true']",
                             "  b:", "    extends: a", "  c:", "    extends: {service: b}",
                             "    security_opt: [label=disable]"), id="PRV002-extends-is-left-to-the-base"),
    pytest.param("FS001", y("services:", "  a:", "    image: x", "    read_only: yes"), id="FS001-yes"),
    pytest.param("FS001", y("services:", "  a:", "    image: x", "    read_only: ${RO}"), id="FS001-variable"),
    pytest.param("FS001", y("services:", "  a:", "    image: x", "    read_only: true", "  b:", "    extends: a"),
                 id="FS001-extends"),
    pytest.param("RES002", y("services:", "  a:", "    image: x", "    pids_limit: 64"), id="RES002-set"),
    pytest.param("RES002", y("services:", "  a:", "    image: x", "    deploy:", "      resources:", "        limits:",
                             "          pids: 64"), id="RES002-deploy"),
    pytest.param("RES002", y("services:", "  a:", "    image: x", "    pids_limit: ${PIDS:-100}"),
                 id="RES002-variable"),
]


@pytest.mark.parametrize("rule,text", NOOPS)
def test_no_finding_and_no_change(rule, text):
    assert_no_fix(text, rule=rule)


# --------------------------------------------------------------------------- reported without a fix

REPORT_ONLY = [
    pytest.param("CAP002", y("services:", "  a:", "    image: x", "    cap_add:", "      - SYS_ADMIN"),
                 "SYS_ADMIN", id="CAP002-only-item"),
    pytest.param("CAP002", y("services:", "  a:", "    image: x", "    cap_add: [NET_ADMIN, sys_module]"),
                 "SYS_MODULE", id="CAP002-all-items"),
    pytest.param("CAP002", y("x-caps: &caps", "  - SYS_ADMIN", "  - CHOWN", "services:", "  a:", "    image: x",
                             "    cap_add: *caps"), "SYS_ADMIN", id="CAP002-aliased-list"),
    pytest.param("CAP002", y("x-b: &b", "  cap_add: [SYS_ADMIN, CHOWN]", "services:", "  a:", "    <<: *b",
                             "    image: x"), "SYS_ADMIN", id="CAP002-merged-list"),
    pytest.param("CAP002", y("x-cap: &cap SYS_ADMIN", "services:", "  a:", "    image: x",
                             "    cap_add: [CHOWN, *cap]"), "SYS_ADMIN", id="CAP002-aliased-item"),
    pytest.param("ISO001", y("services:", "  a:", "    image: x", "    cgroup: host"), "cgroup namespace",
                 id="ISO001-cgroup-report-only"),
    pytest.param("ISO001", y("x-b: &b", "  pid: host", "services:", "  a:", "    <<: *b", "    image: x"),
                 "process namespace", id="ISO001-merged"),
    pytest.param("ISO002", y("services:", "  a:", "    image: x", "    security_opt:", "      - seccomp:unconfined",
                             "      - apparmor:unconfined"), "seccomp", id="ISO002-would-empty"),
    pytest.param("ISO002", y("services:", "  a:", "    image: x", "    security_opt: [label=disable]"), "SELinux",
                 id="ISO002-would-empty-flow"),
    pytest.param("ISO003", y("services:", "  a:", "    image: x", "    devices:", "      - /dev/sda:/dev/sda"),
                 "/dev/sda", id="ISO003-disk"),
    pytest.param("PRV002", y("x-s: &s", "  - label=disable", "services:", "  a:", "    image: x",
                             "    security_opt: *s"), "no-new-privileges", id="PRV002-aliased-list"),
    pytest.param("RES002", y("services:", "  a:", "    image: x", "    pids_limit:"), "no process limit",
                 id="RES002-empty-value"),
    pytest.param("RES002", y("services:", "  a:", "    image: x", "    pids_limit: -1", "    deploy:",
                             "      resources:",
                             "        limits:", "          pids: -1"), "no process limit", id="RES002-both-unlimited"),
]


@pytest.mark.parametrize("rule,text,message", REPORT_ONLY)
def test_reported_but_not_fixed(rule, text, message):
    assert_no_fix(text, rule=rule, message=message)


def test_anchored_value_is_kept_but_its_alias_user_is_fixed():
    text = y("services:", "  a:", "    image: x", "    privileged: &p true", "  b:", "    image: x",
             "    privileged: *p")
    remaining, fixed, out = run(text, "PRV001")
    assert out == y("services:", "  a:", "    image: x", "    privileged: &p true", "  b:", "    image: x")
    assert [f.service for f in fixed] == ["b"] and [f.service for f in remaining] == ["a"]


# --------------------------------------------------------------------------- severities and messages

def _one(text, rule, options=None):
    found = findings(text, [BY_ID[rule]], options)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("text,rule,severity", [
    (y("services:", "  a:", "    image: x", "    cap_add: [CHOWN, SYS_PTRACE]"), "CAP002", Severity.HIGH),
    (y("services:", "  a:", "    image: x", "    pid: host", "    cap_add: [CHOWN, SYS_PTRACE]"), "CAP002",
     Severity.CRITICAL),
    (y("services:", "  a:", "    image: x", "    cap_add: [CHOWN, NET_ADMIN]"), "CAP002", Severity.MEDIUM),
    (y("services:", "  a:", "    image: x", "    network_mode: host", "    cap_add: [CHOWN, NET_ADMIN]"), "CAP002",
     Severity.HIGH),
    (y("services:", "  a:", "    image: x", "    cap_add: [CHOWN, CAP_ALL]"), "CAP002", Severity.CRITICAL),
    (y("services:", "  a:", "    image: x", "    pid: host"), "ISO001", Severity.HIGH),
    (y("services:", "  a:", "    image: x", "    uts: host"), "ISO001", Severity.LOW),
    (y("services:", "  a:", "    image: x", "    security_opt: [seccomp=unconfined, x=y]"), "ISO002", Severity.HIGH),
    (y("services:", "  a:", "    image: x", "    security_opt: ['apparmor:unconfined', x=y]"), "ISO002",
       Severity.MEDIUM),
    (y("services:", "  a:", "    image: x", "    devices: [/dev/mem]"), "ISO003", Severity.CRITICAL),
    (y("services:", "  a:", "    image: x", "    devices: ['/dev/nvme0n1p2:/dev/disk']"), "ISO003", Severity.CRITICAL),
    (y("services:", "  a:", "    image: x", "    devices: [/dev/fuse]"), "ISO003", Severity.HIGH),
    (y("services:", "  a:", "    image: x", "    devices:", "      - source: /dev/input/event0",
       "        target: /dev/input/event0"), "ISO003", Severity.HIGH),
    (y("services:", "  a:", "    image: x", "    devices: [/dev/kmsg]"), "ISO003", Severity.MEDIUM),
    (y("services:", "  a:", "    image: x", "    devices: ['/dev/ttyUSB0:/dev/ttyUSB0:rwm']"), "ISO003", Severity.LOW),
    (y("services:", "  a:", "    image: x", "    devices: [nvidia.com/gpu=all]"), "ISO003", Severity.LOW),
    (y("services:", "  a:", "    image: x", "    device_cgroup_rules: ['b *:* rwm']"), "ISO003", Severity.CRITICAL),
    (y("services:", "  a:", "    image: x", "    device_cgroup_rules: ['c *:* rmw']"), "ISO003", Severity.HIGH),
    (y("services:", "  a:", "    image: x", "    device_cgroup_rules: ['c 188:* rmw']"), "ISO003", Severity.MEDIUM),
    (y("services:", "  a:", "    image: x", "    cgroup_parent: m-executor-abcd"), "ISO003", Severity.LOW),
])
def test_severity(text, rule, severity):
    assert _one(text, rule).severity is severity


def test_finding_points_at_the_value_and_names_the_service():
    f = _one(y("services:", "  web:", "    image: x", "    privileged: true"), "PRV001")
    assert (f.line, f.column, f.service, f.key_path) == (4, 17, "web", ("services", "web", "privileged"))
    f = _one(y("services:", "  web:", "    image: x", "    cap_add:", "      - CHOWN", "      - cap_sys_admin"),
             "CAP002")
    assert (f.line, f.column) == (6, 9) and "SYS_ADMIN" in f.message


def test_pids_option():
    text = y("services:", "  w:", "    image: x")
    _, _, out = run(text, "RES002", options={"RES002": {"pids": 100}})
    assert out == text + y("    deploy:", "      resources:", "        limits:", "          pids: 100")


def test_tmpfs_option():
    text = y("services:", "  w:", "    image: x")
    _, _, out = run(text, "FS001", options={"FS001": {"tmpfs": ["/tmp", "/run"]}})
    assert out == text + y("    read_only: true", "    tmpfs:", "      - /tmp", "      - /run")
    flow = y("services:", "  w: {image: x}")
    _, _, out = run(flow, "FS001", options={"FS001": {"tmpfs": ["/run:size=16m"]}})
    assert out == y("services:", '  w: {image: x, read_only: true, tmpfs: ["/run:size=16m"]}')


def test_known_image_gets_its_writable_paths(compose_check):
    text = y("services:", "  web:", "    image: nginx:1.27", "    volumes:", "      - ./cache:/var/cache/nginx")
    _, _, out = run(text, "FS001")
    assert out == text + y("    read_only: true", "    tmpfs:", "      - /var/run", "      - /tmp")
    assert compose_check(out)[0] == 0


# --------------------------------------------------------------------------- rules working together

def test_security_opt_rules_converge():
    """ISO002 never empties a list; PRV002 adds its entry first, then the disabling entries can go."""
    before = y("services:", "  app:", "    image: myorg/app", "    security_opt:  # see the issue",
               "      - seccomp:unconfined", "      - apparmor:unconfined  # mariadb")
    remaining, fixed, out = run(before, ["ISO002", "PRV002"])
    assert out == y("services:", "  app:", "    image: myorg/app", "    security_opt:  # see the issue",
                    "      # mariadb", "      - no-new-privileges:true")
    assert remaining == [] and len(fixed) == 3


def test_flow_security_opt_converges():
    before = y("services:", "  app:", "    image: myorg/app", "    security_opt: [label=disable]")
    _, _, out = run(before, ["ISO002", "PRV002"])
    assert out == y("services:", "  app:", "    image: myorg/app", '    security_opt: ["no-new-privileges:true"]')


def test_pids_limit_ends_under_deploy_when_resource_limits_are_added_in_the_same_run(compose_check):
    """RES001 writes deploy.resources.limits while RES002 writes pids_limit; Compose refuses the pair,
    so the next pass moves the number under deploy."""
    from hardener.rules import resource_limits

    before = y("services:", "  worker:", "    image: myorg/worker")
    remaining, _, out = run(before, ["RES002", resource_limits])
    assert out == y("services:", "  worker:", "    image: myorg/worker", "    deploy:", "      resources:",
                    "        limits:", '          cpus: "1.0"', "          memory: 1G", "          pids: 4096")
    assert remaining == []
    code, model, err = compose_check(out)
    assert code == 0, err


def test_all_isolation_rules_on_one_service(compose_check):
    before = y("# a debugging box",
               "services:",
               "  box:",
               "    image: myorg/box  # built locally",
               "    privileged: true",
               "    pid: host",
               "    cap_add:",
               "      - SYS_ADMIN",
               "      - NET_BIND_SERVICE",
               "    security_opt: [seccomp=unconfined, apparmor=unconfined]",
               "    devices:",
               "      - /dev/fuse")
    remaining, fixed, out = run(before, list(BY_ID))
    assert out == y("# a debugging box",
                    "services:",
                    "  box:",
                    "    image: myorg/box  # built locally",
                    "    cap_add:",
                    "      - NET_BIND_SERVICE",
                    '    security_opt: ["no-new-privileges:true"]',
                    "    devices:",
                    "      - /dev/fuse",
                    "    read_only: true",
                    "    tmpfs:",
                    "      - /tmp",
                    "    deploy:",
                    "      resources:",
                    "        limits:",
                    "          pids: 4096")
    assert [f.rule_id for f in remaining] == ["ISO003"]
    assert compose_check(before)[0] == 0
    code, model, err = compose_check(out)
    assert code == 0, err
    box = model["services"]["box"]
    assert box["read_only"] is True and box["deploy"]["resources"]["limits"]["pids"] == 4096
    assert not box.get("privileged")
    assert box["security_opt"] == ["no-new-privileges:true"] and box["cap_add"] == ["NET_BIND_SERVICE"]


# --------------------------------------------------------------------------- layers: extends and projects

def test_extends_child_is_fixed_through_its_base(compose_check):
    """A missing setting is added once, to the base; Compose would refuse the same security_opt entry
    twice in a child (it concatenates the lists), and the child inherits everything else."""
    before = y("services:", "  base:", "    image: myorg/app", "  child:", "    extends: base",
               "    command: [run, --child]")
    _, fixed, out = run(before, ["PRV002", "FS001", "RES002"])
    assert out == y("services:", "  base:", "    image: myorg/app", "    read_only: true", "    tmpfs:", "      - /tmp",
                    "    security_opt:", "      - no-new-privileges:true", "    deploy:", "      resources:",
                    "        limits:", "          pids: 4096",
                    "  child:", "    extends: base", "    command: [run, --child]")
    assert {f.service for f in fixed} == {"base"}
    code, model, err = compose_check(out)
    assert code == 0, err
    assert model["services"]["child"]["security_opt"] == ["no-new-privileges:true"]


def test_extends_values_are_reported_where_written():
    text = y("services:", "  base:", "    image: x", "    privileged: true", "    cap_add: [CHOWN, SYS_ADMIN]",
             "  child:", "    extends: base", "    cap_add: [NET_ADMIN, SETUID]")
    found = findings(text, [privileged, dangerous_capabilities])
    assert [(f.rule_id, f.service) for f in found] == [("PRV001", "base"), ("CAP002", "base"), ("CAP002", "child")]


def _project(texts, index, rules):
    from hardener.compose import Project

    docs = tuple(parse(t) for t in texts)
    ctx = Context.of(docs[index], project=Project(docs, index))
    return [f for r in rules for f in r.check(ctx)]


def test_override_file_decides_and_missing_settings_go_to_the_base():
    base = y("services:", "  app:", "    image: myorg/app", "    privileged: true", "    pid: host")
    override = y("services:", "  app:", "    image: myorg/app:2", "    privileged: false")
    rules = [privileged, host_namespaces, no_new_privileges]
    in_base = _project([base, override], 0, rules)
    in_override = _project([base, override], 1, rules)
    assert sorted(f.rule_id for f in in_base) == ["ISO001", "PRV002"]  # privileged: false wins
    assert in_override == []  # pid: host and the missing flag belong to the base file


# --------------------------------------------------------------------------- rule modules

def test_rule_metadata_and_doc_pages():
    ids = [m.ID for m in MODULES]
    assert len(set(ids)) == len(ids)
    for m in MODULES:
        assert re.fullmatch(r"[A-Z]{2,3}\d{3}", m.ID) and re.fullmatch(r"[a-z]+(-[a-z]+)*", m.NAME)
        assert m.ATTACK_TREE and all(re.fullmatch(r"\d(\.\d){2}", n) for n in m.ATTACK_TREE)
        assert isinstance(m.SEVERITY, Severity) and isinstance(m.FIX, Applicability)
        doc = m.__doc__ or ""
        for section in ("What it finds", "Why it matters", "Example", "Fix", "What may break", "References"):
            assert f"**{section}" in doc, (m.ID, section)
        for node in m.ATTACK_TREE:
            assert node in doc, (m.ID, node)


def test_attack_tree_nodes_exist():
    from hardener.attack_tree import NODES

    for m in MODULES:
        assert set(m.ATTACK_TREE) <= set(NODES), m.ID


# --------------------------------------------------------------------------- the shared corpus

def _comments(text: str) -> Counter:
    return Counter(comment for _, _, comment in comments(text))


CORPUS = corpus_names()


@pytest.mark.corpus
@pytest.mark.parametrize("rule", list(BY_ID))
def test_rule_on_the_whole_corpus(rule):
    """Parse, check, fix (unsafe too), re-parse: no crash, no lost comment, idempotent, and every
    fixable finding is fixed."""
    folder = require_corpus()
    total = 0
    for name in CORPUS:
        text = (folder / name).read_bytes().decode("utf-8-sig")
        remaining, fixed, out = run(text, rule)
        total += len(fixed) + len(remaining)
        parse(out)
        assert not (_comments(text) - _comments(out)), f"{name}: a comment was lost"
        assert run(out, rule)[2] == out, f"{name}: not idempotent"
        assert not [f for f in remaining if f.fix], f"{name}: a fix was left unapplied"
    assert total > 0, f"{rule} finds nothing in {len(CORPUS)} real files"


@pytest.mark.corpus
def test_all_isolation_rules_together_on_the_corpus():
    folder = require_corpus()
    changed = 0
    for name in CORPUS:
        text = (folder / name).read_bytes().decode("utf-8-sig")
        _, _, out = run(text, list(BY_ID))
        changed += out != text
        assert not (_comments(text) - _comments(out)), name
        assert run(out, list(BY_ID))[2] == out, name
    assert changed > 0.9 * len(CORPUS)
