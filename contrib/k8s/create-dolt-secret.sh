#!/bin/sh
# Creates Secret gc-dolt-credentials (key `password`) with a random password in namespace $1
# (default gc), unless it exists: an existing password is never replaced behind Dolt's back.
# usage: create-dolt-secret.sh [namespace]   (uses kubectl, or $KUBECTL)
set -eu
ns=${1:-gc}
kubectl=${KUBECTL:-kubectl}
if "$kubectl" -n "$ns" get secret gc-dolt-credentials >/dev/null 2>&1; then
  echo "secret $ns/gc-dolt-credentials exists; keeping it"
  exit 0
fi
pw=$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')
"$kubectl" -n "$ns" create secret generic gc-dolt-credentials --from-literal=password="$pw" --from-literal=user=root >/dev/null
echo "created secret $ns/gc-dolt-credentials"
