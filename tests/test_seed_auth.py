"""AUTH001's credentials fix (option credentials, applied by `fix --unsafe-fixes`): Postgres `trust` and
Redis without requirepass get authentication from a required variable, never a literal; the clients
whose connection strings or password variables name the server are updated; the others are named.
Through the real CLI, checked with the real `docker compose config`."""
from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

OPT_IN = "options:\n  AUTH001:\n    credentials: true\n"

STACK = """\
services:
  db:
    image: postgres:16
    environment:
      POSTGRES_DB: app
      POSTGRES_USER: app
      POSTGRES_HOST_AUTH_METHOD: trust   # local development only
    volumes:
      - pgdata:/var/lib/postgresql/data
  cache:
    image: redis:7
    ports:
      - "6379:6379"
  api:
    image: example/api:1.4
    depends_on: [db, cache]
    environment:
      DATABASE_URL: postgres://app@db:5432/app
      REDIS_URL: redis://cache:6379/0
  worker:
    image: example/worker:1.4
    env_file: worker.env
    depends_on:
      - db
volumes:
  pgdata:
"""


def project(tmp_path: Path, text: str, opt_in: bool = True) -> Path:
    (tmp_path / "compose.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    (tmp_path / "worker.env").write_text("QUEUE=default\n", encoding="utf-8")
    if opt_in:
        (tmp_path / ".hardener.yaml").write_text(OPT_IN, encoding="utf-8")
    return tmp_path / "compose.yaml"


def fix(run_cli, path: Path):
    proc = run_cli("fix", "--unsafe-fixes", "--select", "AUTH001", str(path), cwd=path.parent)
    assert proc.returncode in (0, 1), proc.stderr
    return path.read_text(encoding="utf-8")


def findings(run_cli, path: Path):
    proc = run_cli("check", "--format", "json", "--select", "AUTH001", str(path), cwd=path.parent)
    return {f["service"]: f for f in json.loads(proc.stdout)["findings"]}


def config(compose_check, text, **variables):
    """docker compose config with the variables set (compose_check runs with a clean environment)."""
    prefix = "".join(f"{k}={v}\n" for k, v in variables.items())
    import tempfile
    import subprocess
    from conftest import find_compose_binary

    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "compose.yaml").write_text(text)
        Path(tmp, "worker.env").write_text("QUEUE=default\n")
        Path(tmp, ".env").write_text(prefix)
        proc = subprocess.run([find_compose_binary(), "-f", "compose.yaml", "config", "--format", "json"], cwd=tmp,
                              env={"PATH": "/usr/bin:/bin", "HOME": tmp}, capture_output=True, text=True, timeout=60)
    return proc.returncode, json.loads(proc.stdout) if proc.returncode == 0 else None, proc.stderr


def test_postgres_trust_and_redis_get_a_required_variable(tmp_path, run_cli):
    path = project(tmp_path, STACK)
    out = fix(run_cli, path)
    assert "POSTGRES_HOST_AUTH_METHOD: scram-sha-256   # local development only" in out
    assert 'POSTGRES_PASSWORD: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"' in out
    assert "--requirepass" in out and "${REDIS_PASSWORD:?set REDIS_PASSWORD}" in out
    # never a literal: every password the fix wrote is a variable
    for line in out.splitlines():
        if re.search(r"PASSWORD", line) and line not in textwrap.dedent(STACK).splitlines():
            assert "${" in line, line
    assert '- "--requirepass"\n      - "${REDIS_PASSWORD:?set REDIS_PASSWORD}"' in out
    # the clients it can see
    assert 'DATABASE_URL: "postgres://app:${POSTGRES_PASSWORD}@db:5432/app"' in out
    assert 'REDIS_URL: "redis://default:${REDIS_PASSWORD}@cache:6379/0"' in out
    assert fix(run_cli, path) == out  # idempotent


def test_the_fixed_file_is_valid_and_needs_the_variables(tmp_path, run_cli):
    out = fix(run_cli, project(tmp_path, STACK))
    code, _, err = config(None, out)
    # compose names the first missing variable it meets (the order varies): either one
    assert code != 0 and ("set POSTGRES_PASSWORD" in err or "set REDIS_PASSWORD" in err), err
    code, parsed, err = config(None, out, POSTGRES_PASSWORD="s3cret-Pw", REDIS_PASSWORD="r3dis-Pw")
    assert code == 0, err
    db = parsed["services"]["db"]["environment"]
    assert db["POSTGRES_PASSWORD"] == "s3cret-Pw" and db["POSTGRES_HOST_AUTH_METHOD"] == "scram-sha-256"
    assert parsed["services"]["cache"]["command"] == ["redis-server", "--requirepass", "r3dis-Pw"]
    assert parsed["services"]["api"]["environment"]["DATABASE_URL"] == "postgres://app:s3cret-Pw@db:5432/app"
    assert parsed["services"]["cache"]["ports"][0]["host_ip"] == "127.0.0.1"


def test_the_message_says_what_to_do_and_names_blind_clients(tmp_path, run_cli):
    found = findings(run_cli, project(tmp_path, STACK))
    db = found["db"]["message"]
    assert "set POSTGRES_PASSWORD" in db and ".env" in db
    assert "updates api" in db and "worker" in db and "cannot see how worker connects" in db
    assert "pg_hba.conf" in db  # an existing data volume keeps trust
    assert "set REDIS_PASSWORD" in found["cache"]["message"]
    assert found["db"]["fix"] == "unsafe" and found["cache"]["fix"] == "unsafe"


def test_without_the_option_only_the_ports_are_bound(tmp_path, run_cli):
    path = project(tmp_path, STACK, opt_in=False)
    out = fix(run_cli, path)
    assert "trust" in out and "requirepass" not in out
    assert '"127.0.0.1:6379:6379"' in out


def test_list_environment_and_string_command(tmp_path, run_cli):
    text = """\
    services:
      db:
        image: postgres:13
        environment:
          - POSTGRES_HOST_AUTH_METHOD=trust
      cache:
        image: valkey/valkey:8
        command: valkey-server --appendonly yes
    """
    out = fix(run_cli, project(tmp_path, text))
    assert "- POSTGRES_HOST_AUTH_METHOD=md5" in out  # before 14, passwords are stored as md5
    assert "POSTGRES_PASSWORD=${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}" in out
    assert 'command: "valkey-server --appendonly yes --requirepass ${REDIS_PASSWORD:?set REDIS_PASSWORD}"' in out


def test_an_existing_password_is_kept(tmp_path, run_cli):
    text = """\
    services:
      db:
        image: postgres:16
        environment:
          POSTGRES_PASSWORD_FILE: /run/secrets/db_password
          POSTGRES_HOST_AUTH_METHOD: trust
        secrets: [db_password]
    secrets:
      db_password:
        file: ./db_password.txt
    """
    out = fix(run_cli, project(tmp_path, text))
    assert "POSTGRES_HOST_AUTH_METHOD: scram-sha-256" in out and "POSTGRES_PASSWORD:" not in out


def test_redis_with_a_cli_healthcheck_is_left_to_the_operator(tmp_path, run_cli):
    text = """\
    services:
      cache:
        image: redis:7
        healthcheck:
          test: ["CMD", "redis-cli", "ping"]
    """
    path = project(tmp_path, text)
    before = path.read_text()
    assert fix(run_cli, path) == before
    assert "healthcheck" in findings(run_cli, path)["cache"]["message"]
