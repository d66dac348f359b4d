"""PRV002's safety class of issue 10: no-new-privileges is safe except where a process that is not root
raises its privileges through a setuid program (sudo, su, doas...): the flag stops exactly that. Such
services (their command, entrypoint or healthcheck calls one; or the image's knowledge says its user
does) get the same fix as unsafe, with the reason. Before/after pairs through the public API, fixed
files given to the real Compose."""
from __future__ import annotations

import pytest

from conftest import assert_fixes, fix_text, y
from hardener.images import facts


def _svc(image: str, *lines: str) -> str:
    return y("services:", "  app:", f"    image: {image}", *lines)


FLAG = ("    security_opt:", "      - no-new-privileges:true")


@pytest.mark.parametrize("lines", [
    ['    user: "1000"', '    command: ["sh", "-c", "sudo chown app /data && exec app"]'],
    ["    user: app", "    command: sh -c 'su -c \"mount -a\" root; exec app'"],
    ['    user: "1000:1000"', "    entrypoint: [/usr/bin/doas, /usr/local/bin/setup]"],
    ["    user: ${APP_UID:-1000}", "    command: /bin/sh -c 'sudo -n true && exec app'"],
    ['    user: "1000"', "    healthcheck:", '      test: ["CMD-SHELL", "sudo /usr/local/bin/probe"]'],
    ['    user: "1000"', "    command: sh -c 'rclone mount remote:x /mnt --daemon; fusermount -u /mnt'"],
    ["    command: sudo -u app app"],  # an image nothing is known about may run as another user
], ids=["sudo", "su", "doas", "variable-user", "healthcheck", "fusermount", "unknown-image"])
def test_a_service_that_raises_privileges_gets_the_flag_only_as_an_unsafe_fix(compose_check, lines):
    before = _svc("myorg/app:1.0", *lines)
    _, fixed = assert_fixes(before, before + "".join(line + "\n" for line in FLAG), rule="PRV002", unsafe=True)
    assert "no-new-privileges stops" in fixed[0].message and "setuid" in fixed[0].message
    assert compose_check(before + "".join(line + "\n" for line in FLAG))[0] == 0


@pytest.mark.parametrize("lines", [
    ['    user: "0"', '    command: ["sh", "-c", "sudo -u app app"]'],  # root needs nothing from setuid
    ["    user: root", "    command: su app -c 'exec app'"],
    ['    user: "1000"', "    command: ['sh', '-c', 'echo sudoers; exec app --su-mode --pseudo']"],  # words, not calls
    ['    user: "1000"', "    environment:", "      CMD: sudo app"],  # not run by the service itself
], ids=["root-sudo", "root-su", "not-a-call", "environment"])
def test_services_that_do_not_raise_privileges_keep_the_safe_fix(lines):
    before = _svc("myorg/app:1.0", *lines)
    _, fixed = assert_fixes(before, before + "".join(line + "\n" for line in FLAG), rule="PRV002", unsafe=False)
    assert "stops" not in fixed[0].message


def test_a_base_image_run_as_root_by_default_keeps_the_safe_fix():
    before = _svc("debian:bookworm-slim", "    command: sh -c 'su nobody -s /bin/sh -c id'")
    assert_fixes(before, before + "".join(line + "\n" for line in FLAG), rule="PRV002", unsafe=False)


@pytest.mark.parametrize("image, lines", [
    ("codercom/code-server:4.93.1", []),
    ("gitpod/workspace-full:latest", []),
    ("lscr.io/linuxserver/code-server:latest", ["    environment:", "      SUDO_PASSWORD: ${SUDO_PASSWORD}"]),
    ("zabbix/zabbix-server-pgsql:alpine-7.0-latest", []),
    ("zabbix/zabbix-server-mysql:ubuntu-6.4-latest", []),
    ("docker.io/zabbix/zabbix-proxy-sqlite3:alpine-7.0-latest", []),
], ids=["code-server", "gitpod", "linuxserver-code-server-with-sudo", "zabbix-server-pgsql",
        "zabbix-server-mysql-by-pattern", "zabbix-proxy-by-pattern"])
def test_images_whose_user_uses_sudo_by_design_get_the_unsafe_fix(image, lines):
    before = _svc(image, *lines)
    _, fixed = assert_fixes(before, before + "".join(line + "\n" for line in FLAG), rule="PRV002", unsafe=True)
    assert "sudo" in fixed[0].message


def test_zabbix_web_frontend_keeps_the_safe_fix():
    before = _svc("zabbix/zabbix-web-nginx-pgsql:alpine-7.0-latest")
    assert_fixes(before, before + "".join(line + "\n" for line in FLAG), rule="PRV002", unsafe=False)


def test_linuxserver_code_server_without_a_sudo_password_keeps_the_safe_fix():
    before = _svc("lscr.io/linuxserver/code-server:latest", "    environment:", "      TZ: UTC")
    assert_fixes(before, before + "".join(line + "\n" for line in FLAG), rule="PRV002", unsafe=False)


def test_an_existing_list_gets_the_entry_as_an_unsafe_fix_too():
    before = _svc("myorg/app", '    user: "1000"', "    command: sudo app", "    security_opt:",
                  "      - apparmor=docker-default")
    after = before + "      - no-new-privileges:true\n"
    assert_fixes(before, after, rule="PRV002", unsafe=True)


def test_the_unsafe_fix_is_not_applied_by_plain_fix():
    before = _svc("myorg/app", '    user: "1000"', "    command: sudo app")
    _, fixed, out = fix_text(before, "PRV002", unsafe=False)
    assert out == before and fixed == []


def test_the_knowledge_names_images_whose_user_raises_privileges_with_sources():
    assert facts("codercom/code-server").raises_privileges
    assert facts("linuxserver/code-server").raises_when == ("SUDO_PASSWORD", "SUDO_PASSWORD_HASH")
    assert facts("nginx").raises_privileges is None
