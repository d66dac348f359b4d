#!/usr/bin/env bash
# The shell half of action.yml (the composite GitHub Action). One sub-command per step:
#
#   install   install hardener into a virtual environment under $RUNNER_TEMP; export $HARDENER
#   check     write the SARIF report (and the Markdown report when a comment or job summary is wanted);
#             set the step outputs sarif-file, markdown-file, findings and exit-code
#   comment   post the Markdown report on the pull request, or update the comment posted before
#   verdict   fail the job when the check could not read a file (exit code 2) or, unless
#             FAIL_ON_FINDINGS is false, when it found something (1)
#
# Inputs come as environment variables (never interpolated into the script text):
#   INPUT_PATHS, INPUT_ARGS (split on whitespace), INPUT_SARIF_FILE, INPUT_PATCH, INPUT_COMMENT,
#   INPUT_SUMMARY, INPUT_VERSION; HARDENER (the command, default `hardener`); for `comment`: GH_TOKEN,
#   GITHUB_REPOSITORY, PR_NUMBER, MARKDOWN_FILE; for `verdict`: HARDENER_EXIT, FAIL_ON_FINDINGS.
set -euo pipefail

MARKER="<!-- hardener-report -->"

log() { printf '%s\n' "$*" >&2; }

output() {  # output NAME VALUE: a step output (printed when run outside Actions)
    if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
        printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
    else
        printf '%s=%s\n' "$1" "$2"
    fi
}

cmd_install() {
    local venv="${RUNNER_TEMP:-/tmp}/hardener-venv" python="${PYTHON:-python3}"
    "$python" -m venv "$venv"
    if [[ -n "${INPUT_VERSION:-}" ]]; then
        "$venv/bin/python" -m pip install --disable-pip-version-check -q "hardener==${INPUT_VERSION}"
    else
        "$venv/bin/python" -m pip install --disable-pip-version-check -q "${GITHUB_ACTION_PATH:?}"
    fi
    if [[ -n "${GITHUB_ENV:-}" ]]; then
        printf 'HARDENER=%s\n' "$venv/bin/hardener" >>"$GITHUB_ENV"
    fi
    "$venv/bin/hardener" --version
}

cmd_check() {
    local hardener="${HARDENER:-hardener}" sarif="${INPUT_SARIF_FILE:-hardener.sarif}"
    local markdown="${MARKDOWN_FILE:-${RUNNER_TEMP:-/tmp}/hardener-report.md}"
    local -a paths extra
    read -r -a paths <<<"${INPUT_PATHS:-.}"
    read -r -a extra <<<"${INPUT_ARGS:-}"
    [[ ${#paths[@]} -gt 0 ]] || paths=(.)

    mkdir -p "$(dirname "$sarif")" "$(dirname "$markdown")"
    local rc=0
    "$hardener" check --format sarif --output "$sarif" "${extra[@]}" -- "${paths[@]}" || rc=$?
    if [[ $rc -gt 2 || ! -s "$sarif" ]]; then
        log "hardener check failed (exit code $rc) without a SARIF report"
        exit "$((rc > 2 ? rc : 3))"
    fi
    local findings
    findings=$("${PYTHON:-python3}" -c 'import json, sys; print(sum(len(r.get("results", [])) for r in json.load(open(sys.argv[1]))["runs"]))' "$sarif")
    output sarif-file "$sarif"
    output exit-code "$rc"
    output findings "$findings"
    log "hardener: $findings finding(s), exit code $rc, SARIF in $sarif"

    if [[ "${INPUT_COMMENT:-false}" == "true" || "${INPUT_SUMMARY:-true}" == "true" ]]; then
        "$hardener" check --format markdown --patch "${INPUT_PATCH:-safe}" --exit-zero --output "$markdown" \
            "${extra[@]}" -- "${paths[@]}" || true
        if [[ -s "$markdown" ]]; then
            output markdown-file "$markdown"
            if [[ "${INPUT_SUMMARY:-true}" == "true" && -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
                cat "$markdown" >>"$GITHUB_STEP_SUMMARY"
            fi
        fi
    fi
}

cmd_comment() {
    local markdown="${MARKDOWN_FILE:-}" repo="${GITHUB_REPOSITORY:-}" pr="${PR_NUMBER:-}"
    if [[ -z "$pr" ]]; then
        log "not a pull request: no comment"
        return 0
    fi
    if [[ -z "$markdown" || ! -s "$markdown" ]]; then
        log "no Markdown report to post"
        return 0
    fi
    if [[ -z "$repo" ]]; then
        log "GITHUB_REPOSITORY is not set: no comment"
        return 0
    fi
    local id=""
    id=$(gh api --paginate "repos/$repo/issues/$pr/comments" \
        --jq ".[] | select(.body | startswith(\"$MARKER\")) | .id" | tail -n 1) || id=""
    # a read-only token (pull requests from forks) cannot comment: warn, do not fail the job
    if [[ -n "$id" ]]; then
        gh api --method PATCH "repos/$repo/issues/comments/$id" -F "body=@$markdown" >/dev/null \
            || log "::warning::could not update the hardener comment (read-only token?)"
    else
        gh api --method POST "repos/$repo/issues/$pr/comments" -F "body=@$markdown" >/dev/null \
            || log "::warning::could not post the hardener comment (read-only token?)"
    fi
}

cmd_verdict() {
    local rc="${HARDENER_EXIT:-0}"
    case "$rc" in
        0) log "hardener: no findings" ;;
        1)
            if [[ "${FAIL_ON_FINDINGS:-true}" == "true" ]]; then
                log "::error::hardener found risky settings; see the code scanning alerts or the report"
                exit 1
            fi
            log "::warning::hardener found risky settings (fail-on-findings is off)"
            ;;
        *) log "::error::hardener could not process every file (exit code $rc)"; exit "$rc" ;;
    esac
}

case "${1:-}" in
    install) cmd_install ;;
    check) cmd_check ;;
    comment) cmd_comment ;;
    verdict) cmd_verdict ;;
    *) log "usage: $0 install|check|comment|verdict"; exit 64 ;;
esac
