#!/bin/sh
# One-shot namespace job (docker-compose service `temporal-namespace`, image temporalio/admin-tools).
# Creates the sigrelease namespace with its retention period and registers the Keyword search
# attributes the pipeline writes (workflows/messages.ts SEARCH_ATTRIBUTES). Safe to run again: an
# existing namespace keeps its settings except the retention, which is brought to the configured one;
# the CLI accepts search attributes that already exist with the same type.
set -eu

address="${TEMPORAL_ADDRESS:-temporal:7233}"
# With authorization on, the job presents a namespace-admin token (sigrelease token issue --role admin) read from a
# mounted file, so it never shows in `docker inspect`; the CLI reads TEMPORAL_API_KEY and the TEMPORAL_TLS_* paths.
if [ -n "${SIGRELEASE_ADMIN_TOKEN_FILE:-}" ]; then
  [ -r "$SIGRELEASE_ADMIN_TOKEN_FILE" ] || { echo "create-namespace: cannot read the token file $SIGRELEASE_ADMIN_TOKEN_FILE" >&2; exit 2; }
  TEMPORAL_API_KEY=$(tr -d ' \n' < "$SIGRELEASE_ADMIN_TOKEN_FILE")
  export TEMPORAL_API_KEY
fi
namespace="${SIGRELEASE_NAMESPACE:-sigrelease}"
retention="${SIGRELEASE_RETENTION:-30d}"

# `cluster system` passes only once TLS and the token are accepted: the server fetches its key set from the
# temporal-jwks container, which starts after it, so the first minute's calls may be refused.
tries=0
until temporal operator cluster system --address "$address" >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -lt 90 ] || { echo "create-namespace: Temporal at $address does not accept us (TLS or token); last answer:" >&2; temporal operator cluster system --address "$address" >&2 || true; exit 1; }
  sleep 2
done

if temporal operator namespace describe --address "$address" --namespace "$namespace" >/dev/null 2>&1; then
  echo "create-namespace: $namespace exists; setting retention $retention"
  temporal operator namespace update --address "$address" --namespace "$namespace" --retention "$retention"
else
  echo "create-namespace: creating $namespace (retention $retention)"
  temporal operator namespace create --address "$address" --namespace "$namespace" --retention "$retention" \
    --description "Rocky Linux SIG releases (sigrelease)"
fi

# A new namespace is served after the namespace cache refreshes (about 10 s): retry until it is.
tries=0
until temporal operator search-attribute create --address "$address" --namespace "$namespace" \
  --name SigName --type Keyword \
  --name SigRelease --type Keyword \
  --name SigStage --type Keyword \
  --name SigApprover --type Keyword; do
  tries=$((tries + 1))
  [ "$tries" -lt 30 ] || { echo "create-namespace: could not register search attributes in $namespace" >&2; exit 1; }
  sleep 2
done
temporal operator search-attribute list --address "$address" --namespace "$namespace"
echo "create-namespace: done"
