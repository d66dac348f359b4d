"""The GitHub Action's API calls end to end: scripts/hardener-action.sh runs the real hardener and
hardener.github_review, which talks to a local HTTP server (127.0.0.1) standing in for the GitHub REST
API and recording every request. Checked: the review's request sequence and bodies (suggestions only on
lines of the pull request's diff, the rest in the summary), a re-run that keeps, withdraws and updates
instead of piling up, read-only tokens that warn and never fail, the summary comment, and the fix pull
request (a real git push to a local bare repository, then open / update)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hardener import github_review
from hardener.formats import suggestions as suggestions_format

from conftest import REPO, cli_env, put

ACTION_SCRIPT = REPO / "scripts" / "hardener-action.sh"
EXAMPLE = REPO / "examples" / "compose.yaml"
TOKEN = "ghs_test_token"


class Recorder(ThreadingHTTPServer):
    """A stand-in for api.github.com: answers from `routes` ((method, path) -> (status, json[, headers])
    or a callable taking the request) and records every request."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict = {}
        self.requests: list[dict] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def calls(self) -> list[tuple[str, str]]:
        return [(r["method"], r["path"]) for r in self.requests]


class _Handler(BaseHTTPRequestHandler):
    def _serve(self):
        parsed = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        request = {"method": self.command, "path": parsed.path, "query": dict(urllib.parse.parse_qsl(parsed.query)),
                   "body": json.loads(raw) if raw else None,
                   "headers": {k.lower(): v for k, v in self.headers.items()}}
        self.server.requests.append(request)
        route = self.server.routes.get((self.command, parsed.path), (404, {"message": "Not Found"}))
        if callable(route):
            route = route(request)
        status, payload, *rest = route
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (rest[0] if rest else {}).items():
            self.send_header(key, value.replace("{base}", self.server.url))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def log_message(self, *args):
        pass


