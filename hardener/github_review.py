"""The GitHub REST calls of the Action (scripts/hardener-action.sh): the pull-request review with one
```suggestion per hunk, the summary comment, and the fix pull request. Standard library only (urllib);
the API base URL comes from GITHUB_API_URL (GitHub Enterprise, or a local test server).

    python -m hardener.github_review review    # SUGGESTIONS_FILE -> a review on PR_NUMBER
    python -m hardener.github_review comment   # MARKDOWN_FILE -> the summary comment, updated in place
    python -m hardener.github_review fix-pr    # MARKDOWN_FILE -> the body of one PR from FIX_BRANCH

Environment: GITHUB_API_URL (default https://api.github.com), GITHUB_REPOSITORY (owner/name),
GH_TOKEN or GITHUB_TOKEN, PR_NUMBER (review, comment), SUGGESTIONS_FILE (review: the output of
`hardener check --format suggestions`), MARKDOWN_FILE, FIX_BRANCH and BASE_BRANCH (fix-pr).

The review
----------
GitHub accepts a review comment only on a line of the pull request's diff (an added or a context line
of the new side, all lines of a multi-line comment in one hunk). Each suggestion whose lines are all
in one hunk of its file's diff becomes a review comment with a ```suggestion block (one click applies
it); the others go into the review's summary as ```diff blocks. A re-run does not pile up: a
comment of the earlier run that is proposed again unchanged stays as it is; one that is no longer
proposed is edited to say so (its suggestion removed, so it cannot be applied any more); a new review
is posted only when there is something new, and otherwise the earlier review's summary is updated.

Tokens that may not write (pull requests from forks get read-only tokens) and any API or network
failure give a `::warning::` line and exit code 0: this step never fails the job.
"""
from __future__ import annotations

import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

REVIEW_MARKER = "<!-- hardener-review -->"
SUGGESTION_MARKER = "<!-- hardener-suggestion -->"
COMMENT_MARKER = "<!-- hardener-report -->"
MAX_BODY = 65_000  # GitHub refuses bodies over 65,536 characters
API_VERSION = "2022-11-28"


class ApiError(Exception):
    def __init__(self, method: str, path: str, status: int, message: str):
        super().__init__(f"{method} {path}: HTTP {status} {message}".strip())
        self.status = status


class Api:
    """A small GitHub REST client: JSON in and out, Link-header pagination."""

    def __init__(self, base: str, token: str, timeout: float = 30):
        self.base = (base or "https://api.github.com").rstrip("/")
        self.token = token
        self.timeout = timeout

    def request(self, method: str, path: str, body=None, query=None):
        url = path if path.startswith(("http://", "https://")) else self.base + path
        if query:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query)
        data = json.dumps(body).encode("utf-8") if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", "application/vnd.github+json")
        req.add_header("X-GitHub-Api-Version", API_VERSION)
        req.add_header("User-Agent", "hardener-action")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - the API URL
                raw = resp.read()
                link = resp.headers.get("Link", "")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:300]
            try:
                detail = json.loads(detail).get("message", detail)
            except (ValueError, AttributeError):
                pass
            raise ApiError(method, path, exc.code, str(detail)) from None
        return (json.loads(raw) if raw.strip() else None), link

    def get_all(self, path: str, query=None) -> list:
        """Every item of a paginated list."""
        out, url, params = [], path, {"per_page": 100, **(query or {})}
        for _ in range(100):  # at most 10,000 items
            items, link = self.request("GET", url, query=params)
            out.extend(items or [])
            nxt = re.search(r'<([^>]+)>;\s*rel="next"', link or "")
            if not nxt:
                break
            url, params = nxt.group(1), None
        return out


def warn(message: str) -> None:
    print(f"::warning::hardener: {_one_line(message)}", file=sys.stderr)


