"""PRT001's safety classes of issue 10 (ports published with variables, proxies, ingest ports), each
as a before/after pattern through the real command line and the public API; fixed files are given to
the real Compose with the same env files beside them, the way `docker compose` reads them."""
from __future__ import annotations

import json
import subprocess

import pytest

from conftest import fix_text, y
from hardener import harden
from hardener.interpolation import ProjectEnv, project_env
from hardener.rules import datastore_ports, ports_loopback
from hardener.compose import Context
from hardener.yamltext import parse


def _project(tmp_path, compose: str, files: dict | None = None):
    """compose.yaml and other files (name -> text: `.env`...) in tmp_path; the compose path."""
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    path = tmp_path / "compose.yaml"
    path.write_text(compose, encoding="utf-8")
    return path


def _prt001(run_cli, path, *args) -> list[dict]:
    proc = run_cli("check", "--isolated", "--format", "json", "--select", "PRT001", *args, path)
    assert proc.returncode in (0, 1), proc.stderr
    return [f for f in json.loads(proc.stdout)["findings"] if f["rule_id"] == "PRT001"]


def _fix(run_cli, path, *args) -> str:
    proc = run_cli("fix", "--isolated", "--unsafe-fixes", "--select", "PRT001", *args, path)
    assert proc.returncode in (0, 1), proc.stderr
    return path.read_text(encoding="utf-8")


def _config(binary, folder, *args):
    """(exit code, model or None, stderr) of `docker compose config` run in the project's folder with a
    clean environment: Compose reads the folder's .env (or the --env-file given) itself."""
    proc = subprocess.run([binary, *args, "-f", "compose.yaml", "config", "--format", "json"], cwd=folder,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(folder)}, capture_output=True, timeout=60)
    model = json.loads(proc.stdout) if proc.returncode == 0 else None
    return proc.returncode, model, proc.stderr.decode("utf-8", "replace")


WEB = y("services:", "  web:", "    image: myorg/web", "    ports:", '      - "${PORT:-8080}:80"')


# --------------------------------------------------------------------------- variables in the host part

def test_a_port_variable_the_env_file_binds_already_is_left_alone(run_cli, compose_binary, tmp_path):
    """The project's .env gives PORT an address: the mapping is bound already. The old fix
    (`127.0.0.1:${PORT:-8080}:80`) made this file invalid; Compose proves both halves."""
    path = _project(tmp_path, WEB, {".env": "PORT=127.0.0.1:8080\n"})
    assert _prt001(run_cli, path) == []
    assert _fix(run_cli, path) == WEB
    code, model, err = _config(compose_binary, tmp_path)
    assert code == 0, err
    assert model["services"]["web"]["ports"][0]["host_ip"] == "127.0.0.1"
    path.write_text(WEB.replace('"${PORT', '"127.0.0.1:${PORT'), encoding="utf-8")  # what the old fix wrote
    assert _config(compose_binary, tmp_path)[0] != 0


def test_a_port_variable_the_env_file_sets_to_a_port_gets_the_loopback_fix(run_cli, compose_binary, tmp_path):
    path = _project(tmp_path, WEB, {".env": "PORT=8080\n"})
    found = _prt001(run_cli, path)
    assert [f["fix"] != "none" for f in found] == [True]
    assert _fix(run_cli, path) == WEB.replace('"${PORT', '"127.0.0.1:${PORT')
    code, model, err = _config(compose_binary, tmp_path)
    assert code == 0, err
    port = model["services"]["web"]["ports"][0]
    assert (port["host_ip"], port["published"], port["target"]) == ("127.0.0.1", "8080", 80)


def test_an_env_file_that_does_not_set_the_variable_leaves_its_default(run_cli, compose_binary, tmp_path):
    """Compose reads the same .env: a variable it does not set takes the default written in the file."""
    path = _project(tmp_path, WEB, {".env": "OTHER=1\n"})
    assert _fix(run_cli, path) == WEB.replace('"${PORT', '"127.0.0.1:${PORT')
    assert _config(compose_binary, tmp_path)[0] == 0


@pytest.mark.parametrize("port", ['"${PORT:-8080}:80"', '"${PORT}:80"', '"${HOST_PORT:-8080}:80"'])
def test_a_port_variable_nothing_here_sets_is_reported_without_a_fix(run_cli, tmp_path, port):
    """No env file: the value may come from the shell or a .env the user writes later, and may hold an
    address. A prefix could make the file invalid, so the finding explains instead."""
    text = WEB.replace('"${PORT:-8080}:80"', port)
    path = _project(tmp_path, text)
    found = _prt001(run_cli, path)
    assert len(found) == 1 and found[0]["fix"] == "none"
    assert "no env file here sets $" in found[0]["message"] and "cannot tell" in found[0]["message"]
    assert _fix(run_cli, path) == text


