#!/usr/bin/env bash
# Builds the PostgreSQL-capable Temporal server and its schema tool from the Go module proxy, once per
# machine, for the PostgreSQL-backed test (test/deploy/postgres-release.int.test.ts):
#   <dir>/temporal-server      go.temporal.io/server/cmd/server      (v1.29.1, the line CLI v1.5.1 embeds)
#   <dir>/temporal-sql-tool    go.temporal.io/server/cmd/tools/sql
#   <dir>/schema/postgresql/v12/{temporal,visibility}   the versioned schema, copied from the module
# <dir> is $SIGRELEASE_TEMPORAL_SERVER_DIR, else ~/.cache/sigrelease/temporal-server-1.29.1.
# Idempotent: when all three are present it only prints the directory (well under a second).
# Prints the directory on stdout; progress goes to stderr.
set -euo pipefail

SERVER_VERSION=1.29.1
cache="${XDG_CACHE_HOME:-$HOME/.cache}/sigrelease"
dir="${SIGRELEASE_TEMPORAL_SERVER_DIR:-$cache/temporal-server-$SERVER_VERSION}"
say() { printf 'build-temporal-server: %s\n' "$*" >&2; }

done_marker="$dir/.complete-$SERVER_VERSION"
if [ -f "$done_marker" ] && [ -x "$dir/temporal-server" ] && [ -x "$dir/temporal-sql-tool" ] \
  && [ -d "$dir/schema/postgresql/v12/temporal/versioned" ] && [ -d "$dir/schema/postgresql/v12/visibility/versioned" ]; then
  echo "$dir"
  exit 0
fi

# Go: PATH, then the usual tarball location.
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; fi
command -v go >/dev/null || { say "Go >= 1.25 is required (go not found)"; exit 1; }
# The server's go.mod says `go 1.25.0`; an older Go would try to fetch a toolchain, which fails offline.
gover=$(go env GOVERSION | sed 's/^go//')
case "$gover" in
  1.2[5-9]* | 1.[3-9][0-9]* | [2-9].*) ;;
  *) say "Go >= 1.25 is required, found go$gover"; exit 1 ;;
esac

say "building temporal-server and temporal-sql-tool v$SERVER_VERSION (a few minutes on 2 cores, once per machine)"
mkdir -p "$dir"
tmpbin=$(mktemp -d)
trap 'rm -rf "$tmpbin"' EXIT
# go.temporal.io/server v1.29.1 has no replace/exclude directives, so `go install pkg@version` works.
# Version stamping: the server reports headers.ServerVersion (a constant in the module), nothing to inject.
CGO_ENABLED=0 GOBIN="$tmpbin" GOFLAGS="${GOFLAGS:-} -trimpath" go install -ldflags "-s -w" \
  "go.temporal.io/server/cmd/server@v$SERVER_VERSION" \
  "go.temporal.io/server/cmd/tools/sql@v$SERVER_VERSION"
mv "$tmpbin/server" "$dir/temporal-server"
mv "$tmpbin/sql" "$dir/temporal-sql-tool"

# The schema lives in the module; copy it next to the binaries so the test does not depend on GOMODCACHE.
modroot=$(go env GOMODCACHE)/go.temporal.io/server@v$SERVER_VERSION
[ -d "$modroot/schema/postgresql/v12" ] || go mod download "go.temporal.io/server@v$SERVER_VERSION"
rm -rf "$dir/schema"
mkdir -p "$dir/schema/postgresql"
cp -R "$modroot/schema/postgresql/v12" "$dir/schema/postgresql/v12"
chmod -R u+w "$dir/schema"   # the module cache is read-only

"$dir/temporal-server" --version >/dev/null || { say "$dir/temporal-server does not run"; exit 1; }
"$dir/temporal-sql-tool" --help >/dev/null || { say "$dir/temporal-sql-tool does not run"; exit 1; }
touch "$done_marker"
say "built into $dir"
echo "$dir"
