"""The safety classes of issue 10, each as a before/after pattern through the real command line,
with the fixed file given to the real Compose."""
from __future__ import annotations

import json

import pytest

from conftest import compose_config, y


def _write(tmp_path, text: str):
    path = tmp_path / "compose.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _findings(run_cli, path, *args) -> list[dict]:
    proc = run_cli("check", "--isolated", "--format", "json", *args, path)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)["findings"]


def _model(binary, text) -> dict:
    code, data, err = compose_config(binary, text)
    assert code == 0, err
    return data


# --------------------------------------------------------------------------- FS001: rendered configuration

@pytest.mark.parametrize("extra", [
    ["    volumes:", "      - ./templates:/etc/nginx/templates:ro"],
    ["    environment:", "      NGINX_ENVSUBST_TEMPLATE_SUFFIX: .tpl"],
], ids=["templates-mounted", "envsubst-variables"])
def test_nginx_rendering_templates_keeps_conf_d_writable(run_cli, compose_binary, tmp_path, extra):
    path = _write(tmp_path, y("services:", "  web:", "    image: nginx:1.27-alpine", *extra))
    run_cli("fix", "--isolated", "--unsafe-fixes", "--select", "FS001", path)
    web = _model(compose_binary, path.read_text(encoding="utf-8"))["services"]["web"]
    assert web["read_only"] is True
    assert "/etc/nginx/conf.d" in web["tmpfs"] and "/var/cache/nginx" in web["tmpfs"]


def test_nginx_without_templates_gets_no_conf_d_tmpfs(run_cli, compose_binary, tmp_path):
    path = _write(tmp_path, y("services:", "  web:", "    image: nginx:1.27", "    volumes:",
                              "      - ./site:/usr/share/nginx/html:ro"))
    run_cli("fix", "--isolated", "--unsafe-fixes", "--select", "FS001", path)
    web = _model(compose_binary, path.read_text(encoding="utf-8"))["services"]["web"]
    assert "/etc/nginx/conf.d" not in web["tmpfs"]  # its own conf.d stays visible


# --------------------------------------------------------------------------- USR001: init containers, own users

@pytest.mark.parametrize("service", [
    ["    image: alpine:3.20", '    user: "0"', '    command: ["sh", "-c", "chown -R 1000:1000 /data"]'],
    ["    image: busybox", "    command: chmod -R g+w /shared"],
    ["    image: myorg/tools:1", "    entrypoint: [/bin/sh, -c]", '    command: ["chown 999:999 /var/lib/db && true"]'],
], ids=["explicit-root-chown", "chmod-no-user", "unknown-image-chown"])
def test_init_containers_that_change_ownership_are_not_forced_to_another_user(run_cli, tmp_path, service):
    path = _write(tmp_path, y("services:", "  init:", *service, "    volumes:", "      - data:/data",
                              "volumes:", "  data:"))
    usr = [f for f in _findings(run_cli, path, "--select", "USR001")]
    assert [(f["severity"], f["fix"]) for f in usr] == [("low", "none")]
    before = path.read_text(encoding="utf-8")
    run_cli("fix", "--isolated", "--unsafe-fixes", "--select", "USR001", path)
    assert path.read_text(encoding="utf-8") == before


@pytest.mark.parametrize("image, uid", [("grafana/loki:3.0.0", "10001"), ("sonarqube:10-community", "1000"),
                                        ("cgr.dev/chainguard/nginx:latest", "65532"),
                                        ("opensearchproject/opensearch-dashboards:2.15.0", "1000")])
def test_images_with_their_own_user_keep_it(run_cli, compose_binary, tmp_path, image, uid):
    path = _write(tmp_path, y("services:", "  app:", f"    image: {image}"))
    assert _findings(run_cli, path, "--select", "USR001") == []  # already non-root
    path = _write(tmp_path, y("services:", "  app:", f"    image: {image}", "    user: root"))
    run_cli("fix", "--isolated", "--unsafe-fixes", "--select", "USR001", path)
    assert _model(compose_binary, path.read_text(encoding="utf-8"))["services"]["app"]["user"] == uid  # never 65534


def test_base_images_never_get_a_safe_user(run_cli, tmp_path):
    path = _write(tmp_path, y("services:", "  job:", "    image: python:3.12-slim", "    command: python job.py"))
    assert [f["fix"] for f in _findings(run_cli, path, "--select", "USR001")] == ["unsafe"]


# --------------------------------------------------------------------------- RST001 and RES001: what the author wrote

def test_a_written_on_failure_is_not_bounded_by_a_safe_fix(run_cli, tmp_path):
    path = _write(tmp_path, y("services:", "  app:", "    image: myorg/app:1", "    restart: on-failure"))
    assert [f["fix"] for f in _findings(run_cli, path, "--select", "RST001")] == ["unsafe"]
    run_cli("fix", "--isolated", "--select", "RST001", path)
    assert "restart: on-failure\n" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("env, least", [("ES_JAVA_OPTS: -Xms1g -Xmx1g", 2 * 1024 ** 3),
                                        ("OPENSEARCH_JAVA_OPTS: -Xms2g -Xmx2g", 4 * 1024 ** 3)])
def test_a_declared_heap_is_never_limited_below_twice_its_size(run_cli, compose_binary, tmp_path, env, least):
    path = _write(tmp_path, y("services:", "  idx:", "    image: opensearchproject/opensearch:2.15.0",
                              "    environment:", f"      {env}", "      bootstrap.memory_lock: \"true\""))
    res = _findings(run_cli, path, "--select", "RES001")
    assert [f["fix"] for f in res] == ["unsafe"] and "heap" in res[0]["message"]
    run_cli("fix", "--isolated", "--select", "RES001", path)
    assert "memory:" not in path.read_text(encoding="utf-8")  # plain fix: no limit
    run_cli("fix", "--isolated", "--unsafe-fixes", "--select", "RES001", path)
    limits = _model(compose_binary, path.read_text(encoding="utf-8"))["services"]["idx"]["deploy"]["resources"]["limits"]
    assert int(limits["memory"]) >= least + 512 * 1024 ** 2


def test_memory_pinned_without_a_size_gets_no_memory_limit(run_cli, tmp_path):
    path = _write(tmp_path, y("services:", "  app:", "    image: myorg/search:1", "    environment:",
                              "      - bootstrap.memory_lock=true"))
    res = _findings(run_cli, path, "--select", "RES001")
    assert len(res) == 1 and "docker stats" in res[0]["message"]
    run_cli("fix", "--isolated", "--unsafe-fixes", "--select", "RES001", path)
    assert "memory:" not in path.read_text(encoding="utf-8")
