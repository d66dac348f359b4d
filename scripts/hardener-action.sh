#!/usr/bin/env bash
# The shell half of action.yml (the composite GitHub Action). One sub-command per step:
#
#   install   install hardener into a virtual environment under $RUNNER_TEMP; export $HARDENER and
#             $HARDENER_PYTHON
#   check     write the SARIF report (and the Markdown report when a comment, job summary, review or fix
#             pull request is wanted; the suggestions when a review is); with INPUT_VERIFY, run
#             `hardener verify` first and put its verification into the Markdown report; set the step
#             outputs sarif-file, markdown-file, suggestions-file, findings, exit-code, verification-file
#             and verify-exit-code
#   review    post a pull-request review with one ```suggestion per hunk on the lines the PR changed,
#             the other hunks in the review's summary; a re-run updates it (hardener.github_review)
#   comment   post the Markdown report on the pull request, or update the comment posted before
#   fixpr     commit `hardener fix` on FIX_BRANCH, push it, open or update one pull request whose body
#             is the Markdown report
#   verdict   fail the job when the check could not read a file (exit code 2) or, unless
#             FAIL_ON_FINDINGS is false, when it found something (1); with VERIFY_REQUIRED, when the
#             verification could not run or the patch stops a service (VERIFY_EXIT not 0)
#
# Inputs come as environment variables (never interpolated into the script text):
#   INPUT_PATHS, INPUT_ARGS (split on whitespace), INPUT_SARIF_FILE, INPUT_PATCH, INPUT_COMMENT,
#   INPUT_SUMMARY, INPUT_REVIEW, INPUT_FIX_PR, INPUT_FAIL_ON, INPUT_VERIFY, INPUT_VERIFY_ARGS (split on
#   whitespace), INPUT_VERSION; HARDENER (the command,
#   default `hardener`) and HARDENER_PYTHON (the Python that has hardener, default python3); for the
#   GitHub calls: GH_TOKEN, GITHUB_API_URL, GITHUB_REPOSITORY, PR_NUMBER, MARKDOWN_FILE,
#   SUGGESTIONS_FILE; for `fixpr`: FIX_BRANCH, BASE_BRANCH; for `verdict`: HARDENER_EXIT,
#   FAIL_ON_FINDINGS, VERIFY_EXIT, VERIFY_REQUIRED. Every GitHub call warns and never fails the job (read-only tokens of forks).
set -euo pipefail

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
        printf 'HARDENER_PYTHON=%s\n' "$venv/bin/python" >>"$GITHUB_ENV"
    fi
    "$venv/bin/hardener" --version
}

