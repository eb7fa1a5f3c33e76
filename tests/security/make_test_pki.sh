#!/bin/sh
# Makes a throw-away PKI for the TLS tests in DIR (created if missing), with
# the same openssl commands docs/security.md gives users:
#   ca.pem / ca.key            a CA
#   server.pem / server.key    the server, signed by the CA, for localhost and 127.0.0.1
#   client.pem / client.key    a client, signed by the CA (mutual TLS)
#   other-ca.pem, other-client.pem / other-client.key
#                              a second CA and a client it signed (not trusted)
#   mismatched.key             a key that belongs to no certificate here
# Keys are EC P-256, certificates valid for 2 days.
#   usage: make_test_pki.sh DIR
set -eu
dir=${1:?usage: make_test_pki.sh DIR}
mkdir -p "$dir"
cd "$dir"
command -v openssl >/dev/null || { echo "openssl is not installed (scripts/install-deps.sh)" >&2; exit 1; }

ca() {  # ca NAME CN
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=$2" -keyout "$1.key" -out "$1.pem" 2>/dev/null
}
leaf() {  # leaf NAME CA CN EXTENSIONS
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=$3" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 2 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

ca ca "attnserve test CA"
leaf server ca localhost "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
leaf client ca "attnserve test client" "extendedKeyUsage=clientAuth"
ca other-ca "another CA"
leaf other-client other-ca "untrusted client" "extendedKeyUsage=clientAuth"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out mismatched.key 2>/dev/null
