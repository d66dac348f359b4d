"""NET001 segments a back end that publishes a port too: the datastore and its clients get a back-end
network of their own (not internal while a port is published, since Docker publishes no port of a
container only on internal networks), unrelated services stay on `default` and lose their way in.
Through the real CLI, checked with the real `docker compose config`."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

PROJECT = """\
x-app: &app
  image: example/app:3.2
  environment:
    DATABASE_URL: postgres://app:${DB_PASSWORD}@db:5432/app
  restart: unless-stopped

services:
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: ${DB_PASSWORD:?set DB_PASSWORD}
    ports:
      - "${DB_PORT:-5432}:5432"
  web:
    <<: *app
    command: serve
  jobs:
    <<: *app
    command: work
  node-exporter:  # hardener: ignore
    image: prom/node-exporter:v1.8.2
    ports:
      - "9100:9100"
  proxy:
    image: nginx:1.27
    ports:
      - "80:80"
"""


def fix(run_cli, tmp_path: Path, text: str) -> str:
    path = tmp_path / "compose.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    proc = run_cli("fix", "--unsafe-fixes", "--select", "NET001", str(path), cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    return path.read_text(encoding="utf-8")


def networks_of(parsed, service):
    return set(parsed["services"][service].get("networks") or {"default": None})


def test_a_database_that_publishes_its_port_gets_a_network_with_its_clients(tmp_path, run_cli, compose_check):
    out = fix(run_cli, tmp_path, PROJECT)
    code, parsed, err = compose_check(out.replace("${DB_PASSWORD:?set DB_PASSWORD}", "x"))
    assert code == 0, err
    assert networks_of(parsed, "db") == {"backend"}
    assert networks_of(parsed, "web") == networks_of(parsed, "jobs") == {"default", "backend"}
    assert networks_of(parsed, "node-exporter") == networks_of(parsed, "proxy") == {"default"}
    assert parsed["networks"]["backend"].get("internal") is not True  # the port must keep working
    assert parsed["services"]["db"]["ports"][0]["published"] == "5432"
    assert "  node-exporter:  # hardener: ignore\n    image: prom/node-exporter:v1.8.2\n    ports:\n" \
           "      - \"9100:9100\"\n  proxy:" in out  # the silenced service is not touched
    assert "x-app: &app\n  image: example/app:3.2\n" in out  # nor the anchor
    again = fix(run_cli, tmp_path, out)
    assert again == out


def test_the_fix_says_why_the_network_is_not_internal(tmp_path, run_cli):
    path = tmp_path / "compose.yaml"
    path.write_text(PROJECT, encoding="utf-8")
    proc = run_cli("check", "--format", "json", "--select", "NET001", str(path), cwd=tmp_path)
    (finding,) = [f for f in json.loads(proc.stdout)["findings"] if f["service"] == "db"]
    assert finding["fix"] == "unsafe"
    assert "only web, jobs talk to it" in finding["message"]
    assert "not internal: db publishes a port" in finding["fix_description"]


def test_without_a_published_port_the_network_stays_internal(tmp_path, run_cli, compose_check):
    out = fix(run_cli, tmp_path, PROJECT.replace('    ports:\n      - "${DB_PORT:-5432}:5432"\n', ""))
    code, parsed, err = compose_check(out.replace("${DB_PASSWORD:?set DB_PASSWORD}", "x"))
    assert code == 0, err
    assert parsed["networks"]["backend"]["internal"] is True
    assert networks_of(parsed, "db") == {"backend"}
