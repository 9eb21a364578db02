#!/usr/bin/env bash
# Mutual TLS for remote Docker engines (sandbox hosts), with openssl:
#   bash deploy/certs.sh DIR ADDRESS [ADDRESS...]
# makes, in DIR (created 0700):
#   ca.pem, ca-key.pem          a CA (kept and reused when DIR already has one)
#   cert.pem, key.pem           the farm's client certificate (extendedKeyUsage clientAuth),
#                               made once; ca.pem, cert.pem and key.pem are what the farm's
#                               `sandbox.engines[].tls` names (and DOCKER_CERT_PATH's layout)
#   server-ADDRESS-cert.pem, server-ADDRESS-key.pem
#                               the engine's certificate for the addresses given (IPs or DNS
#                               names, all in its subjectAltName; serverAuth), named by the
#                               first; dockerd takes them with --tlsverify --tlscacert ca.pem
#                               --tlscert ... --tlskey ...
# Keys are EC P-256, private keys 0600. CERTS_DAYS sets the validity (default 825 days).
set -euo pipefail

usage() {
  echo "usage: bash deploy/certs.sh DIR ADDRESS [ADDRESS...]   (ADDRESS: the engine's IP or DNS name)" >&2
  exit 2
}
[ $# -ge 2 ] || usage
dir=$1
shift
days=${CERTS_DAYS:-825}
command -v openssl > /dev/null || { echo "certs: openssl is missing: apt-get install openssl" >&2; exit 1; }

san=""
for address in "$@"; do
  if [[ $address =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    san+="${san:+,}IP:$address"
  elif [[ $address =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]]; then
    san+="${san:+,}DNS:$address"
  else
    echo "certs: '$address' is neither an IPv4 address nor a DNS name" >&2
    exit 2
  fi
done

mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"
umask 077

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2> /dev/null; }

if [ ! -f ca.pem ] || [ ! -f ca-key.pem ]; then
  key ca-key.pem
  openssl req -new -x509 -key ca-key.pem -out ca.pem -days "$days" -subj "/CN=sandfarm engines CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
  echo "certs: made the CA ($dir/ca.pem)"
fi

# sign NAME SUBJECT EXTENSIONS: NAME-key.pem and NAME-cert.pem, signed by the CA.
sign() {
  local name=$1 subject=$2 extensions=$3
  key "$name-key.pem"
  openssl req -new -key "$name-key.pem" -subj "$subject" -out "$name.csr"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days "$days" \
    -out "$name-cert.pem" -extfile <(printf '%s\n' "$extensions") 2> /dev/null
  rm -f "$name.csr"
}

if [ ! -f cert.pem ] || [ ! -f key.pem ]; then
  sign client "/CN=sandfarm farm" "extendedKeyUsage=clientAuth
keyUsage=critical,digitalSignature"
  mv client-cert.pem cert.pem
  mv client-key.pem key.pem
  echo "certs: made the farm's client certificate ($dir/cert.pem, $dir/key.pem)"
fi

server="server-$1"
sign "$server" "/CN=$1" "subjectAltName=$san
extendedKeyUsage=serverAuth
keyUsage=critical,digitalSignature"
chmod 644 ca.pem cert.pem "$server-cert.pem"
echo "certs: made the engine's certificate for $san ($dir/$server-cert.pem, $dir/$server-key.pem)"
echo "certs: dockerd --tlsverify --tlscacert $dir/ca.pem --tlscert $dir/$server-cert.pem --tlskey $dir/$server-key.pem"
echo "certs: sandbox.engines entry: tls: {ca: $dir/ca.pem, cert: $dir/cert.pem, key: $dir/key.pem}"
