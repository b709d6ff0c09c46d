#!/usr/bin/env bash
# Installs what a local gc-k8s node needs on a Debian host and prints KEY=VALUE lines on stdout:
#   CONTAINERD_BIN=<dir with containerd, containerd-shim-runc-v2, ctr (2.x, from Debian sid)>
# Debian packages (bookworm): runc 1.1.5, CNI plugins (/usr/lib/cni), debootstrap, iptables (nft), conntrack,
# nftables, ipset (kube-router's NetworkPolicy rules), gcc (static pause). containerd 2.x comes from sid, extracted with dpkg-deb into the cache without
# touching the system's apt configuration (its binaries link only against libc and run on bookworm).
# Idempotent: does nothing when everything is present. Progress goes to stderr.
set -euo pipefail

CACHE=${GC_K8S_CACHE:-$HOME/.cache/gc-k8s}
CONTAINERD_VERSION=${CONTAINERD_VERSION:-2.1.9}
CONTAINERD_SUITE=${CONTAINERD_SUITE:-sid}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
say() { printf '[host-deps] %s\n' "$*" >&2; }

# package:command pairs; a package is installed when its command is missing
need=()
for pc in runc:runc containernetworking-plugins:/usr/lib/cni/bridge debootstrap:debootstrap iptables:iptables \
          conntrack:conntrack nftables:nft gcc:gcc libc6-dev:/usr/include/stdio.h iproute2:ip util-linux:nsenter \
          openssl:openssl tar:tar busybox-static:/bin/busybox ipset:ipset; do
  p=${pc%%:*}; c=${pc#*:}
  if [[ $c == /* ]]; then [ -e "$c" ] || need+=("$p"); else command -v "$c" >/dev/null 2>&1 || need+=("$p"); fi
done
if [ ${#need[@]} -gt 0 ]; then
  say "installing Debian packages: ${need[*]} (apt-get; log follows)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${need[@]}" >&2
fi

out=$CACHE/containerd-$CONTAINERD_VERSION/bin
if [ ! -f "$out/.complete" ]; then
  work=$CACHE/containerd-$CONTAINERD_VERSION/work
  rm -rf "$work"; mkdir -p "$work/lists/partial" "$work/archives/partial" "$out"
  echo "deb $MIRROR $CONTAINERD_SUITE main" > "$work/sources.list"
  opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::Archives=$work/archives" -o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root)
  say "fetching containerd $CONTAINERD_VERSION from Debian $CONTAINERD_SUITE (apt-get update on a private list dir)"
  apt-get "${opts[@]}" update -q >&2
  avail=$(apt-cache "${opts[@]}" policy containerd | sed -n 's/^ *Candidate: //p')
  case $avail in
    "$CONTAINERD_VERSION"*) ;;
    *) say "WARNING: $CONTAINERD_SUITE has containerd '$avail', wanted $CONTAINERD_VERSION; using it";;
  esac
  (cd "$work" && apt-get "${opts[@]}" download containerd >&2)
  deb=$(ls "$work"/containerd_*.deb | head -1)
  dpkg-deb -x "$deb" "$work/x"
  for b in containerd containerd-shim-runc-v2 ctr; do
    install -m 0755 "$work/x/usr/bin/$b" "$out/$b"
  done
  "$out/containerd" --version >&2
  rm -rf "$work"
  touch "$out/.complete"
fi
echo "CONTAINERD_BIN=$out"