cmd_check() {
    local hardener="${HARDENER:-hardener}" sarif="${INPUT_SARIF_FILE:-hardener.sarif}"
    local markdown="${MARKDOWN_FILE:-${RUNNER_TEMP:-/tmp}/hardener-report.md}"
    local suggestions="${SUGGESTIONS_FILE:-${RUNNER_TEMP:-/tmp}/hardener-suggestions.json}"
    local -a paths extra
    read -r -a paths <<<"${INPUT_PATHS:-.}"
    read -r -a extra <<<"${INPUT_ARGS:-}"
    [[ ${#paths[@]} -gt 0 ]] || paths=(.)

    mkdir -p "$(dirname "$sarif")" "$(dirname "$markdown")"
    # --fail-on decides the exit code only: every finding is still in the reports
    [[ -z "${INPUT_FAIL_ON:-}" ]] || extra+=(--fail-on "$INPUT_FAIL_ON")
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

    local -a with_verification=()
    if [[ "${INPUT_VERIFY:-false}" == "true" ]]; then
        local verification="${VERIFICATION_FILE:-${RUNNER_TEMP:-/tmp}/hardener-verification.json}"
        run_verify "$verification" "${paths[@]}"
        with_verification=(--verification "$verification")
    fi
    if [[ "${INPUT_REVIEW:-false}" == "true" ]]; then
        "$hardener" check --format suggestions --patch "${INPUT_PATCH:-safe}" --exit-zero --output "$suggestions" \
            "${extra[@]}" -- "${paths[@]}" || true
        if [[ -s "$suggestions" ]]; then
            output suggestions-file "$suggestions"
        fi
    fi
    if [[ "${INPUT_COMMENT:-false}" == "true" || "${INPUT_SUMMARY:-true}" == "true" || "${INPUT_FIX_PR:-false}" == "true" ]]; then
        "$hardener" check --format markdown --patch "${INPUT_PATCH:-safe}" --exit-zero --output "$markdown" \
            "${with_verification[@]}" "${extra[@]}" -- "${paths[@]}" || true
        if [[ -s "$markdown" ]]; then
            output markdown-file "$markdown"
            if [[ "${INPUT_SUMMARY:-true}" == "true" && -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
                cat "$markdown" >>"$GITHUB_STEP_SUMMARY"
            fi
        fi
    fi
}

error_document() {  # error_document FILE MESSAGE: the verification's JSON when verify wrote none
    "${PYTHON:-python3}" -c 'import json, sys; json.dump({"version": 1, "result": "error", "error": sys.argv[2]}, open(sys.argv[1], "w"))' "$1" "$2"
}

run_verify() {  # run_verify FILE PATH...: hardener verify of the one project, its JSON in FILE
    local hardener="${HARDENER:-hardener}" file=$1 vrc=0
    shift
    local -a vargs=()
    read -r -a vargs <<<"${INPUT_VERIFY_ARGS:-}"
    [[ "${INPUT_PATCH:-safe}" != "unsafe" ]] || vargs+=(--unsafe-fixes)
    mkdir -p "$(dirname "$file")"
    rm -f "$file"
    if [[ $# -ne 1 ]]; then
        vrc=2
        error_document "$file" "verify takes one project, and paths names $#: set paths to one compose file or folder"
    else
        # the engine is the runner's (DOCKER_HOST or the default socket); progress goes to the log
        "$hardener" verify --format json --output "$file" "${vargs[@]}" -- "$1" || vrc=$?
        if [[ ! -s "$file" ]]; then  # it stopped without a word (a crash, a signal): it could not run
            error_document "$file" "hardener verify exited with code $vrc without a report"
            [[ $vrc -gt 1 ]] || vrc=2
        fi
    fi
    output verification-file "$file"
    output verify-exit-code "$vrc"
    local result
    result=$("${PYTHON:-python3}" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d.get("result"), d.get("error", ""))' "$file")
    case "$result" in
        ok*) log "hardener: the patch was started: every service that works as written works with it" ;;
        regression*) log "::warning::hardener: the patch stops a service; see the verification in the report" ;;
        *) log "::warning::hardener: the verification could not run: ${result#error }" ;;
    esac
}

github_call() {  # github_call SUB-COMMAND: the REST calls, in Python; they warn and never fail the job
    "${HARDENER_PYTHON:-python3}" -m hardener.github_review "$1" || log "::warning::hardener: $1 did not run"
}

cmd_review() {
    if [[ -z "${PR_NUMBER:-}" ]]; then
        log "not a pull request: no review"
        return 0
    fi
    if [[ -z "${SUGGESTIONS_FILE:-}" || ! -s "${SUGGESTIONS_FILE}" ]]; then
        log "no suggestions to post"
        return 0
    fi
    github_call review
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
    github_call comment
}

cmd_fixpr() {
    local hardener="${HARDENER:-hardener}" branch="${FIX_BRANCH:-hardener/fix}" base="${BASE_BRANCH:-}"
    local -a paths extra fix_args=()
    read -r -a paths <<<"${INPUT_PATHS:-.}"
    read -r -a extra <<<"${INPUT_ARGS:-}"
    [[ ${#paths[@]} -gt 0 ]] || paths=(.)
    if [[ "${INPUT_PATCH:-safe}" == "unsafe" ]]; then
        fix_args+=(--unsafe-fixes)
    fi
    if [[ -z "$base" ]]; then
        base=$(git rev-parse --abbrev-ref HEAD)
    fi
    if [[ -z "${MARKDOWN_FILE:-}" || ! -s "${MARKDOWN_FILE}" ]]; then
        log "no Markdown report for the pull request body"
        return 0
    fi
    git checkout -q -B "$branch"
    "$hardener" fix --exit-zero "${fix_args[@]}" "${extra[@]}" -- "${paths[@]}" || {
        log "::warning::hardener fix could not process every file; the pull request has what it could fix"
    }
    if git diff --quiet; then
        log "hardener fix changed nothing: no fix pull request"
        git checkout -q "$base"
        return 0
    fi
    git -c user.name="${GIT_AUTHOR_NAME:-hardener}" -c user.email="${GIT_AUTHOR_EMAIL:-hardener@users.noreply.github.com}" \
        commit -q -a -m "hardener: harden the Compose files" -m "Applied by \`hardener fix${fix_args[*]:+ ${fix_args[*]}}\`."
    if ! git push -q --force origin "$branch"; then
        log "::warning::hardener: could not push $branch (read-only token?): no fix pull request"
        git checkout -q "$base"
        return 0
    fi
    git checkout -q "$base"
    BASE_BRANCH="$base" FIX_BRANCH="$branch" github_call fix-pr
}

cmd_verdict() {
    local rc="${HARDENER_EXIT:-0}" vrc="${VERIFY_EXIT:-}"
    if [[ -n "$vrc" && "$vrc" != 0 && "${VERIFY_REQUIRED:-false}" == "true" ]]; then
        if [[ "$vrc" == 1 ]]; then
            log "::error::hardener: the proposed patch stops a service (verify-required)"
        else
            log "::error::hardener: the verification could not run (verify-required; exit code $vrc)"
        fi
        exit 1
    fi
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
    review) cmd_review ;;
    comment) cmd_comment ;;
    fixpr) cmd_fixpr ;;
    verdict) cmd_verdict ;;
    *) log "usage: $0 install|check|review|comment|fixpr|verdict"; exit 64 ;;
esac