def test_documented_example_values_decide_when_there_is_no_env_file(run_cli, compose_binary, tmp_path):
    bound = _project(tmp_path, WEB, {".env.example": "PORT=127.0.0.1:8080\n"})
    assert _prt001(run_cli, bound) == [] and _fix(run_cli, bound) == WEB
    (tmp_path / ".env.example").write_text("PORT=8080\n# or 9090\n", encoding="utf-8")
    assert _fix(run_cli, bound) == WEB.replace('"${PORT', '"127.0.0.1:${PORT')
    assert _config(compose_binary, tmp_path)[0] == 0


def test_env_file_option_replaces_the_dotenv_as_for_compose(run_cli, compose_binary, tmp_path):
    path = _project(tmp_path, WEB, {".env": "PORT=8080\n", "prod.env": "PORT=127.0.0.1:8080\n"})
    assert _prt001(run_cli, path, "--env-file", tmp_path / "prod.env") == []
    assert _fix(run_cli, path, "--env-file", tmp_path / "prod.env") == WEB
    assert _config(compose_binary, tmp_path, "--env-file", "prod.env")[0] == 0
    missing = run_cli("check", "--isolated", "--env-file", tmp_path / "nope.env", path)
    assert missing.returncode == 2 and "--env-file" in missing.stderr and "no such file" in missing.stderr


def test_the_first_compose_file_of_a_project_says_where_dotenv_is(run_cli, tmp_path):
    """Compose reads the .env of the project folder: the first file's folder, also for a later -f file."""
    (tmp_path / "deploy").mkdir()
    base = _project(tmp_path, y("services:", "  web:", "    image: myorg/web"), {".env": "PORT=127.0.0.1:8080\n"})
    override = tmp_path / "deploy" / "ports.yaml"
    override.write_text(y("services:", "  web:", "    ports:", '      - "${PORT:-8080}:80"'), encoding="utf-8")
    args = ("check", "--isolated", "--format", "json", "--select", "PRT001", "--file", base, "--file", override)
    proc = run_cli(*args)
    assert proc.returncode == 0 and json.loads(proc.stdout)["findings"] == []
    (tmp_path / ".env").unlink()
    assert len(json.loads(run_cli(*args).stdout)["findings"]) == 1


def test_an_address_variable_that_holds_every_interface_is_reported_without_a_fix(run_cli, tmp_path):
    text = WEB.replace('"${PORT:-8080}:80"', '"${BIND_ADDR:-0.0.0.0}:8080:80"')
    found = _prt001(run_cli, _project(tmp_path, text))
    assert len(found) == 1 and found[0]["fix"] == "none" and "holds every interface" in found[0]["message"]
    path = _project(tmp_path, text, {".env": "BIND_ADDR=127.0.0.1\n"})
    assert _prt001(run_cli, path) == []


def test_long_syntax_host_ip_from_the_env_file(run_cli, tmp_path):
    text = y("services:", "  web:", "    image: myorg/web", "    ports:", "      - target: 80",
             "        published: 8080", "        host_ip: ${BIND:-127.0.0.1}")
    assert _prt001(run_cli, _project(tmp_path, text)) == []  # bound by default
    found = _prt001(run_cli, _project(tmp_path, text, {".env": "BIND=0.0.0.0\n"}))
    assert len(found) == 1 and found[0]["fix"] == "none" and "host_ip comes from a variable" in found[0]["message"]


def test_datastore_and_loopback_rules_agree_on_a_variable_port(tmp_path):
    """PRT002 (a datastore's port) writes PRT001's edit, with the same knowledge of the env files."""
    text = y("services:", "  db:", "    image: postgres:16", "    ports:", '      - "${PG_PORT:-5432}:5432"')

    def edits(rule, env):
        ctx = Context.of(parse(text), env=env)
        return [e for f in rule.check(ctx) if f.fix for e in f.fix.edits]

    known = ProjectEnv({"PG_PORT": "5432"}, read=True)
    assert edits(ports_loopback, known) == edits(datastore_ports, known) != []
    assert edits(ports_loopback, ProjectEnv()) == edits(datastore_ports, ProjectEnv()) == []
    assert edits(datastore_ports, ProjectEnv({"PG_PORT": "127.0.0.1:5432"}, read=True)) == []


def test_the_api_reads_no_env_file_and_so_fixes_no_variable_host_port():
    remaining, fixed, out = harden(WEB, unsafe_fixes=True, select="PRT001")
    assert out == WEB and fixed == [] and remaining[0].fix is None


def test_project_env_reads_env_file_option_instead_of_dotenv(tmp_path):
    (tmp_path / ".env").write_text("A=1\n", encoding="utf-8")
    (tmp_path / "x.env").write_text("B=2\n", encoding="utf-8")
    (tmp_path / "y.env").write_text("B=3\n", encoding="utf-8")
    assert dict(project_env(str(tmp_path / "compose.yaml")).dotenv) == {"A": "1"}
    chosen = project_env(str(tmp_path / "compose.yaml"), (str(tmp_path / "x.env"), str(tmp_path / "y.env")))
    assert dict(chosen.dotenv) == {"B": "3"} and chosen.read
    assert not project_env(str(tmp_path / "sub" / "compose.yaml")).read
    assert project_env("<stdin>") == ProjectEnv()


