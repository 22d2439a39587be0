#!/usr/bin/env bash
# Builds the native desktop engine (Guacamole protocol ⇄ RDP/VNC) into build/engine/guac-engine.
# Skips the compile when the binary is newer than every source. SANITIZE=address builds the fuzz tests' variant
# instead, with AddressSanitizer and UndefinedBehaviorSanitizer, into build/engine-asan/guac-engine.
set -euo pipefail
cd "$(dirname "$0")/.."

src_dir=server/protocols/guac/engine
case "${SANITIZE:-}" in
  "") out_dir=build/engine; flags=(-O2) ;;
  address) out_dir=build/engine-asan; flags=(-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined) ;;
  *) echo "build-engine: SANITIZE must be empty or 'address'" >&2; exit 2 ;;
esac
binary=$out_dir/guac-engine
modules=(freerdp2 freerdp-client2 winpr2 libvncclient libpng libjpeg)

missing_help() {
  echo "build-engine: $1" >&2
  echo "build-engine: install the build dependencies (Debian), then run 'npm run build:engine' to build the engine:" >&2
  echo "  apt-get install freerdp2-dev libvncserver-dev libpng-dev libjpeg-dev build-essential pkg-config" >&2
  exit 2
}

command -v pkg-config >/dev/null || missing_help "pkg-config is missing"
command -v cc >/dev/null || missing_help "no C compiler (cc) found"
missing=()
for module in "${modules[@]}"; do
  pkg-config --exists "$module" || missing+=("$module")
done
((${#missing[@]} == 0)) || missing_help "missing pkg-config modules: ${missing[*]}"

sources=("$src_dir"/*.c)
if [ -x "$binary" ]; then
  stale=0
  for file in "$src_dir"/*.c "$src_dir"/*.h "$0"; do
    [ "$file" -nt "$binary" ] && stale=1 && break
  done
  if [ "$stale" = 0 ]; then
    echo "build-engine: $binary is up to date"
    exit 0
  fi
fi

mkdir -p "$out_dir"
# shellcheck disable=SC2046 # pkg-config output is meant to be split into flags
cc -std=c11 -D_GNU_SOURCE "${flags[@]}" -Wall -Wextra -o "$binary.tmp" "${sources[@]}" \
  $(pkg-config --cflags --libs "${modules[@]}") -lpthread
mv "$binary.tmp" "$binary"
echo "build-engine: built $binary"
