"""DKR001's socket-proxy fix (option socket_proxy, applied by `fix --unsafe-fixes`): one filtering proxy
holds the Docker socket read-only on an internal network, each known client is pointed at it over TCP
with the API sections it needs; managers, file-configured clients and existing proxies get a report.
Through the real CLI, checked with the real `docker compose config`."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from hardener import knowledge

PROXY = "docker-socket-proxy"
URL = f"tcp://{PROXY}:2375"
OPT_IN = "options:\n  DKR001:\n    socket_proxy: true\n"

TRAEFIK_WATCHTOWER = """\
services:
  traefik:
    image: traefik:v3.1
    command:
      - --providers.docker=true
      - --providers.docker.exposedbydefault=false
      - --entrypoints.web.address=:80
    ports:
      - "80:80"
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock:ro   # the dashboard reads labels
  watchtower:
    image: containrrr/watchtower:1.7.1
    command: --interval 300
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
  whoami:
    image: traefik/whoami:v1.10
    labels:
      - traefik.enable=true
"""


def project(tmp_path: Path, text: str, opt_in: bool = True) -> Path:
    (tmp_path / "compose.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    if opt_in:
        (tmp_path / ".hardener.yaml").write_text(OPT_IN, encoding="utf-8")
    return tmp_path / "compose.yaml"


def fix(run_cli, path: Path, *extra):
    proc = run_cli("fix", "--unsafe-fixes", "--select", "DKR001", *extra, str(path), cwd=path.parent)
    assert proc.returncode in (0, 1), proc.stderr
    return path.read_text(encoding="utf-8")


def findings(run_cli, path: Path):
    proc = run_cli("check", "--format", "json", "--select", "DKR001", str(path), cwd=path.parent)
    return json.loads(proc.stdout)["findings"]


def model(compose_check, text: str) -> dict:
    code, parsed, err = compose_check(text)
    assert code == 0, err
    return parsed


def socket_holders(parsed) -> dict:
    return {name: vol for name, svc in parsed["services"].items() for vol in svc.get("volumes", ())
            if vol.get("source", "").endswith("docker.sock")}


def env(parsed, service) -> dict:
    return parsed["services"][service].get("environment") or {}


def test_traefik_and_watchtower_share_one_proxy(tmp_path, run_cli, compose_check):
    path = project(tmp_path, TRAEFIK_WATCHTOWER)
    out = fix(run_cli, path)
    parsed = model(compose_check, out)
    holders = socket_holders(parsed)
    assert list(holders) == [PROXY]
    assert holders[PROXY]["target"] == "/var/run/docker.sock" and holders[PROXY]["read_only"] is True
    proxy = parsed["services"][PROXY]
    assert proxy["image"] == knowledge.SOCKET_PROXY_IMAGE and ":" in proxy["image"].rsplit("/", 1)[-1]
    assert "ports" not in proxy
    # the union of what Traefik (containers, networks) and Watchtower (containers, images, networks, POST) need
    assert env(parsed, PROXY) == {"CONTAINERS": "1", "NETWORKS": "1", "IMAGES": "1", "POST": "1"}
    assert set(proxy["networks"]) == {"docker-api"}
    assert parsed["networks"]["docker-api"]["internal"] is True
    assert f"--providers.docker.endpoint={URL}" in parsed["services"]["traefik"]["command"]
    assert env(parsed, "watchtower")["DOCKER_HOST"] == URL
    for client in ("traefik", "watchtower"):
        assert set(parsed["services"][client]["networks"]) == {"default", "docker-api"}
    assert "networks" not in parsed["services"]["whoami"] or "docker-api" not in parsed["services"]["whoami"]["networks"]
    assert "# the dashboard reads labels" in out  # the comment of the removed line is kept
    assert fix(run_cli, path) == out  # idempotent
    assert not [f for f in findings(run_cli, path) if "mounts the daemon socket" in f["message"]]


def test_the_message_says_what_the_proxy_enables(tmp_path, run_cli):
    path = project(tmp_path, TRAEFIK_WATCHTOWER)
    found = {f["service"]: f for f in findings(run_cli, path)}
    assert set(found) == {"traefik", "watchtower"}
    for name, other in (("traefik", "watchtower"), ("watchtower", "traefik")):
        message = found[name]["message"]
        assert f"the fix gives it the proxy '{PROXY}'" in message
        assert "CONTAINERS, NETWORKS, IMAGES, POST" in message
        assert f"shared with {other} (the union of what each needs)" in message
        assert found[name]["fix"] == "unsafe"


def test_without_the_option_the_mount_is_only_reported(tmp_path, run_cli):
    path = project(tmp_path, TRAEFIK_WATCHTOWER, opt_in=False)
    assert fix(run_cli, path) == textwrap.dedent(TRAEFIK_WATCHTOWER)
    assert all(f["fix"] == "none" for f in findings(run_cli, path))


def test_traefik_alone_gets_a_read_only_proxy(tmp_path, run_cli, compose_check):
    text = TRAEFIK_WATCHTOWER.split("  watchtower:")[0] + "  whoami:\n    image: traefik/whoami:v1.10\n"
    parsed = model(compose_check, fix(run_cli, project(tmp_path, text)))
    assert env(parsed, PROXY) == {"CONTAINERS": "1", "NETWORKS": "1"}  # POST stays off


def test_traefik_in_swarm_mode_also_reads_services_tasks_and_nodes(tmp_path, run_cli, compose_check):
    text = TRAEFIK_WATCHTOWER.replace("--providers.docker=true", "--providers.swarm=true").split("  watchtower:")[0]
    parsed = model(compose_check, fix(run_cli, project(tmp_path, text)))
    assert env(parsed, PROXY) == {"CONTAINERS": "1", "NETWORKS": "1", "SERVICES": "1", "TASKS": "1", "NODES": "1"}


def test_traefik_configured_by_variables(tmp_path, run_cli, compose_check):
    text = """\
    services:
      proxy:
        image: traefik:v3.1
        environment:
          TRAEFIK_PROVIDERS_DOCKER: "true"
        volumes:
          - /var/run/docker.sock:/var/run/docker.sock
    """
    parsed = model(compose_check, fix(run_cli, project(tmp_path, text)))
    assert env(parsed, "proxy")["TRAEFIK_PROVIDERS_DOCKER_ENDPOINT"] == URL
    assert list(socket_holders(parsed)) == [PROXY]


def test_traefik_configured_by_a_file_is_reported(tmp_path, run_cli):
    text = """\
    services:
      traefik:
        image: traefik:v3.1
        volumes:
          - ./traefik.yml:/etc/traefik/traefik.yml:ro
          - /var/run/docker.sock:/var/run/docker.sock:ro
    """
    path = project(tmp_path, text)
    before = path.read_text()
    assert fix(run_cli, path) == before
    (finding,) = findings(run_cli, path)
    assert finding["fix"] == "none"
    assert "no proxy for it: its static configuration is not in command flags" in finding["message"]


def test_unknown_client_gets_a_read_only_proxy_and_advice(tmp_path, run_cli, compose_check):
    text = """\
    services:
      agent:
        image: example/deploy-bot:2.1
        environment:
          - LOG_LEVEL=info
        volumes:
          - ${DOCKER_SOCK:-/var/run/docker.sock}:/var/run/docker.sock
          - ./data:/data
    """
    path = project(tmp_path, text)
    message = findings(run_cli, path)[0]["message"]
    assert "an unknown client gets a read-only proxy" in message and "CONTAINERS=1" in message
    out = fix(run_cli, path)
    assert "- DOCKER_HOST=tcp://docker-socket-proxy:2375" in out
    assert "${DOCKER_SOCK:-/var/run/docker.sock}:/var/run/docker.sock:ro" in out.split("\n  docker-socket-proxy:\n")[1]
    parsed = model(compose_check, out)
    assert env(parsed, PROXY) == {"POST": "0"}
    assert [v["source"] for v in parsed["services"]["agent"]["volumes"]][0].endswith("/data")


@pytest.mark.parametrize("image, label", [("portainer/portainer-ce:2.21.0", "Portainer"),
                                          ("gitlab/gitlab-runner:v17.5.0", "GitLab Runner")])
def test_managers_get_a_report_not_a_proxy(tmp_path, run_cli, image, label):
    text = f"""\
    services:
      manager:
        image: {image}
        volumes:
          - /var/run/docker.sock:/var/run/docker.sock
    """
    path = project(tmp_path, text)
    before = path.read_text()
    assert fix(run_cli, path) == before
    (finding,) = findings(run_cli, path)
    assert finding["fix"] == "none"
    assert f"no proxy for it: {label} needs most of the Docker API" in finding["message"]


def test_a_manager_beside_traefik_keeps_its_mount(tmp_path, run_cli, compose_check):
    text = TRAEFIK_WATCHTOWER.split("  watchtower:")[0] + """\
  portainer:
    image: portainer/portainer-ce:2.21.0
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
"""
    parsed = model(compose_check, fix(run_cli, project(tmp_path, text)))
    assert set(socket_holders(parsed)) == {PROXY, "portainer"}


def test_an_existing_proxy_is_never_doubled(tmp_path, run_cli):
    text = TRAEFIK_WATCHTOWER + """\
  socket-proxy:
    image: tecnativa/docker-socket-proxy:0.3.0
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock:ro
"""
    path = project(tmp_path, text)
    before = path.read_text()
    assert fix(run_cli, path) == before
    for finding in findings(run_cli, path):
        assert finding["fix"] == "none" and "already has a socket proxy (socket-proxy)" in finding["message"]


def test_homepage_is_configured_by_its_own_file(tmp_path, run_cli):
    text = """\
    services:
      homepage:
        image: ghcr.io/gethomepage/homepage:v0.9.10
        volumes:
          - /var/run/docker.sock:/var/run/docker.sock:ro
    """
    (finding,) = findings(run_cli, project(tmp_path, text))
    assert finding["fix"] == "none" and "docker.yaml" in finding["message"]


def test_autoheal_uses_its_own_variable(tmp_path, run_cli, compose_check):
    text = """\
    services:
      autoheal:
        image: willfarrell/autoheal:1.2.0
        environment:
          AUTOHEAL_CONTAINER_LABEL: all
        volumes:
          - /var/run/docker.sock:/var/run/docker.sock
    """
    parsed = model(compose_check, fix(run_cli, project(tmp_path, text)))
    assert env(parsed, "autoheal")["DOCKER_SOCK"] == URL
    assert env(parsed, PROXY) == {"CONTAINERS": "1", "POST": "1"}


def test_names_already_taken_are_avoided(tmp_path, run_cli, compose_check):
    text = TRAEFIK_WATCHTOWER.split("  watchtower:")[0] + """\
  docker-socket-proxy:
    image: nginx:1.27