# --------------------------------------------------------------------------- ports meant to be public

@pytest.mark.parametrize("image, ports", [
    ("traefik:v3.1", ['"80:${TRAEFIK_HTTP_PORT:-80}"', '"${TRAEFIK_HTTPS_PORT:-443}:${TRAEFIK_HTTPS_PORT:-443}"']),
    ("jwilder/nginx-proxy:latest", ['"80:80"', '"443:443"']),
    ("nginxproxy/nginx-proxy:1.6", ['"80:80"', '"443:443"']),
    ("ghcr.io/nginx-proxy/nginx-proxy:1.6", ['"80:80"']),
    ("jc21/nginx-proxy-manager:latest", ['"80:80"', '"443:443"']),
    ("envoyproxy/envoy:v1.31-latest", ['"10000:10000"']),
    ("envoyproxy/envoy-distroless:v1.31-latest", ['"8080:8080"']),
    ("kong/kong-gateway:3.7", ['"8000:8000"', '"8443:8443"']),
    ("kong:3.7", ['"8000:8000"']),
    ("haproxytech/haproxy-alpine:3.0", ['"80:80"', '"443:443"']),
    ("haproxytech/haproxy-debian:3.0", ['"8080:8080"']),
    ("haproxy:3.0-alpine", ['"80:80"']),
    ("openresty/openresty:alpine", ['"80:80"', '"443:443"']),
    ("steveltn/https-portal:1", ['"80:80"', '"443:443"']),
    ("jonasal/nginx-certbot:5", ['"80:80"', '"443:443"']),
])
def test_proxies_keep_their_public_ports(run_cli, tmp_path, image, ports):
    text = y("services:", "  edge:", f"    image: {image}", "    ports:", *[f"      - {p}" for p in ports])
    path = _project(tmp_path, text)
    found = _prt001(run_cli, path)
    assert len(found) == len(ports)
    assert all(f["fix"] == "none" and f["severity"] == "low" and "is meant to serve it" in f["message"] for f in found)
    assert _fix(run_cli, path) == text


def test_a_proxys_admin_port_is_still_bound_to_loopback():
    text = y("services:", "  npm:", "    image: jc21/nginx-proxy-manager:latest", "    ports:", '      - "80:80"',
             '      - "81:81"')
    _, fixed, out = fix_text(text, "PRT001")
    assert [f.line for f in fixed] == [6] and '"127.0.0.1:81:81"' in out and '- "80:80"' in out


def test_a_proxy_variable_container_port_resolved_from_the_env_file(run_cli, tmp_path):
    """`${TRAEFIK_HTTP_PORT:-80}` is 80 by default (public); the project's .env may move it elsewhere."""
    text = y("services:", "  traefik:", "    image: traefik:v3.1", "    ports:", '      - "80:${TRAEFIK_HTTP_PORT:-80}"')
    found = _prt001(run_cli, _project(tmp_path, text, {".env": "TRAEFIK_HTTP_PORT=8081\n"}))
    assert len(found) == 1 and found[0]["severity"] == "medium" and found[0]["fix"] != "none"


# --------------------------------------------------------------------------- ports that receive from other machines

@pytest.mark.parametrize("port, what", [
    ('"514:514/udp"', "syslog"), ('"162:162/udp"', "SNMP traps"), ('"1514:1514"', "Wazuh"), ('"1515:1515"', "Wazuh"),
    ('"25:25"', "SMTP"), ('"465:465"', "SMTP"), ('"587:587"', "SMTP"), ('"53:53/udp"', "DNS"),
    ('"51820:51820/udp"', "WireGuard"), ('"1194:1194/udp"', "OpenVPN"), ('"500:500/udp"', "IPsec"),
    ('"4500:4500/udp"', "IPsec"), ('"2525:25"', "SMTP"), ('"514:5140/udp"', "syslog"),
    ("{target: 514, published: 514, protocol: udp}", "syslog"), ('"10051:10051"', "Zabbix"),
])
def test_ingest_ports_are_explained_not_bound_to_loopback(run_cli, tmp_path, port, what):
    text = y("services:", "  ingest:", "    image: myorg/collector", "    ports:", f"      - {port}")
    path = _project(tmp_path, text)
    found = _prt001(run_cli, path)
    assert len(found) == 1 and found[0]["fix"] == "none" and found[0]["severity"] == "low"
    assert what in found[0]["message"] and "receives from other machines" in found[0]["message"]
    assert _fix(run_cli, path) == text


def test_an_ordinary_port_next_to_an_ingest_port_is_still_fixed():
    text = y("services:", "  mail:", "    image: myorg/mail", "    ports:", '      - "25:25"', '      - "8080:80"')
    _, fixed, out = fix_text(text, "PRT001")
    assert [f.line for f in fixed] == [6] and '- "25:25"' in out and '"127.0.0.1:8080:80"' in out
