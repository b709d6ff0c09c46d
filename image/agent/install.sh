#!/bin/sh
# Installs the gc-k8s agent image into the current root filesystem. The single source of truth for
# the agent image: Dockerfile.agent runs it (RUN), and the local builder (src/cluster/images.ts) runs
# it with chroot after debootstrap. Inputs in $GC_K8S_INSTALL_DIR (default /tmp/gc-k8s-install):
#   packages.txt, gc-agent-start, bin/gc, bin/bd, and optionally bin/gc-bd-serve
# The agent runs as user gcagent with the FIXED uid/gid 1000 (pods may set runAsUser: 1000 and
# fsGroup: 1000; workspace volumes must be writable by 1000).
set -eu
D=${GC_K8S_INSTALL_DIR:-/tmp/gc-k8s-install}
GCAGENT_UID=1000
GCAGENT_GID=1000

pkgs=$(grep -v '^[[:space:]]*#' "$D/packages.txt" | tr -s ' \n' ' ')
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi

install -m 0755 "$D/bin/gc" /usr/local/bin/gc
install -m 0755 "$D/bin/bd" /usr/local/bin/bd
if [ -f "$D/bin/gc-bd-serve" ]; then install -m 0755 "$D/bin/gc-bd-serve" /usr/local/bin/gc-bd-serve; fi
install -m 0755 "$D/gc-agent-start" /usr/local/bin/gc-agent-start

getent group gcagent >/dev/null || groupadd -g "$GCAGENT_GID" gcagent
getent passwd gcagent >/dev/null || useradd -m -u "$GCAGENT_UID" -g "$GCAGENT_GID" -s /bin/bash -d /home/gcagent gcagent
mkdir -p /workspace
chown "$GCAGENT_UID:$GCAGENT_GID" /workspace
chmod 0755 /workspace

# smaller image: apt caches, docs, man pages and non-English locales are not needed by agents
rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /var/cache/apt/*.bin /var/log/*.log \
  /usr/share/doc/* /usr/share/man/* /usr/share/info/*
find /usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'en*' ! -name 'locale.alias' -exec rm -rf {} + 2>/dev/null || true
