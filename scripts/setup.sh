#!/usr/bin/env bash
# Installs what sigrelease needs on a fresh Debian 12 machine; quick and quiet when already done.
#   scripts/setup.sh demo   what `./dev demo` uses (the default):
#     - Debian packages: rsync, dnf + dnf-plugins-core (reposync), createrepo-c, rpm (rpmbuild), util-linux (hardlink), gpg,
#       zstd, xz-utils, bzip2 (compressed repository metadata)
#     - node_modules from package-lock.json (npm ci), redone only when the lock file changed
#     - the Temporal CLI v1.5.1, built from the Go module proxy into a per-user cache outside the clone
#     - the CLI built to JavaScript in dist/ (tsc, then the short commands' bundle in dist/cli/ by esbuild), redone only
#       when a source is newer than the last build
#   scripts/setup.sh test   the same, plus what only the tests use: PostgreSQL, Chromium, docker-compose and the
#                           full Temporal server (scripts/build-temporal-server.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-demo}"
case "$mode" in demo | test) ;; *) echo "usage: scripts/setup.sh [demo|test]" >&2; exit 2 ;; esac
TEMPORAL_VERSION=1.5.1
cache="${XDG_CACHE_HOME:-$HOME/.cache}/sigrelease"
cli="${SIGRELEASE_TEMPORAL_CLI:-$cache/temporal-$TEMPORAL_VERSION/temporal}"
say() { printf 'setup: %s\n' "$*" >&2; }

# 1. Debian packages (as root, or through sudo).
need=()
command -v rsync >/dev/null || need+=(rsync)
command -v dnf >/dev/null || need+=(dnf)
dnf reposync --help >/dev/null 2>&1 || need+=(dnf-plugins-core)
command -v createrepo_c >/dev/null || need+=(createrepo-c)
command -v rpmbuild >/dev/null || need+=(rpm)
command -v rpmsign >/dev/null || need+=(rpm)
command -v hardlink >/dev/null || need+=(util-linux)
command -v gpg >/dev/null || need+=(gpg)
# dnf's signature checks start one; a test starts real ones to prove none is left behind.
command -v gpg-agent >/dev/null || need+=(gpg-agent)
command -v curl >/dev/null || need+=(curl)
# Repository metadata may be zstd (EL10, Fedora), xz or bzip2: verification decompresses with these.
command -v zstd >/dev/null || need+=(zstd)
command -v xz >/dev/null || need+=(xz-utils)
command -v bzip2 >/dev/null || need+=(bzip2)
# Signed decisions (ssh-keygen -Y) and the deployment's certificates (openssl).
command -v ssh-keygen >/dev/null || need+=(openssh-client)
command -v openssl >/dev/null || need+=(openssl)
# For the tests only: PostgreSQL (a production-shaped Temporal), Chromium (the Web UI test), docker-compose
# 1.29 (validates docker-compose.yml without an engine; --no-install-recommends keeps the engine out).
if [ "$mode" = test ]; then
  [ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql)
  command -v chromium >/dev/null || need+=(chromium)
  command -v docker-compose >/dev/null || need+=(docker-compose)
fi
if [ "${#need[@]}" -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "installing Debian packages: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# 2. Node dependencies, pinned by the lock file.
command -v node >/dev/null || { say "Node.js 20 is required (node not found)"; exit 1; }
stamp=node_modules/.sigrelease-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

# 3. The Temporal CLI (dev server + Web UI), built once per machine and user.
if [ ! -x "$cli" ]; then
  command -v go >/dev/null || { say "Go >= 1.25 is required to build the Temporal CLI (go not found)"; exit 1; }
  say "building the Temporal CLI v$TEMPORAL_VERSION with Go (several minutes, once per machine)"
  mkdir -p "$(dirname "$cli")"
  tmpbin=$(mktemp -d)
  # Later tags carry a replace directive that `go install pkg@version` refuses.
  CGO_ENABLED=0 GOBIN="$tmpbin" go install \
    -ldflags "-s -w -X github.com/temporalio/cli/temporalcli.Version=$TEMPORAL_VERSION" \
    "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_VERSION"
  mv "$tmpbin/temporal" "$cli"
  rmdir "$tmpbin"
fi
"$cli" --version >/dev/null || { say "the Temporal CLI at $cli does not run"; exit 1; }
export SIGRELEASE_TEMPORAL_CLI="$cli"

# 4. The CLI as JavaScript (bin/sigrelease runs the TypeScript through tsx while dist/ is older than a source).
stamp=dist/.built
if [ ! -f "$stamp" ] || [ -n "$(find src workflows activities test/fixtures tsconfig.json tsconfig.build.json package-lock.json scripts/bundle-cli.mjs -newer "$stamp" -print -quit)" ]; then
  say "building the CLI to JavaScript (dist/)"
  mkdir -p dist
  touch "$stamp.next"   # a source saved during the build stays newer than the stamp: rebuilt next time
  if npx tsc -p tsconfig.build.json; then
    # The short commands' bundle (dist/cli/); if it cannot be made they start from dist/src/, slower but the same.
    node scripts/bundle-cli.mjs || { rm -rf dist/cli; say "bundling the CLI failed (above); short commands start from dist/src/"; }
    mv "$stamp.next" "$stamp"
  else
    # A type error must not stop the demo: without a current stamp bin/sigrelease runs the sources through tsx.
    rm -f "$stamp.next"
    say "tsc reported errors (above); bin/sigrelease runs the TypeScript sources until they are fixed"
  fi
fi

# 5. Tests only: the Temporal server and its SQL tool (PostgreSQL-backed test), same module line as the dev server.
if [ "$mode" = test ]; then
  bash scripts/build-temporal-server.sh >/dev/null
fi