@pytest.fixture()
def api():
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture()
def runner(tmp_path, api):
    """A fake runner: the step environment of action.yml, the real hardener of this checkout."""
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    wrapper = tmp_path / "bin" / "hardener-under-test"
    wrapper.parent.mkdir()
    wrapper.write_text(f"#!/bin/sh\nPYTHONPATH={REPO} exec {sys.executable} -m hardener \"$@\"\n")
    wrapper.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    env = cli_env()
    env.update({"HARDENER": str(wrapper), "HARDENER_PYTHON": sys.executable, "PYTHON": sys.executable,
                "GITHUB_OUTPUT": str(tmp_path / "output"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
                "RUNNER_TEMP": str(tmp_path), "GITHUB_REPOSITORY": "octo/shop", "GITHUB_API_URL": api.url,
                "GH_TOKEN": TOKEN})
    for key in ("GITHUB_TOKEN", "GIT_DIR", "GIT_WORK_TREE"):
        env.pop(key, None)
    return env, work, tmp_path


def step(runner, sub, **extra) -> subprocess.CompletedProcess:
    env, work, _ = runner
    e = {**env, **{k: str(v) for k, v in extra.items()}}
    return subprocess.run(["bash", str(ACTION_SCRIPT), sub], cwd=work, env=e, capture_output=True, text=True,
                          timeout=300)


def outputs(runner) -> dict:
    path = runner[2] / "output"
    return dict(line.split("=", 1) for line in path.read_text().splitlines()) if path.exists() else {}


def pr_patch(first: int, last: int, text: str) -> str:
    """A pull request's patch that added lines first..last of the file (as GitHub lists it)."""
    lines = text.splitlines()[first - 1:last]
    return f"@@ -{first},0 +{first},{last - first + 1} @@\n" + "\n".join("+" + line for line in lines)


def serve_pull_request(api, text: str, first: int, last: int):
    repo = "/repos/octo/shop"
    api.routes[("GET", f"{repo}/pulls/7")] = (200, {"number": 7, "head": {"sha": "c0ffee"}, "base": {"ref": "main"}})
    # the files list comes in two pages, as GitHub paginates it (Link: rel="next")
    api.routes[("GET", f"{repo}/pulls/7/files")] = lambda req: (
        (200, [{"filename": "README.md", "patch": "@@ -1 +1 @@\n-a\n+b"}],
         {"Link": '<{base}/repos/octo/shop/pulls/7/files?page=2&per_page=100>; rel="next"'})
        if req["query"].get("page") != "2" else
        (200, [{"filename": "compose.yaml", "patch": pr_patch(first, last, text)}]))
    api.routes[("GET", f"{repo}/pulls/7/comments")] = (200, [])
    api.routes[("GET", f"{repo}/pulls/7/reviews")] = (200, [])
    api.routes[("POST", f"{repo}/pulls/7/reviews")] = (200, {"id": 501})


def checked(runner, **inputs) -> dict:
    proc = step(runner, "check", INPUT_PATCH="unsafe", INPUT_SUMMARY="false", **inputs)
    assert proc.returncode == 0, proc.stderr
    return outputs(runner)


# --------------------------------------------------------------------------- the review

def test_review_request_sequence_and_bodies(runner, api):
    env, work, _ = runner
    text = EXAMPLE.read_text()
    put(work, "compose.yaml", text)
    out = checked(runner, INPUT_REVIEW="true")
    data = json.loads(Path(out["suggestions-file"]).read_text())
    items = data["suggestions"]
    first, last = 1, 20  # the pull request touched these lines
    serve_pull_request(api, text, first, last)
    proc = step(runner, "review", PR_NUMBER=7, SUGGESTIONS_FILE=out["suggestions-file"])
    assert proc.returncode == 0 and "::warning::" not in proc.stderr, proc.stderr
    assert api.calls() == [("GET", "/repos/octo/shop/pulls/7"), ("GET", "/repos/octo/shop/pulls/7/files"),
                           ("GET", "/repos/octo/shop/pulls/7/files"), ("GET", "/repos/octo/shop/pulls/7/comments"),
                           ("GET", "/repos/octo/shop/pulls/7/reviews"), ("POST", "/repos/octo/shop/pulls/7/reviews")]
    for r in api.requests:
        assert r["headers"]["authorization"] == f"Bearer {TOKEN}"
        assert r["headers"]["accept"] == "application/vnd.github+json"
        assert r["headers"]["x-github-api-version"] == github_review.API_VERSION
    posted = api.requests[-1]["body"]
    inside = [s for s in items if first <= s["start_line"] and s["end_line"] <= last]
    outside = [s for s in items if s not in inside]
    assert inside and outside, "the example must have suggestions on and off the diff"
    assert posted["commit_id"] == "c0ffee" and posted["event"] == "COMMENT"
    assert len(posted["comments"]) == len(inside)
    for comment, s in zip(posted["comments"], inside):
        assert comment["path"] == "compose.yaml" and comment["side"] == "RIGHT"
        assert comment["line"] == s["end_line"]
        assert comment.get("start_line", s["start_line"]) == s["start_line"]
        assert ("start_line" in comment) == (s["end_line"] > s["start_line"])
        assert comment["body"] == github_review.SUGGESTION_MARKER + "\n" + s["body"]
        assert "```suggestion\n" in comment["body"]
    summary = posted["body"]
    assert summary.startswith(github_review.REVIEW_MARKER)
    assert f"**{len(outside)} more change" in summary and summary.count("```diff") == len(outside)
    # accepting every inline suggestion and applying the summary's hunks gives `hardener fix`'s text
    fixed = subprocess.run([env["HARDENER"], "fix", "--unsafe-fixes", "-"], input=text, capture_output=True,
                           text=True, cwd=work, env=env, timeout=120).stdout
    assert suggestions_format.apply(text, items) == fixed


def test_review_rerun_keeps_withdraws_and_updates(runner, api):
    env, work, _ = runner
    text = EXAMPLE.read_text()
    put(work, "compose.yaml", text)
    out = checked(runner, INPUT_REVIEW="true")
    serve_pull_request(api, text, 1, 20)
    assert step(runner, "review", PR_NUMBER=7, SUGGESTIONS_FILE=out["suggestions-file"]).returncode == 0
    posted = api.requests[-1]["body"]["comments"]
    # the second run finds what the first posted, plus a comment whose suggestion is gone
    existing = [{**c, "id": 900 + i, "start_line": c.get("start_line")} for i, c in enumerate(posted)]
    stale = {"id": 999, "path": "compose.yaml", "line": 3, "start_line": None,
             "body": github_review.SUGGESTION_MARKER + "\nold\n\n```suggestion\nx\n```\n"}
    repo = "/repos/octo/shop"
    api.routes[("GET", f"{repo}/pulls/7/comments")] = (200, existing + [stale, {"id": 5, "body": "a human's"}])
    api.routes[("GET", f"{repo}/pulls/7/reviews")] = (200, [{"id": 501, "body": github_review.REVIEW_MARKER + "\nold"},
                                                            {"id": 502, "body": "LGTM"}])
    api.routes[("PATCH", f"{repo}/pulls/comments/999")] = (200, {"id": 999})
    api.routes[("PUT", f"{repo}/pulls/7/reviews/501")] = (200, {"id": 501})
    api.requests.clear()
    proc = step(runner, "review", PR_NUMBER=7, SUGGESTIONS_FILE=out["suggestions-file"])
    assert proc.returncode == 0 and "::warning::" not in proc.stderr, proc.stderr
    writes = [(r["method"], r["path"]) for r in api.requests if r["method"] != "GET"]
    assert writes == [("PATCH", f"{repo}/pulls/comments/999"), ("PUT", f"{repo}/pulls/7/reviews/501")], \
        "nothing new: the stale suggestion is withdrawn and the earlier review updated, no second review"
    withdrawn = next(r for r in api.requests if r["method"] == "PATCH")["body"]["body"]
    assert "**Resolved.**" in withdrawn and "```suggestion" not in withdrawn
    assert "1 earlier one withdrawn" in api.requests[-1]["body"]["body"]


def test_read_only_token_warns_and_never_fails(runner, api):
    env, work, _ = runner
    text = EXAMPLE.read_text()
    put(work, "compose.yaml", text)
    out = checked(runner, INPUT_REVIEW="true")
    serve_pull_request(api, text, 1, 20)
    api.routes[("POST", "/repos/octo/shop/pulls/7/reviews")] = (403, {"message": "Resource not accessible by integration"})
    proc = step(runner, "review", PR_NUMBER=7, SUGGESTIONS_FILE=out["suggestions-file"])
    assert proc.returncode == 0
    assert re.search(r"^::warning::hardener: review: POST .* HTTP 403 Resource not accessible by integration"
                     r" \(a read-only token", proc.stderr, re.M), proc.stderr
    api.routes[("GET", "/repos/octo/shop/issues/7/comments")] = (200, [])
    api.routes[("POST", "/repos/octo/shop/issues/7/comments")] = (403, {"message": "Forbidden"})
    report = put(work, "report.md", "<!-- hardener-report -->\nhi\n")
    proc = step(runner, "comment", PR_NUMBER=7, MARKDOWN_FILE=report)
    assert proc.returncode == 0 and "::warning::hardener: comment: POST" in proc.stderr
    # an API that does not answer at all: a warning too
    proc = step(runner, "comment", PR_NUMBER=7, MARKDOWN_FILE=report, GITHUB_API_URL="http://127.0.0.1:9")
    assert proc.returncode == 0 and "::warning::hardener: comment:" in proc.stderr


def test_review_without_pull_request_or_suggestions_does_nothing(runner, api):
    assert "not a pull request" in step(runner, "review", PR_NUMBER="").stderr
    assert "no suggestions" in step(runner, "review", PR_NUMBER=7, SUGGESTIONS_FILE="").stderr
    assert api.requests == []


def test_diff_hunks_follow_githubs_positions():
    patch = "@@ -1,3 +1,4 @@\n a\n-b\n+c\n+d\n e\n@@ -10,2 +11,2 @@\n x\n-y\n+z\n\\ No newline at end of file"
    assert github_review.diff_hunks(patch) == [{1, 2, 3, 4}, {11, 12}]
    hunks = {"f": github_review.diff_hunks(patch)}
    assert github_review.placeable({"file": "f", "start_line": 2, "end_line": 4}, hunks)
    assert not github_review.placeable({"file": "f", "start_line": 4, "end_line": 11}, hunks), "spans two hunks"
    assert not github_review.placeable({"file": "g", "start_line": 1, "end_line": 1}, hunks)


# --------------------------------------------------------------------------- the summary comment

def test_comment_posts_then_updates(runner, api):
    env, work, tmp = runner
    report = put(tmp, "report.md", "<!-- hardener-report -->\n## hardener: 1 finding\n")
    repo = "/repos/octo/shop"
    api.routes[("GET", f"{repo}/issues/7/comments")] = (200, [{"id": 1, "body": "a human's"}])
    api.routes[("POST", f"{repo}/issues/7/comments")] = (201, {"id": 4242})
    proc = step(runner, "comment", PR_NUMBER=7, MARKDOWN_FILE=report)
    assert proc.returncode == 0 and "posted" in proc.stderr, proc.stderr
    assert api.calls() == [("GET", f"{repo}/issues/7/comments"), ("POST", f"{repo}/issues/7/comments")]
    assert api.requests[-1]["body"] == {"body": report.read_text()}
    api.requests.clear()
    api.routes[("GET", f"{repo}/issues/7/comments")] = (200, [{"id": 1, "body": "x"},
                                                              {"id": 4242, "body": "<!-- hardener-report -->\nold"}])
    api.routes[("PATCH", f"{repo}/issues/comments/4242")] = (200, {"id": 4242})
    assert step(runner, "comment", PR_NUMBER=7, MARKDOWN_FILE=report).returncode == 0
    assert api.calls() == [("GET", f"{repo}/issues/7/comments"), ("PATCH", f"{repo}/issues/comments/4242")]
    api.requests.clear()
    no_pr = step(runner, "comment", PR_NUMBER="", MARKDOWN_FILE=report)
    assert no_pr.returncode == 0 and "not a pull request" in no_pr.stderr and api.requests == []


# --------------------------------------------------------------------------- the fix pull request

def git(*args, cwd) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                          env={**cli_env(), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
                               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_fix_pull_request_is_pushed_then_opened_then_updated(runner, api, tmp_path):
    env, work, _ = runner
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", "-b", "main", str(origin), cwd=tmp_path)
    git("init", "-q", "-b", "main", cwd=work)
    put(work, "compose.yaml", EXAMPLE.read_text())
    git("add", "compose.yaml", cwd=work)
    git("commit", "-q", "-m", "stack", cwd=work)
    git("remote", "add", "origin", str(origin), cwd=work)
    git("push", "-q", "origin", "main", cwd=work)
    out = checked(runner, INPUT_FIX_PR="true")
    report = Path(out["markdown-file"]).read_text()
    repo = "/repos/octo/shop"
    api.routes[("GET", f"{repo}/pulls")] = (200, [])
    api.routes[("POST", f"{repo}/pulls")] = (201, {"number": 9})
    proc = step(runner, "fixpr", MARKDOWN_FILE=out["markdown-file"], BASE_BRANCH="main", FIX_BRANCH="hardener/fix",
                INPUT_PATCH="unsafe", GIT_AUTHOR_NAME="bot", GIT_AUTHOR_EMAIL="bot@example.org",
                GIT_COMMITTER_NAME="bot", GIT_COMMITTER_EMAIL="bot@example.org")
    assert proc.returncode == 0 and "opened #9" in proc.stderr, proc.stderr
    assert api.calls() == [("GET", f"{repo}/pulls"), ("POST", f"{repo}/pulls")]
    assert api.requests[0]["query"] == {"head": "octo:hardener/fix", "state": "open", "per_page": "100"}
    body = api.requests[1]["body"]
    assert body["head"] == "hardener/fix" and body["base"] == "main" and body["body"] == report
    # the branch holds `hardener fix --unsafe-fixes` of the file; the checkout is back on main, untouched
    pushed = git("show", "hardener/fix:compose.yaml", cwd=origin)
    fixed = subprocess.run([env["HARDENER"], "fix", "--unsafe-fixes", "-"], input=EXAMPLE.read_text(),
                           capture_output=True, text=True, env=env, timeout=120).stdout
    assert pushed == fixed != EXAMPLE.read_text()
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=work).strip() == "main"
    assert (work / "compose.yaml").read_text() == EXAMPLE.read_text()
    # a second run updates the open pull request instead of opening another
    api.requests.clear()
    api.routes[("GET", f"{repo}/pulls")] = (200, [{"number": 9}])
    api.routes[("PATCH", f"{repo}/pulls/9")] = (200, {"number": 9})
    proc = step(runner, "fixpr", MARKDOWN_FILE=out["markdown-file"], BASE_BRANCH="main", INPUT_PATCH="unsafe")
    assert proc.returncode == 0 and "updated #9" in proc.stderr, proc.stderr
    assert api.calls() == [("GET", f"{repo}/pulls"), ("PATCH", f"{repo}/pulls/9")]


def test_action_yml_wires_review_and_fix_pr():
    from ruamel.yaml import YAML

    action = YAML(typ="safe").load((REPO / "action.yml").read_text())
    assert action["inputs"]["review"]["default"] == "false" and action["inputs"]["fix-pr"]["default"] == "false"
    steps = {s.get("name"): s for s in action["runs"]["steps"]}
    assert steps["Review the pull request"]["run"].endswith("hardener-action.sh\" review")
    assert steps["Open or update the fix pull request"]["run"].endswith("hardener-action.sh\" fixpr")
    readme = (REPO / "README.md").read_text()
    assert "local HTTP server" in readme and "recording" in readme
    assert action["inputs"]["verify"]["default"] == "false" and action["inputs"]["verify-required"]["default"] == "false"
    check_env = steps["Check compose files"]["env"]
    assert check_env["INPUT_VERIFY"] == "${{ inputs.verify }}" and check_env["INPUT_VERIFY_ARGS"] == "${{ inputs.verify-args }}"
    assert steps["Verdict"]["env"]["VERIFY_EXIT"] == "${{ steps.check.outputs.verify-exit-code }}"
    assert steps["Verdict"]["env"]["VERIFY_REQUIRED"] == "${{ inputs.verify-required }}"


@pytest.mark.parametrize("fail_on, code", [("", "1"), ("critical", "0")])
def test_fail_on_input_sets_the_exit_code_not_the_report(runner, fail_on, code):
    """The example stack has findings up to high severity: with fail-on critical the check passes, and
    the SARIF report still holds every finding."""
    env, work, tmp = runner
    shutil.copy(EXAMPLE, work / "compose.yaml")
    proc = step(runner, "check", INPUT_PATHS="compose.yaml", INPUT_FAIL_ON=fail_on)
    assert proc.returncode == 0, proc.stderr
    outputs = dict(line.split("=", 1) for line in (tmp / "output").read_text().splitlines())
    assert outputs["exit-code"] == code
    assert int(outputs["findings"]) > 10


# --------------------------------------------------------------------------- verify: true

SMALL_STACK = "services:\n  cache:\n    image: redis:7\n  web:\n    image: nginx:1.27\n"
# merged at run time only (verify-args): healthchecks that prove each server serves
SMALL_RUNTIME = ("services:\n  cache:\n    healthcheck:\n      test: [CMD, redis-cli, ping]\n      interval: 2s\n"
                 "      retries: 15\n  web:\n    healthcheck:\n"
                 "      test: [CMD, curl, -fsS, -o, /dev/null, http://127.0.0.1/]\n      interval: 2s\n      retries: 15\n")


def test_verify_without_an_engine_says_so_in_the_comment_and_does_not_fail_the_job(runner, api, tmp_path):
    """The runner has no Docker engine: the check step still succeeds, the Markdown report (posted as the
    comment) says the patch was not started and why, and only verify-required makes the job fail."""
    env, work, tmp = runner
    put(work, "compose.yaml", SMALL_STACK)
    no_engine = f"unix://{tmp_path}/no-engine.sock"
    proc = step(runner, "check", INPUT_VERIFY="true", INPUT_COMMENT="true", INPUT_SUMMARY="true", DOCKER_HOST=no_engine)
    assert proc.returncode == 0, proc.stderr
    out = outputs(runner)
    assert out["verify-exit-code"] == "2"
    doc = json.loads(Path(out["verification-file"]).read_text())
    assert doc["result"] == "error" and doc["error"].startswith(f"no Docker engine answers at {no_engine}")
    assert f"::warning::hardener: the verification could not run: no Docker engine answers at {no_engine}" in proc.stderr
    markdown = Path(out["markdown-file"]).read_text()
    assert ("**The proposed patch was not started: verification could not run.** no Docker engine answers at "
            in markdown)
    assert markdown in (tmp / "summary").read_text()
    repo = "/repos/octo/shop"
    api.routes[("GET", f"{repo}/issues/7/comments")] = (200, [])
    api.routes[("POST", f"{repo}/issues/7/comments")] = (201, {"id": 77})
    assert step(runner, "comment", PR_NUMBER=7, MARKDOWN_FILE=out["markdown-file"]).returncode == 0
    assert "verification could not run" in api.requests[-1]["body"]["body"]
    # the verdict: findings do not fail here (fail-on-findings false); the verification only when required
    quiet = step(runner, "verdict", HARDENER_EXIT=1, FAIL_ON_FINDINGS="false", VERIFY_EXIT=2)
    assert quiet.returncode == 0, quiet.stderr
    required = step(runner, "verdict", HARDENER_EXIT=1, FAIL_ON_FINDINGS="false", VERIFY_EXIT=2, VERIFY_REQUIRED="true")
    assert required.returncode == 1
    assert "::error::hardener: the verification could not run (verify-required; exit code 2)" in required.stderr
    regression = step(runner, "verdict", HARDENER_EXIT=0, VERIFY_EXIT=1, VERIFY_REQUIRED="true")
    assert regression.returncode == 1 and "the proposed patch stops a service" in regression.stderr
    assert step(runner, "verdict", HARDENER_EXIT=0, VERIFY_EXIT=0, VERIFY_REQUIRED="true").returncode == 0


def test_verify_needs_one_project(runner, tmp_path):
    env, work, _ = runner
    put(work, "a/compose.yaml", SMALL_STACK)
    put(work, "b/compose.yaml", SMALL_STACK)
    proc = step(runner, "check", INPUT_PATHS="a b", INPUT_VERIFY="true", INPUT_SUMMARY="true",
                DOCKER_HOST=f"unix://{tmp_path}/none.sock")
    assert proc.returncode == 0, proc.stderr
    out = outputs(runner)
    assert out["verify-exit-code"] == "2"
    assert "verify takes one project, and paths names 2" in Path(out["markdown-file"]).read_text()


def test_without_verify_nothing_is_started_or_said(runner):
    env, work, _ = runner
    put(work, "compose.yaml", SMALL_STACK)
    proc = step(runner, "check", INPUT_SUMMARY="true", DOCKER_HOST="unix:///nonexistent.sock")
    assert proc.returncode == 0, proc.stderr
    out = outputs(runner)
    assert "verify-exit-code" not in out and "verification-file" not in out
    assert "Verification" not in Path(out["markdown-file"]).read_text()


@pytest.mark.runtime
def test_verify_on_a_real_engine_reports_the_patch_started_healthy(runner, api):
    """The Action with verify: true on the runner's engine: the proposed (unsafe) patch is started next to
    the stack as written, and the pull-request comment says every service was healthy with it."""
    from hardener.runtime.engine_api import Engine, EngineError

    host = os.environ.get("DOCKER_HOST") or "unix:///var/tmp/hardener-engine/docker.sock"
    try:
        engine = Engine(host, timeout=5)
        engine.ping()
    except EngineError as exc:
        (pytest.fail if os.environ.get("HARDENER_REQUIRE_ENGINE") else pytest.skip)(f"no Docker engine: {exc}")
    if not (engine.image_present("redis:7") and engine.image_present("nginx:1.27")):
        pytest.skip("stand-in images missing: run ../shared/runtime/build-images.sh")
    env, work, tmp = runner
    put(work, "compose.yaml", SMALL_STACK)
    put(work, "ci/runtime.yaml", SMALL_RUNTIME)
    prefix = f"action-verify-{os.getpid()}"
    proc = step(runner, "check", INPUT_VERIFY="true", INPUT_PATCH="unsafe", INPUT_COMMENT="true", INPUT_SUMMARY="false",
                INPUT_VERIFY_ARGS=f"--runtime-file {work}/ci/runtime.yaml --timeout 90 --settle 3",
                DOCKER_HOST=host, HARDENER_VERIFY_PREFIX=prefix)
    assert proc.returncode == 0, proc.stderr
    out = outputs(runner)
    assert out["verify-exit-code"] == "0", proc.stderr
    assert "hardener: the patch was started: every service that works as written works with it" in proc.stderr
    doc = json.loads(Path(out["verification-file"]).read_text())
    assert doc["unsafe_fixes"] and {s["hardened"]["state"] for s in doc["services"]} == {"healthy"}
    repo = "/repos/octo/shop"
    api.routes[("GET", f"{repo}/issues/7/comments")] = (200, [])
    api.routes[("POST", f"{repo}/issues/7/comments")] = (201, {"id": 78})
    assert step(runner, "comment", PR_NUMBER=7, MARKDOWN_FILE=out["markdown-file"]).returncode == 0
    body = api.requests[-1]["body"]["body"]
    assert "\u2705 **2 services healthy with this patch.**" in body
    assert "as `hardener fix --unsafe-fixes` writes it" in body and "not the patch proposed" not in body
    assert "| `web` | healthy | healthy | ok |" in body
    leftover = [c["Names"][0] for c in engine._json("/containers/json", {"all": "1"})
                if any(n.lstrip("/").startswith(prefix) for n in c["Names"])]
    assert leftover == []


def test_verify_that_stops_without_a_report_counts_as_not_run(runner, tmp_path):
    """A verify that dies without writing its JSON (here: a hardener command that only exits 1) leaves an
    error document, exit code 2 and the could-not-run warning, never a claimed regression."""
    env, work, _ = runner
    put(work, "compose.yaml", SMALL_STACK)
    real = env["HARDENER"]
    broken = tmp_path / "bin" / "hardener-dies-on-verify"
    broken.write_text(f'#!/bin/sh\n[ "$1" = verify ] && exit 1\nexec {real} "$@"\n')
    broken.chmod(0o755)
    proc = step(runner, "check", INPUT_VERIFY="true", INPUT_SUMMARY="true", HARDENER=broken)
    assert proc.returncode == 0, proc.stderr
    out = outputs(runner)
    assert out["verify-exit-code"] == "2"
    assert "::warning::hardener: the verification could not run: hardener verify exited with code 1 without a report" \
        in proc.stderr
    assert "the patch stops a service" not in proc.stderr
    assert "verification could not run.** hardener verify exited with code 1" in Path(out["markdown-file"]).read_text()
