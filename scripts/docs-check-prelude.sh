# Sourced by scripts/docs-check.mjs at the start of each file's bash session, before the doc's first block.
set -euo pipefail
__docs_check_block() { printf '\n@@docs-check block %s@@\n' "$1"; }
# A curl that refuses non-loopback URLs and, with -f, still shows the response body of an HTTP error (on
# stderr), so a failing block says what the server answered.
curl() {
  local arg host
  local -a args=()
  for arg in "$@"; do
    case "$arg" in
      http://*|https://*)
        host="${arg#*://}"; host="${host%%/*}"; host="${host%%\?*}"; host="${host%:*}"
        case "$host" in
          localhost|127.0.0.1|\[::1\]) ;;
          *) echo "docs-check: refusing a request to $arg (only loopback targets; mark the block skip)" >&2; return 97 ;;
        esac
        args+=("$arg") ;;
      -f|--fail) args+=(--fail-with-body) ;;
      -sf|-fs) args+=(-s --fail-with-body) ;;
      -sSf|-sfS|-fsS|-Ssf) args+=(-sS --fail-with-body) ;;
      *) args+=("$arg") ;;
    esac
  done
  local out headers status=0 code
  out="$(mktemp)"; headers="$(mktemp)"
  command curl -D "$headers" "${args[@]}" > "$out" || status=$?
  code="$(grep -ao '^HTTP/[0-9.]* [0-9]*' "$headers" | tail -1 | awk '{print $2}')"
  rm -f "$headers"
  if [ "$status" -ne 0 ]; then
    echo "docs-check: curl exited $status (HTTP ${code:-none}); the response was:" >&2
    cat "$out" >&2; echo >&2
    rm -f "$out"
    return "$status"
  fi
  # A documented call that is answered with an error the doc does not announce is a broken example.
  if [ -n "$code" ] && { [ "$code" -ge 500 ] || { [ "$code" -ge 400 ] && [ "${__docs_check_expect_errors:-0}" != 1 ]; }; }; then
    echo "docs-check: HTTP $code from curl $* (mark the block <!-- docs-check: expect-errors (reason) --> if the doc means it):" >&2
    cat "$out" >&2; echo >&2
    rm -f "$out"
    return 98
  fi
  cat "$out"; rm -f "$out"
}
trap 'echo "docs-check: this command failed (exit $?): $BASH_COMMAND" >&2' ERR