networks:
  docker-api:
    driver: bridge
"""
    out = fix(run_cli, project(tmp_path, text))
    assert "  docker-api:\n    driver: bridge\n" in out  # the project's own network is left as it was
    parsed = model(compose_check, out)
    assert parsed["services"]["docker-socket-proxy"]["image"] == "nginx:1.27"
    assert parsed["services"]["docker-socket-proxy-2"]["image"] == knowledge.SOCKET_PROXY_IMAGE
    assert parsed["networks"]["docker-api-2"]["internal"] is True
    assert "--providers.docker.endpoint=tcp://docker-socket-proxy-2:2375" in parsed["services"]["traefik"]["command"]


def test_an_anchored_environment_is_not_rewritten(tmp_path, run_cli):
    text = """\
    x-env: &env
      TZ: UTC
    services:
      watchtower:
        image: containrrr/watchtower:1.7.1
        environment: *env
        volumes:
          - /var/run/docker.sock:/var/run/docker.sock
    """
    path = project(tmp_path, text)
    before = path.read_text()
    assert fix(run_cli, path) == before
    assert "set DOCKER_HOST by hand" in findings(run_cli, path)[0]["message"]


def test_explain_documents_the_option(run_cli):
    out = run_cli("explain", "DKR001").stdout
    assert "socket_proxy = true" in out and "internal: true" in out and "Portainer" in out


DIND = """\
services:
  dind:
    image: docker:27-dind
    privileged: true
    environment:
      DOCKER_TLS_CERTDIR: ""
    ports:
      - "2375:2375"
  runner:
    image: docker:27-cli
    command: ["sh", "-c", "docker info"]
    environment:
      - DOCKER_HOST=tcp://dind:2375
