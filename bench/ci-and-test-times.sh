#!/usr/bin/env bash
# Wall time of the two slow steps of CI (.ci/run):
#   1. `npm ci` in a fresh clone of this repository (only COMMITTED files are there: that is the point,
#      it is what CI sees), with whatever npm cache this machine has;
#   2. `npm test` in this working tree against PostgreSQL at 127.0.0.1:5432.
#
#   bash bench/ci-and-test-times.sh
#
# Full logs go to bench/results/ (git-ignored). It is slow (minutes); run it once.
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
results="$root/bench/results"
mkdir -p "$results"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
clone="$(mktemp -d "${TMPDIR:-/tmp}/junction-bench-clone-XXXXXX")"
trap 'rm -rf "$clone"' EXIT

now() { date +%s.%N; }
# vitest may colour its output even into a file; strip ANSI codes and cut long lines for the summary.
plain() { sed -E 's/\x1b\[[0-9;]*m//g' | cut -c1-300; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

echo "== machine: $(nproc) cores, node $(node -v), npm $(npm -v), HEAD $(git -C "$root" rev-parse --short HEAD)"

echo "== git clone $root -> $clone"
git clone --quiet "$root" "$clone"

echo "== npm ci (fresh clone; log: $results/npm-ci-$stamp.log)"
t0=$(now)
(cd "$clone" && npm ci --no-audit --no-fund) >"$results/npm-ci-$stamp.log" 2>&1
ci_rc=$?
t1=$(now)
ci_s=$(elapsed "$t0" "$t1")
echo "   exit $ci_rc, ${ci_s} s"
[ "$ci_rc" -eq 0 ] || tail -n 30 "$results/npm-ci-$stamp.log" | plain

echo "== npm test (working tree, DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres; log: $results/npm-test-$stamp.log)"
t0=$(now)
(cd "$root" && DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm test) >"$results/npm-test-$stamp.log" 2>&1
test_rc=$?
t1=$(now)
test_s=$(elapsed "$t0" "$t1")
echo "   exit $test_rc, ${test_s} s"
plain <"$results/npm-test-$stamp.log" | grep -E '^\s*(Test Files|Tests|Errors|Duration)\b' | sed 's/^ */   /'
[ "$test_rc" -eq 0 ] || plain <"$results/npm-test-$stamp.log" | grep -E 'FAIL|Error:' | head -n 20

echo
echo "npm ci (fresh clone):  ${ci_s} s  (exit $ci_rc)"
echo "npm test:              ${test_s} s  (exit $test_rc)"
[ "$ci_rc" -eq 0 ] && [ "$test_rc" -eq 0 ]
