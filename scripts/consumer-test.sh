#!/usr/bin/env bash
# The package as a consumer gets it (npm run test:consumer; .ci/run runs it). Packs this checkout (prepack builds
# the prebuilt binary), then installs the tarball into empty projects:
#   normal         npm install, with a compiler: the prebuild is used, nothing compiles
#   no-compiler    npm install with no C/C++ compiler on PATH (and CC/CXX unset)
#   ignore-scripts the same with --ignore-scripts (npm 11's allowScripts not granted): no install script runs
#   no-prebuild    LIBC=musl, as on Alpine: no prebuild fits. Without scripts, require() says what to do; the
#                  advice (`npm rebuild sockfd`) compiles; with scripts but no compiler, the install fails
# and in each: require(), ES module named imports, `npx sockfd-demo --help` / `--version`, and a server/client
# exchange over loopback; once: `tsc --strict` on a small consumer (CommonJS and ES module) and attw on the
# tarball. Any failure fails the script. Prints the tarball's size and contents and the install times.
# SOCKFD_CONSUMER_KEEP=1 keeps the work folder.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/sockfd-consumer.XXXXXX")"
servers=()
cleanup() {
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ "${SOCKFD_CONSUMER_KEEP:-}" = 1 ]; then echo "consumer: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

step() { echo "== consumer: $*"; }
die() { echo "consumer: FAILED: $*" >&2; exit 1; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
npm_i=(npm install --no-audit --no-fund --prefer-offline --loglevel=error)
timings=()

# ---------------------------------------------------------------------------------------------------------------
step "npm pack (prepack builds prebuilds/$(node -p 'process.platform + "-" + process.arch'))"
t0="$(now)"
(cd "$repo" && npm pack --json --pack-destination "$work") >"$work/pack.json" 2>"$work/pack.log" ||
  { cat "$work/pack.log" >&2; die "npm pack"; }
timings+=("npm pack (with the prebuild's compile): $(secs "$t0" "$(now)") s")
tgz="$work/$(node -p "require('$work/pack.json')[0].filename")"
tar -xzf "$tgz" -C "$work" package/package.json package/dist/index.d.ts
! grep -nF '(later)' "$work/package/dist/index.d.ts" || die "dist/index.d.ts still promises things for later"
node - "$work/pack.json" <<'EOF' || die "tarball contents"
const [j] = require(process.argv[2]);
const files = j.files.map((f) => f.path);
const own = `prebuilds/${process.platform}-${process.arch}/`;
const problems = [];
const need = ['package.json', 'README.md', 'LICENSE', 'binding.gyp', 'native/sources.js', 'dist/index.js', 'dist/main.js', 'dist/index.mjs',
  'dist/index.d.ts', 'dist/index.d.mts', 'dist/demo/cli.js'];
for (const f of need) if (!files.includes(f)) problems.push(`missing ${f}`);
if (process.platform === 'linux' && !files.some((f) => f.startsWith(own) && f.endsWith('.glibc.node'))) problems.push(`no ${own}*.glibc.node`);
for (const f of files) {
  if (/\.map$/.test(f) || /^(lib|test|scripts|build|build-cmake|dist-fuzz|node_modules|docs)\//.test(f) || /^\./.test(f)) problems.push(`should not ship ${f}`);
}
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
console.log(`consumer: ${j.filename}: ${kib(j.size)} packed, ${kib(j.unpackedSize)} unpacked, ${j.entryCount} files`);
const dist = j.files.filter((f) => f.path.startsWith('dist/'));
console.log(`consumer:   dist/: ${dist.length} files, ${kib(dist.reduce((a, f) => a + f.size, 0))} (the .js and .d.ts of lib/; the .js.map files are left out)`);
for (const f of j.files.filter((f) => !f.path.startsWith('dist/'))) console.log(`consumer:   ${f.path} ${f.size}`);
const pkg = require(require('node:path').join(process.argv[2], '..', 'package', 'package.json'));
for (const field of ['license', 'repository', 'bugs', 'homepage']) if (!pkg[field]) problems.push(`package.json has no "${field}"`);
if (pkg.scripts.install !== 'node-gyp-build') problems.push(`"install": ${JSON.stringify(pkg.scripts.install)}, not node-gyp-build`);
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
EOF

# ---------------------------------------------------------------------------------------------------------------
# A PATH without a C or C++ compiler: every command of PATH but those.
nocc="$work/nocc-bin"
mkdir -p "$nocc"
IFS=: read -r -a dirs <<<"$PATH"
for d in "${dirs[@]}"; do
  [ -d "$d" ] || continue
  for f in "$d"/*; do
    name="${f##*/}"
    case "$name" in
      cc | c++ | cpp | gcc | g++ | clang | clang++ | gcc-* | g++-* | clang-* | clang++-* | *-gcc | *-g++ | *-gcc-* | *-g++-* | *-c++ | *-cc | tcc | icc | icpx) continue ;;
    esac
    [ -x "$f" ] && [ ! -e "$nocc/$name" ] && ln -s "$f" "$nocc/$name"
  done
