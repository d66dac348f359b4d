"""A small client of the Docker Engine API (the standard library's http.client over the unix socket or a
plain tcp address): what `verify` needs to read about the containers it started (state, health,
restarts, logs) and whether an image is present. It never creates or removes anything: the `docker
compose` CLI does that, under project names this package made up."""
from __future__ import annotations

import http.client
import json
import os
import socket
import urllib.parse

DEFAULT_HOST = "unix:///var/run/docker.sock"
API = "/v1.41"  # Docker Engine 20.10 and later


class EngineError(Exception):
    """The engine could not be reached or answered with an error."""


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def engine_host(environ=None) -> str:
    """The engine address the Docker tools would use: DOCKER_HOST, else the default socket."""
    return (environ if environ is not None else os.environ).get("DOCKER_HOST") or DEFAULT_HOST


class Engine:
    def __init__(self, host: str | None = None, timeout: float = 15.0):
        self.host = host or engine_host()
        self.timeout = timeout
        parsed = urllib.parse.urlsplit(self.host)
        if parsed.scheme == "unix":
            self._connect = lambda: _UnixConnection(parsed.path, self.timeout)
        elif parsed.scheme in ("tcp", "http"):
            if os.environ.get("DOCKER_TLS_VERIFY"):
                raise EngineError(f"{self.host}: TLS connections to the engine are not supported by verify")
            port = parsed.port or 2375
            self._connect = lambda: http.client.HTTPConnection(parsed.hostname, port, timeout=self.timeout)
        else:
            raise EngineError(f"{self.host}: unsupported DOCKER_HOST scheme (unix:// or tcp:// are)")

    def _request(self, method: str, path: str, query: dict | None = None) -> tuple[int, bytes]:
        url = API + path + ("?" + urllib.parse.urlencode(query) if query else "")
        conn = self._connect()
        try:
            conn.request(method, url, headers={"Host": "docker"})
            resp = conn.getresponse()
            return resp.status, resp.read()
        except (OSError, http.client.HTTPException) as exc:
            raise EngineError(f"no Docker engine answers at {self.host}: {exc}") from None
        finally:
            conn.close()

    def _json(self, path: str, query: dict | None = None, missing_ok: bool = False):
        status, body = self._request("GET", path, query)
        if status == 404 and missing_ok:
            return None
        if status >= 400:
            raise EngineError(f"engine: GET {path}: {status} {_message(body)}")
        return json.loads(body)

    def ping(self) -> str:
        """The engine's version; raises EngineError when nothing answers."""
        status, body = self._request("GET", "/_ping")
        if status != 200:
            raise EngineError(f"no Docker engine answers at {self.host}: {status} {_message(body)}")
        return (self._json("/version") or {}).get("Version", "")

    def image_present(self, name: str) -> bool:
        return self._json(f"/images/{urllib.parse.quote(name, safe='')}/json", missing_ok=True) is not None

    def image_id(self, name: str) -> str | None:
        data = self._json(f"/images/{urllib.parse.quote(name, safe='')}/json", missing_ok=True)
        return data.get("Id") if data else None

    def project_containers(self, project: str) -> list[dict]:
        """Every container (running or not) of a compose project, by its label."""
        filters = json.dumps({"label": [f"com.docker.compose.project={project}"]})
        return self._json("/containers/json", {"all": "1", "filters": filters}) or []

    def project_resources(self, project: str) -> list[dict]:
        """The containers, networks and volumes a compose project's label names (what `down -v` removes)."""
        filters = json.dumps({"label": [f"com.docker.compose.project={project}"]})
        found = list(self._json("/containers/json", {"all": "1", "filters": filters}) or [])
        found += list(self._json("/networks", {"filters": filters}) or [])
        found += list((self._json("/volumes", {"filters": filters}) or {}).get("Volumes") or [])
        return found

    def inspect(self, container_id: str) -> dict | None:
        return self._json(f"/containers/{container_id}/json", missing_ok=True)

    def stats(self, container_id: str) -> dict | None:
        """One sample of a container's resource use (memory, pids, cpu), without waiting for a second."""
        return self._json(f"/containers/{container_id}/stats", {"stream": "false", "one-shot": "true"},
                          missing_ok=True)

    def changes(self, container_id: str) -> list[dict]:
        """What the container changed in its own filesystem (`docker diff`): [{Path, Kind}], Kind 0
        changed, 1 added, 2 deleted."""
        return self._json(f"/containers/{container_id}/changes", missing_ok=True) or []

    def top(self, container_id: str, ps_args: str = "-o pid,ppid,uid,gid,comm") -> dict:
        """The container's processes as `ps` on the engine's host lists them: {Titles, Processes}."""
        return self._json(f"/containers/{container_id}/top", {"ps_args": ps_args}, missing_ok=True) or {}

    def archive(self, container_id: str, path: str, limit: int = 8 << 20) -> bytes | None:
        """A tar of a path in the container (what is there now, image files included), or None when
        it is missing or bigger than `limit` bytes."""
        url = f"/containers/{container_id}/archive"
        conn = self._connect()
        try:
            conn.request("GET", API + url + "?" + urllib.parse.urlencode({"path": path}), headers={"Host": "docker"})
            resp = conn.getresponse()
            if resp.status != 200:
                return None
            data = resp.read(limit + 1)
            return None if len(data) > limit else data
        except (OSError, http.client.HTTPException) as exc:
            raise EngineError(f"no Docker engine answers at {self.host}: {exc}") from None
        finally:
            conn.close()

    def image(self, name: str) -> dict | None:
        return self._json(f"/images/{urllib.parse.quote(name, safe='')}/json", missing_ok=True)

    def logs(self, container_id: str, tail: int = 60) -> list[str]:
        """The last lines of a container's output (stdout and stderr)."""
        status, body = self._request("GET", f"/containers/{container_id}/logs",
                                     {"stdout": "1", "stderr": "1", "tail": str(tail)})
        if status >= 400:
            return []
        return demux(body).decode("utf-8", "replace").splitlines()


def demux(body: bytes) -> bytes:
    """The payload of a log stream: without a TTY the engine frames each chunk with an 8-byte header
    (stream, 0, 0, 0, big-endian length); with a TTY the bytes come as they are."""
    if not body or body[0] not in (0, 1, 2) or body[1:4] != b"\0\0\0":
        return body
    out, i = bytearray(), 0
    while i + 8 <= len(body):
        size = int.from_bytes(body[i + 4:i + 8], "big")
        out += body[i + 8:i + 8 + size]
        i += 8 + size
    return bytes(out)


def _message(body: bytes) -> str:
    try:
        return json.loads(body).get("message", "")
    except (ValueError, AttributeError):
        return body[:200].decode("utf-8", "replace").strip()
