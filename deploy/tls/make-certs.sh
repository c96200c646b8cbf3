#!/bin/sh
# Certificates for a closed Temporal deployment (deploy/README.md "Certificates"), made with openssl.
#
#   deploy/tls/make-certs.sh [--out DIR] [--days N] [--force] all
#   deploy/tls/make-certs.sh [--out DIR] [--days N] [--force] operator NAME
#   deploy/tls/make-certs.sh [--out DIR] [--days N] [--force] server|worker|ui|admin
#
# Two certificate authorities, on purpose:
#   ca/ca.pem            signs the frontend's server certificate and every client (workers, Web UI, operators,
#                        the namespace job); the frontend accepts clients it signed.
#   ca/internode-ca.pem  signs only the internode certificate. The internal-frontend port that authorization
#                        needs answers as an administrator without a token; it accepts only this CA, so a client
#                        certificate from ca/ca.pem cannot reach it.
# One folder per consumer, holding only what it needs (each compose service mounts its own):
#   server/      frontend.pem/.key, internode.pem/.key, ca.pem, internode-ca.pem   (the temporal service)
#   worker/ ui/ admin/ operators/NAME/   cert.pem, key.pem, ca.pem
# Keys are EC P-256 in PKCS#8, mode 0600. Run as root, each key is given to the uid its container runs as
# (TEMPORAL_UID, UI_UID, ADMIN_UID: 1000; SIGRELEASE_UID: 10004), as the clients refuse keys others can read.
# Existing files are kept unless --force: re-running is safe, and --force on one target rotates that certificate.
# The frontend certificate names temporal, localhost and 127.0.0.1; add names with TEMPORAL_TLS_EXTRA_SANS,
# e.g. "DNS:temporal.example.org,IP:192.0.2.10".
set -eu

out="$(dirname "$0")/out"
days=365
force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --days) days="$2"; shift 2 ;;
    --force) force=1; shift ;;
    -*) echo "make-certs: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
target="${1:-}"
case "$days" in *[!0-9]* | '') echo "make-certs: --days must be a number of days (got \"$days\")" >&2; exit 2 ;; esac

umask 077
mkdir -p "$out/ca"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# make_ca NAME SUBJECT: a CA valid ten years, made once (its rotation is a new deployment of every certificate).
make_ca() {
  [ -f "$out/ca/$1.pem" ] && return 0
  newkey "$out/ca/$1.key"
  openssl req -new -x509 -key "$out/ca/$1.key" -out "$out/ca/$1.pem" -days 3650 -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  chmod 644 "$out/ca/$1.pem"
  echo "make-certs: made CA $out/ca/$1.pem" >&2
}

# leaf CA CN EKU SAN CERT KEY: a certificate signed by ca/CA.pem.
leaf() {
  ca="$1"; cn="$2"; eku="$3"; san="$4"; cert="$5"; key="$6"
  if [ -f "$cert" ] && [ "$force" -eq 0 ]; then
    echo "make-certs: keeping $cert (--force to reissue)" >&2
    return 0
  fi
  mkdir -p "$(dirname "$cert")"
  # Containers run as other users: they must reach their folder (the keys inside stay 0600).
  chmod 755 "$(dirname "$cert")"
  [ "$(dirname "$(dirname "$cert")")" = "$out/operators" ] && chmod 755 "$out/operators"
  newkey "$tmp/key.pem"
  openssl req -new -key "$tmp/key.pem" -out "$tmp/req.csr" -subj "/O=sigrelease/CN=$cn" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=$eku"
    [ -n "$san" ] && echo "subjectAltName=$san"
  } > "$tmp/ext.cnf"
  openssl x509 -req -in "$tmp/req.csr" -CA "$out/ca/$ca.pem" -CAkey "$out/ca/$ca.key" -CAcreateserial \
    -out "$tmp/cert.pem" -days "$days" -sha256 -extfile "$tmp/ext.cnf" 2>/dev/null
  mv "$tmp/key.pem" "$key"
  mv "$tmp/cert.pem" "$cert"
  chmod 600 "$key"
  chmod 644 "$cert"
  echo "make-certs: issued $cert (CN=$cn, $days days)" >&2
}

# give KEY UID: containers run as their own user and refuse a key others can read, so the key is theirs.
give() { [ "$(id -u)" -eq 0 ] && chown "$2" "$1" || true; }

client() { # client FOLDER CN UID
  leaf ca "$2" clientAuth "" "$1/cert.pem" "$1/key.pem"
  cp "$out/ca/ca.pem" "$1/ca.pem"
  chmod 644 "$1/ca.pem"
  give "$1/key.pem" "$3"
}

server() {
  sans="DNS:temporal,DNS:localhost,IP:127.0.0.1${TEMPORAL_TLS_EXTRA_SANS:+,$TEMPORAL_TLS_EXTRA_SANS}"
  leaf ca temporal serverAuth,clientAuth "$sans" "$out/server/frontend.pem" "$out/server/frontend.key"
  leaf internode-ca internode.temporal serverAuth,clientAuth "DNS:internode.temporal,IP:127.0.0.1" "$out/server/internode.pem" "$out/server/internode.key"
  cp "$out/ca/ca.pem" "$out/server/ca.pem"
  cp "$out/ca/internode-ca.pem" "$out/server/internode-ca.pem"
  chmod 644 "$out/server/ca.pem" "$out/server/internode-ca.pem"
  give "$out/server/frontend.key" "${TEMPORAL_UID:-1000}"
  give "$out/server/internode.key" "${TEMPORAL_UID:-1000}"
}

make_ca ca "/O=sigrelease/CN=sigrelease Temporal CA"
make_ca internode-ca "/O=sigrelease/CN=sigrelease Temporal internode CA"
case "$target" in
  all)
    server
    client "$out/worker" worker "${SIGRELEASE_UID:-10004}"
    client "$out/ui" temporal-ui "${UI_UID:-1000}"
    client "$out/admin" temporal-admin "${ADMIN_UID:-1000}"
    ;;
  server) server ;;
  worker) client "$out/worker" worker "${SIGRELEASE_UID:-10004}" ;;
  ui) client "$out/ui" temporal-ui "${UI_UID:-1000}" ;;
  admin) client "$out/admin" temporal-admin "${ADMIN_UID:-1000}" ;;
  operator)
    name="${2:-}"
    case "$name" in
      '' | *[!A-Za-z0-9._@-]*) echo "make-certs: operator needs a NAME of letters, digits and . _ @ - (got \"$name\")" >&2; exit 2 ;;
    esac
    client "$out/operators/$name" "$name" "$(id -u)"
    ;;
  *) echo "usage: make-certs.sh [--out DIR] [--days N] [--force] all | server | worker | ui | admin | operator NAME" >&2; exit 2 ;;
esac
echo "make-certs: done ($out)" >&2