done
nocc_env=(env -u CC -u CXX -u CPP "PATH=$nocc")
for c in cc c++ gcc g++ clang clang++; do
  if "${nocc_env[@]}" sh -c "command -v $c" >/dev/null 2>&1; then die "the no-compiler PATH still has $c"; fi
done

project() { # project NAME: an empty project folder
  local dir="$work/$1"
  mkdir -p "$dir"
  printf '{ "name": "consumer-%s", "version": "1.0.0", "private": true }\n' "$1" >"$dir/package.json"
  echo "$dir"
}

install() { # install NAME ENV... -- NPM-ARGS...: npm install the tarball, timed
  local name="$1"; shift
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  local dir t0
  dir="$(project "$name")"
  t0="$(now)"
  (cd "$dir" && "${envs[@]}" "${npm_i[@]}" "$@" "$tgz") >"$work/$name.install.log" 2>&1 ||
    { cat "$work/$name.install.log" >&2; die "$name: npm install $*"; }
  timings+=("npm install, $name: $(secs "$t0" "$(now)") s")
}

# The checks of an installed project. $1: folder name; $2: the binary it must load (relative to the package);
# the rest: an environment (env VAR=... or nothing) to run them in.
check() {
  local name="$1" want="$2"; shift 2
  local dir="$work/$name" run=("$@")
  local pkgdir="$dir/node_modules/sockfd"
  step "$name: require, ES module imports, npx sockfd-demo --help/--version, a server/client exchange"
  (cd "$dir" && "${run[@]}" node -e '
    const s = require("sockfd");
    const want = require("path").join(process.argv[1], process.argv[2]);
    if (s.bindingPath !== want) throw new Error(`loaded ${s.bindingPath}, expected ${want}`);
    // a TCP exchange on loopback through the raw calls, select() and poll()
    const l = s.socket(s.AF_INET, s.SOCK_STREAM);
    s.bind(l, { address: "127.0.0.1", port: 0 });
    s.listen(l);
    const c = s.socket(s.AF_INET, s.SOCK_STREAM);
    s.connect(c, s.getsockname(l));
    const [r] = s.select([l], [], [], 5000);
    if (r[0] !== l) throw new Error("select: the listener is not readable");
    const a = s.accept(l);
    s.sendAll(c, "ping");
    if (s.poll([{ fd: a.fd, events: s.POLLIN }], 5000).length !== 1) throw new Error("poll: nothing to read");
    const got = s.recv(a.fd, 16).toString();
    if (got !== "ping") throw new Error(`recv: ${got}`);
    for (const fd of [a.fd, c, l]) s.close(fd);
    console.log(`require: ok (${s.bindingPath})`);
  ' "$pkgdir" "$want") || die "$name: require"
  (cd "$dir" && "${run[@]}" node --input-type=module -e '
    import { socket, close, AF_INET, SOCK_STREAM, Socket, DefaultSelector, watch, EVENT_READ, bindingPath } from "sockfd";
    import * as esm from "sockfd";
    import def from "sockfd";
    import { createRequire } from "node:module";
    const cjs = createRequire(process.cwd() + "/")("sockfd");
    const names = Object.keys(cjs).filter((n) => n !== "__esModule");
    const missing = names.filter((n) => esm[n] !== cjs[n]);
    if (missing.length > 0) throw new Error(`ES module lacks or differs in: ${missing.join(", ")}`);
    if (def !== cjs || typeof Socket !== "function" || typeof DefaultSelector !== "function" || typeof watch !== "function" || EVENT_READ !== 1) throw new Error("default export / classes");
    close(socket(AF_INET, SOCK_STREAM));
    console.log(`import: ok (${names.length} names; ${bindingPath})`);
  ') || die "$name: ES module import"
  local out
  out="$(cd "$dir" && "${run[@]}" npx --no -- sockfd-demo --help)" || die "$name: npx sockfd-demo --help"
  grep -q '^  sockfd-demo client \[--host HOST\] \[--port PORT\] \[--timeout MS\]$' <<<"$out" || die "$name: --help: $out"
  out="$(cd "$dir" && "${run[@]}" npx --no -- sockfd-demo --version)" || die "$name: npx sockfd-demo --version"
  grep -qx "addon: $pkgdir/$want" <<<"$out" || die "$name: --version: $out"
  # the demo: a server on a free port, the client talks to it
  : >"$work/$name.server.log" # exists before the server's subshell opens it: sed below may run first
  (cd "$dir" && exec "${run[@]}" node_modules/.bin/sockfd-demo server --port 0 >"$work/$name.server.log" 2>&1) &
  local pid=$! port=''
  servers+=("$pid")
  for _ in $(seq 100); do
    port="$(sed -n 's/^Waiting for connection on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$work/$name.server.log")"
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$port" ] || die "$name: the demo server did not start: $(cat "$work/$name.server.log")"
  out="$(cd "$dir" && printf 'hello\nexit\n' | "${run[@]}" npx --no -- sockfd-demo client --port "$port" --timeout 10000)" ||
    die "$name: sockfd-demo client: $out"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  [[ "$out" =~ ^Welcome$'\n'">>> "[0-9]+$'\n'">>> "$ ]] || die "$name: the exchange: $out"
  echo "demo: ok (server on port $port answered)"
}

prebuild="prebuilds/$(node -p 'process.platform + "-" + process.arch')/sockfd.glibc.node"

# ---------------------------------------------------------------------------------------------------------------
step "normal: npm install of the tarball, with a compiler"
install normal env -- 
[ ! -e "$work/normal/node_modules/sockfd/build" ] || die "normal: the install compiled although a prebuild fits"
check normal "$prebuild" env

step "normal: the demo client's messages: nothing listening, and a server option refused"
port="$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')"
if out="$(cd "$work/normal" && npx --no -- sockfd-demo client --port "$port" </dev/null 2>&1)"; then die "client: connected to a closed port"; fi
grep -qF 'nothing is listening there (start the server with `npx sockfd-demo server`) [ECONNREFUSED]' <<<"$out" || die "client hint: $out"
set +e
out="$(cd "$work/normal" && npx --no -- sockfd-demo client --io poll 2>&1)"
code=$?
set -e
[ "$code" = 2 ] && grep -qF -- '--io is an option of `sockfd-demo server`, not of `client`' <<<"$out" || die "client --io: exit $code: $out"
echo "client: ok (hint: npx sockfd-demo server; --io refused)"

step "normal: tsc --strict on a small consumer, CommonJS (.ts) and ES module (.mts), node16 resolution"
cat >"$work/normal/tsconfig.json" <<EOF
{ "compilerOptions": { "strict": true, "noEmit": true, "module": "node16", "moduleResolution": "node16", "target": "ES2022",
    "types": ["node"], "typeRoots": ["$repo/node_modules/@types"], "skipLibCheck": false },
  "files": ["index.ts", "esm.mts"] }
EOF
cat >"$work/normal/index.ts" <<'EOF'
import { socket, bind, listen, getsockname, close, AF_INET, SOCK_STREAM, Socket, DefaultSelector, EVENT_READ, type InetAddress, type SystemError } from 'sockfd';
import sockfd = require('sockfd');
const fd: number = socket(AF_INET, SOCK_STREAM);
bind(fd, { address: '127.0.0.1', port: 0 });
listen(fd);
const port: number = (getsockname(fd) as InetAddress).port;
const sel = new DefaultSelector();
sel.register(fd, EVENT_READ);
sel.close();
close(fd);
const s: Socket = new sockfd.Socket(sockfd.AF_INET, sockfd.SOCK_DGRAM);
s.close();
const e: SystemError | undefined = undefined;
export { port, e };
EOF
cat >"$work/normal/esm.mts" <<'EOF'
import { socket, close, AF_INET6, SOCK_STREAM, Socket, watch, type Watcher } from 'sockfd';
import sockfd from 'sockfd';
const fd: number = socket(AF_INET6, SOCK_STREAM);
close(fd);
const ctor: typeof Socket = sockfd.Socket;
let w: Watcher | undefined;
export { ctor, w, watch };
EOF
(cd "$work/normal" && node "$repo/node_modules/typescript/bin/tsc" -p tsconfig.json) || die "tsc --strict on the consumer"
echo "tsc: ok"

step "attw on the tarball (@arethetypeswrong/cli: every resolution mode's types match what Node loads)"
"$repo/node_modules/.bin/attw" "$tgz" || die "attw reports problems"

# ---------------------------------------------------------------------------------------------------------------
step "no-compiler: npm install with no C/C++ compiler on PATH"
install no-compiler "${nocc_env[@]}" --
check no-compiler "$prebuild" "${nocc_env[@]}"

step "ignore-scripts: npm install --ignore-scripts with no compiler (no install script runs)"
install ignore-scripts "${nocc_env[@]}" -- --ignore-scripts
check ignore-scripts "$prebuild" "${nocc_env[@]}"

# ---------------------------------------------------------------------------------------------------------------
# No prebuild fits (LIBC=musl: node-gyp-build's libc, as on Alpine, where /etc/alpine-release sets it).
step "no-prebuild: with scripts but no compiler, the install fails (node-gyp cannot compile)"
dir="$(project no-prebuild-nocc)"
if (cd "$dir" && "${nocc_env[@]}" LIBC=musl "${npm_i[@]}" "$tgz") >"$work/no-prebuild-nocc.log" 2>&1; then
  die "no-prebuild: installed with no compiler and no fitting prebuild: the no-compiler PATH is not one"
fi
grep -q 'gyp ERR!' "$work/no-prebuild-nocc.log" || { cat "$work/no-prebuild-nocc.log" >&2; die "no-prebuild: not a node-gyp failure"; }
echo "failed as it must: $(grep -m1 -E "not found|No such file|gyp ERR! stack Error" "$work/no-prebuild-nocc.log" || true)"

step "no-prebuild: --ignore-scripts, then require() and the demo say what to do"
install no-prebuild env LIBC=musl -- --ignore-scripts
dir="$work/no-prebuild"
msg="$(cd "$dir" && LIBC=musl node -e 'try { require("sockfd"); } catch (e) { console.log(e.code); console.log(e.message); }')"
head -1 <<<"$msg" | grep -qx ERR_SOCKFD_NOT_BUILT || die "no-prebuild: require: $msg"
for want in 'npm rebuild sockfd' 'python3, make and a C++17 compiler' "$dir/node_modules/sockfd/prebuilds/" 'sockfd.glibc.node, none for this system'; do
  grep -qF "$want" <<<"$msg" || die "no-prebuild: the message lacks \"$want\": $msg"
done
(cd "$dir" && LIBC=musl npx --no -- sockfd-demo --help) | grep -q 'needs the native addon, which does not load here' ||
  die "no-prebuild: npx sockfd-demo --help"
echo "require: ERR_SOCKFD_NOT_BUILT, naming npm rebuild sockfd, the toolchain and prebuilds/; --help works"

step "no-prebuild: npm rebuild sockfd (the advice) compiles it"
t0="$(now)"
(cd "$dir" && LIBC=musl npm rebuild sockfd --loglevel=error) >"$work/no-prebuild.rebuild.log" 2>&1 ||
  { cat "$work/no-prebuild.rebuild.log" >&2; die "no-prebuild: npm rebuild sockfd"; }
timings+=("npm rebuild sockfd (compiles; no prebuild fits): $(secs "$t0" "$(now)") s")
check no-prebuild build/Release/sockfd.node env LIBC=musl

step "timings"
printf 'consumer:   %s\n' "${timings[@]}"
echo "consumer: all checks passed"