"""


def test_dind_gets_tls_and_its_client_the_certificates(tmp_path, run_cli, compose_check):
    path = tmp_path / "compose.yaml"
    path.write_text(DIND, encoding="utf-8")
    (tmp_path / ".hardener.yaml").write_text("options:\n  DKR001:\n    dind_tls: true\n", encoding="utf-8")
    out = fix(run_cli, path)
    parsed = model(compose_check, out)
    dind, runner = parsed["services"]["dind"], parsed["services"]["runner"]
    assert dind["environment"] == {"DOCKER_TLS_CERTDIR": "/certs", "DOCKER_TLS_SAN": "DNS:dind"}
    assert [(p["target"], p["published"]) for p in dind["ports"]] == [(2376, "2376")]
    assert [(v["source"], v["target"]) for v in dind["volumes"]] == [("dind-certs", "/certs/client")]
    assert runner["environment"] == {"DOCKER_HOST": "tcp://dind:2376", "DOCKER_TLS_VERIFY": "1",
                                     "DOCKER_CERT_PATH": "/certs/client"}
    assert [(v["source"], v["target"], v.get("read_only")) for v in runner["volumes"]] == \
        [("dind-certs", "/certs/client", True)]
    assert "dind-certs" in parsed["volumes"]
    assert fix(run_cli, path) == out
    assert findings(run_cli, path) == []


def test_dind_without_the_option_is_only_reported(tmp_path, run_cli):
    path = project(tmp_path, DIND, opt_in=False)
    messages = [f["message"] for f in findings(run_cli, path)]
    assert any("DOCKER_TLS_CERTDIR is empty" in m for m in messages)
    assert not any("the fix turns TLS on" in m for m in messages)