def _one_line(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


# --------------------------------------------------------------------------- the diff of a pull request

def diff_hunks(patch: str) -> list[set[int]]:
    """The new-side line numbers a review comment may use, one set per hunk of a file's patch."""
    hunks: list[set[int]] = []
    line = 0
    for text in (patch or "").split("\n"):
        head = re.match(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@", text)
        if head:
            line = int(head.group(1))
            hunks.append(set())
            continue
        if not hunks or text.startswith("\\"):
            continue
        if text.startswith("-"):
            continue
        hunks[-1].add(line)  # an added or a context line
        line += 1
    return hunks


def placeable(suggestion: dict, hunks_by_file: dict) -> bool:
    lines = set(range(suggestion["start_line"], suggestion["end_line"] + 1))
    return any(lines <= hunk for hunk in hunks_by_file.get(suggestion["file"], ()))


def comment_for(s: dict) -> dict:
    body = f"{SUGGESTION_MARKER}\n{s['body']}"
    out = {"path": s["file"], "body": body, "line": s["end_line"], "side": "RIGHT"}
    if s["end_line"] > s["start_line"]:
        out.update(start_line=s["start_line"], start_side="RIGHT")
    return out


def _fence(text: str) -> str:
    run = best = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        best = max(best, run)
    return "`" * max(3, best + 1)


def outside_section(outside: list[dict], budget: int) -> str:
    """The suggestions GitHub would not take as review comments, as ```diff blocks, within budget."""
    if not outside:
        return ""
    parts, left = [], 0
    head = (f"\n\n**{len(outside)} more change{'s' if len(outside) != 1 else ''} outside this pull request's "
            "diff** (GitHub only takes suggestions on lines the pull request changed):\n")
    used = len(head)
    for i, s in enumerate(outside):
        old = "".join("-" + line for line in s["original"].splitlines(True))
        new = "".join("+" + line for line in s["replacement"].splitlines(True))
        text = old + new
        text = text if text.endswith("\n") else text + "\n"
        fence = _fence(text)
        where = f"`{s['file']}` line {s['start_line']}" + (f"-{s['end_line']}" if s["end_line"] > s["start_line"] else "")
        rules = f" ({', '.join(s['rules'])})" if s.get("rules") else ""
        block = f"\n{where}{rules}:\n\n{fence}diff\n{text}{fence}\n"
        if used + len(block) > budget:
            left = len(outside) - i
            break
        parts.append(block)
        used += len(block)
    tail = f"\n*{left} more not shown here: run `hardener fix --diff`.*\n" if left else ""
    return head + "".join(parts) + tail


# --------------------------------------------------------------------------- commands

def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _api() -> Api:
    return Api(_env("GITHUB_API_URL", "https://api.github.com"), _env("GH_TOKEN") or _env("GITHUB_TOKEN"))


def _repo_path() -> str:
    repo = _env("GITHUB_REPOSITORY")
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
        raise ValueError(f"GITHUB_REPOSITORY is not owner/name: {repo!r}")
    return f"/repos/{repo}"


def review(api: Api, repo: str, number: int, suggestions: list[dict]) -> dict:
    """Post or update the review; returns what was done (for the log and the tests)."""
    pr, _ = api.request("GET", f"{repo}/pulls/{number}")
    head = pr["head"]["sha"]
    files = api.get_all(f"{repo}/pulls/{number}/files")
    hunks = {f["filename"]: diff_hunks(f.get("patch", "")) for f in files}
    inline = [s for s in suggestions if placeable(s, hunks)]
    outside = [s for s in suggestions if not placeable(s, hunks)]
    wanted = [comment_for(s) for s in inline]

    def key(c):
        return (c["path"], c.get("start_line") or c.get("line"), c.get("line"), c["body"])

    earlier = [c for c in api.get_all(f"{repo}/pulls/{number}/comments")
               if c.get("body", "").startswith(SUGGESTION_MARKER) and not c.get("in_reply_to_id")]
    kept, resolved = set(), 0
    for c in earlier:
        k = (c.get("path"), c.get("start_line") or c.get("line") or c.get("original_line"), c.get("line"),
             c.get("body"))
        if k in {key(w) for w in wanted} and k not in kept:
            kept.add(k)
            continue
        if "**Resolved.**" in c.get("body", ""):
            continue
        api.request("PATCH", f"{repo}/pulls/comments/{c['id']}", {
            "body": f"{SUGGESTION_MARKER}\n**Resolved.** hardener no longer proposes this change here (the code "
                    "changed or the fix was applied); the suggestion is withdrawn."})
        resolved += 1
    new = [w for w in wanted if key(w) not in kept]
    summary = (f"{REVIEW_MARKER}\n### hardener: {len(suggestions)} suggested change"
               f"{'s' if len(suggestions) != 1 else ''}\n\n{len(inline)} on lines of this pull request "
               "(apply each with **Commit suggestion**)" + (f", {resolved} earlier one"
                                                           f"{'s' if resolved != 1 else ''} withdrawn" if resolved else "")
               + ".")
    summary += outside_section(outside, MAX_BODY - len(summary))
    reviews = [r for r in api.get_all(f"{repo}/pulls/{number}/reviews")
               if (r.get("body") or "").startswith(REVIEW_MARKER)]
    posted = updated = None
    if new or not reviews:
        body = {"commit_id": head, "body": summary, "event": "COMMENT", "comments": new}
        try:
            posted, _ = api.request("POST", f"{repo}/pulls/{number}/reviews", body)
        except ApiError as exc:
            if exc.status != 422 or not new:
                raise
            # GitHub refused a comment's position (the diff moved): everything goes into the summary
            warn(f"GitHub refused the review comments ({exc}); posting them in the summary")
            body = {"commit_id": head, "event": "COMMENT", "comments": [],
                    "body": summary.split("\n\n**", 1)[0] + outside_section(outside + inline, MAX_BODY - 500)}
            posted, _ = api.request("POST", f"{repo}/pulls/{number}/reviews", body)
            new = []
    else:
        updated, _ = api.request("PUT", f"{repo}/pulls/{number}/reviews/{reviews[-1]['id']}", {"body": summary})
    return {"inline": len(inline), "outside": len(outside), "new": len(new), "kept": len(kept),
            "resolved": resolved, "posted": bool(posted), "updated": bool(updated)}


def comment(api: Api, repo: str, number: int, body: str) -> str:
    existing = [c for c in api.get_all(f"{repo}/issues/{number}/comments")
                if (c.get("body") or "").startswith(COMMENT_MARKER)]
    if existing:
        api.request("PATCH", f"{repo}/issues/comments/{existing[-1]['id']}", {"body": body})
        return "updated"
    api.request("POST", f"{repo}/issues/{number}/comments", {"body": body})
    return "posted"


def fix_pr(api: Api, repo: str, owner: str, branch: str, base: str, body: str, title: str) -> str:
    """Open the fix pull request from `branch`, or update the one that is open."""
    open_prs = api.get_all(f"{repo}/pulls", {"head": f"{owner}:{branch}", "state": "open"})
    if open_prs:
        number = open_prs[0]["number"]
        api.request("PATCH", f"{repo}/pulls/{number}", {"title": title, "body": body})
        return f"updated #{number}"
    pr, _ = api.request("POST", f"{repo}/pulls", {"title": title, "head": branch, "base": base, "body": body,
                                                    "maintainer_can_modify": True})
    return f"opened #{pr.get('number')}"


def _read(name: str) -> str:
    path = _env(name)
    if not path:
        raise ValueError(f"{name} is not set")
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def _body(text: str) -> str:
    if len(text) <= MAX_BODY:
        return text
    return text[:text.rfind("\n", 0, MAX_BODY - 100) + 1] + "\n*(cut: too long for GitHub)*\n"


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv else ""
    if command not in ("review", "comment", "fix-pr"):
        print("usage: python -m hardener.github_review review|comment|fix-pr", file=sys.stderr)
        return 64
    try:
        api, repo = _api(), _repo_path()
        if command == "review":
            number = int(_env("PR_NUMBER"))
            data = json.loads(_read("SUGGESTIONS_FILE"))
            done = review(api, repo, number, data.get("suggestions", []))
            print(f"hardener review: {done['inline']} suggestion(s) on the diff ({done['new']} new, {done['kept']} "
                  f"kept), {done['outside']} outside it, {done['resolved']} withdrawn", file=sys.stderr)
        elif command == "comment":
            what = comment(api, repo, int(_env("PR_NUMBER")), _body(_read("MARKDOWN_FILE")))
            print(f"hardener comment: {what}", file=sys.stderr)
        else:
            branch, base = _env("FIX_BRANCH", "hardener/fix"), _env("BASE_BRANCH")
            if not base:
                raise ValueError("BASE_BRANCH is not set")
            owner = _env("GITHUB_REPOSITORY").split("/", 1)[0]
            title = _env("FIX_PR_TITLE", "hardener: harden the Compose files")
            what = fix_pr(api, repo, owner, branch, base, _body(_read("MARKDOWN_FILE")), title)
            print(f"hardener fix-pr: {what}", file=sys.stderr)
    except ApiError as exc:
        hint = " (a read-only token, as pull requests from forks get?)" if exc.status in (401, 403, 404) else ""
        warn(f"{command}: {exc}{hint}; nothing more was posted")
    except (OSError, ValueError, KeyError, TypeError) as exc:  # network, files, unexpected answers
        warn(f"{command}: {exc}; nothing more was posted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
