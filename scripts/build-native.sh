#!/usr/bin/env bash
# Builds the gateway's one native helper (server/native/free-memory.c: glibc's malloc_trim) into
# build/native/free-memory.node. Exits 2 where it cannot be built (no C compiler, no Node headers, not glibc): the
# gateway then runs without it and says so at start.
set -euo pipefail
cd "$(dirname "$0")/.."

source=server/native/free-memory.c
module=build/native/free-memory.node
if [ -f "$module" ] && [ "$module" -nt "$source" ] && [ "$module" -nt "$0" ]; then
  echo "build-native: $module is up to date"
  exit 0
fi

command -v cc >/dev/null || { echo "build-native: no C compiler (cc) found (Debian: apt-get install build-essential)" >&2; exit 2; }
# Node's headers sit next to its binary in every distribution of it (/usr/include/node for Debian's).
headers=$(node -p 'require("node:path").resolve(process.execPath, "../../include/node")')
[ -f "$headers/node_api.h" ] || { echo "build-native: Node's headers are not in $headers" >&2; exit 2; }

mkdir -p "$(dirname "$module")"
cc -std=c11 -O2 -Wall -Wextra -fPIC -shared -I"$headers" -o "$module.tmp" "$source" ||
  { echo "build-native: the compile failed (malloc_trim is glibc's: another C library does not have it)" >&2; exit 2; }
mv "$module.tmp" "$module"
echo "build-native: built $module"
