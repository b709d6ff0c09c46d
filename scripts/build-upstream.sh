#!/usr/bin/env bash
# Builds the upstream Go programs gc-k8s needs (Kubernetes, etcd, CoreDNS, gc, bd, Dolt) from their
# published Go modules, through one wrapper module per component, into a cache keyed by version.
# Nothing here is committed upstream source: wrappers live under $GC_K8S_CACHE, not in the repo.
# One component is ours: bd-serve (image/agent/bd-serve, on beads' public Go API), keyed by the
# hash of its source.
#
# usage: scripts/build-upstream.sh [--dirs] [component...]   (default: all)
# prints the bin dir of each component; progress goes to stderr; each build logs to <cache>/logs.
# --dirs: only print the bin dirs (built or not; a dir is complete when it holds .complete).
# Builds of one component are serialized with flock (a second caller waits, then finds the marker).
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.34.10}
ETCD_VERSION=${ETCD_VERSION:-v3.6.14}
COREDNS_VERSION=${COREDNS_VERSION:-v1.14.7}
GC_VERSION=${GC_VERSION:-v0.15.1}
BD_VERSION=${BD_VERSION:-v1.0.0}
# Dolt lives in the go/ subdirectory without go/ tags: pseudo-versions of commits. v1.86.1 (what gc's CI
# pins) is v0.40.5-0.20260410231933-91938a776b02, but the module proxy reachable here refuses it; the
# default is the commit beads v1.0.0 requires (dolt 1.84.0), which the proxy serves. DOLT_VERSION overrides.
DOLT_VERSION=${DOLT_VERSION:-v0.40.5-0.20260326074512-005921bdd8ca}

# our own bd channel server; Dockerfile.agent copies it beside this script
BD_SERVE_SRC=${BD_SERVE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/image/agent/bd-serve}

CACHE=${GC_K8S_CACHE:-$HOME/.cache/gc-k8s}
GOV=$(go env GOVERSION)
export GOWORK=off GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
export GOMODCACHE=${GOMODCACHE_OVERRIDE:-$CACHE/go/mod}
export GOCACHE=${GOCACHE_OVERRIDE:-$CACHE/go/build}
LOGS=$CACHE/logs
mkdir -p "$LOGS"

say() { printf '[build-upstream] %s\n' "$*" >&2; }

# run_logged NAME CMD...: runs CMD with output to a log, printing a heartbeat so long builds show progress.
run_logged() {
  local name=$1; shift
  local log=$LOGS/$name.log start=$SECONDS
  say "$name: building (log: $log)"
  ("$@") >"$log" 2>&1 &
  local pid=$!
  local beat=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if [ $((SECONDS - beat)) -ge 20 ] && kill -0 "$pid" 2>/dev/null; then
      beat=$SECONDS
      say "$name: still building, $((SECONDS - start))s, last: $(tail -n1 "$log" | cut -c1-120)"
    fi
  done
  if ! wait "$pid"; then
    say "$name: FAILED after $((SECONDS - start))s; last lines of $log:"
    tail -n 30 "$log" >&2
    return 1
  fi
  say "$name: done in $((SECONDS - start))s"
}

# done_marker DIR: a build is complete only when its marker exists (a crashed build is redone).
is_built() { [ -f "$1/.complete" ]; }

build_k8s() {
  local dir=$CACHE/k8s-$K8S_VERSION-$GOV out w
  out=$dir/bin; w=$dir/wrapper
  if is_built "$out"; then echo "$out"; return; fi
  mkdir -p "$out" "$w"
  (
    set -e
    cd "$w"
    local stg=v0.${K8S_VERSION#v1.} minor kmod commit date ld tags
    minor=$(echo "$K8S_VERSION" | cut -d. -f2)
    printf 'module localbuild/k8s\n\ngo 1.24.0\n\ngodebug default=go1.24\n' > go.mod
    kmod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
    if grep -E '=>' "$kmod" | grep -vq '=> \./staging/'; then
      echo "unexpected non-staging replace in $kmod" >&2; exit 1
    fi
    for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/.*#\1#p' "$kmod"); do
      go mod edit -replace="$m=$m@$stg"
    done
    go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION" \
      "k8s.io/kubernetes/cmd/kube-controller-manager@$K8S_VERSION" \
      "k8s.io/kubernetes/cmd/kube-scheduler@$K8S_VERSION" "k8s.io/kubernetes/cmd/kubectl@$K8S_VERSION" \
      "k8s.io/kubernetes/cmd/kube-proxy@$K8S_VERSION" "k8s.io/kubernetes/cmd/kubelet@$K8S_VERSION"
    commit=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"Hash": "\([0-9a-f]\{40\}\)".*/\1/p' | head -1)
    date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    ld="-s -w"
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=$date"
      [ -n "$commit" ] && ld="$ld -X $p.gitCommit=$commit"
    done
    tags=selinux,notest,grpcnotrace
    CGO_ENABLED=0 go build -trimpath -tags "$tags" -ldflags "$ld" -o "$out/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl k8s.io/kubernetes/cmd/kube-proxy
    CGO_ENABLED=1 go build -trimpath -tags "$tags" -ldflags "$ld" -o "$out/" k8s.io/kubernetes/cmd/kubelet
  ) >/dev/null || return 1
  for b in kube-apiserver kube-controller-manager kube-scheduler kubectl kube-proxy kubelet; do
    [ -x "$out/$b" ] || { echo "k8s build produced no $b" >&2; return 1; }
  done
  touch "$out/.complete"
  echo "$out"
}

build_etcd() {
  local dir=$CACHE/etcd-$ETCD_VERSION-$GOV out w
  out=$dir/bin; w=$dir/wrapper
  if is_built "$out"; then echo "$out"; return; fi
  mkdir -p "$out" "$w"
  (
    set -e
    cd "$w"
    printf 'module localbuild/etcd\n\ngo 1.25.0\n' > go.mod
    go get -tool "go.etcd.io/etcd/server/v3@$ETCD_VERSION" "go.etcd.io/etcd/etcdctl/v3@$ETCD_VERSION"
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/etcdctl" go.etcd.io/etcd/etcdctl/v3
  ) >/dev/null || return 1
  [ -x "$out/etcd" ] || { echo "etcd build produced no binary" >&2; return 1; }
  touch "$out/.complete"
  echo "$out"
}

# go_install NAME VERSION CGO TAGS PKG@VER: for modules without replace directives.
go_install() {
  local name=$1 version=$2 cgo=$3 tags=$4 pkg=$5 ldflags=${6:-"-s -w"}
  local out=$CACHE/$name-$version-$GOV/bin
  if is_built "$out"; then echo "$out"; return; fi
  mkdir -p "$out"
  local bin
  bin=$(basename "${pkg%@*}")
  if ! CGO_ENABLED=$cgo GOBIN=$out go install -trimpath ${tags:+-tags "$tags"} -ldflags "$ldflags" "$pkg" >&2; then
    # `go install pkg@version` also asks the proxy for the module's version list (deprecation check),
    # which some proxies refuse although they serve the version itself: retry through a wrapper module
    echo "go install failed; retrying through a wrapper module (go get -tool + go build)" >&2
    local w=$CACHE/$name-$version-$GOV/wrapper
    rm -rf "$w"; mkdir -p "$w"
    (cd "$w" && printf 'module localbuild/%s\n\ngo 1.24.0\n' "$name" > go.mod &&
      go get -tool "$pkg" &&
      CGO_ENABLED=$cgo go build -trimpath ${tags:+-tags "$tags"} -ldflags "$ldflags" -o "$out/$bin" "${pkg%@*}") >&2 || return 1
  fi
  [ -x "$out/$bin" ] || { echo "go install $pkg produced no binary in $out" >&2; return 1; }
  touch "$out/.complete"
  echo "$out"
}

build_coredns() { go_install coredns "$COREDNS_VERSION" 0 grpcnotrace "github.com/coredns/coredns@$COREDNS_VERSION" \
  "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION"; }
# gc, bd and Dolt come only from the Go module proxy. When it refuses a module ("403 This module
# version is not available"), the build fails with that message and callers treat the component as
# optional (the agent image then ships stubs for gc/bd that say so).
build_gc() { go_install gc "$GC_VERSION" 0 "" "github.com/gastownhall/gascity/cmd/gc@$GC_VERSION"; }
build_bd() { go_install bd "$BD_VERSION" 0 "" "github.com/steveyegge/beads/cmd/bd@$BD_VERSION"; }
build_dolt() { go_install dolt "$DOLT_VERSION" 1 gms_pure_go,timetzdata "github.com/dolthub/dolt/go/cmd/dolt@$DOLT_VERSION"; }

# bd-serve: built from the repo's source against beads $BD_VERSION (its go.mod pins it).
bd_serve_key() { (cd "$BD_SERVE_SRC" && cat go.mod go.sum ./*.go) | sha256sum | cut -c1-12; }
build_bd-serve() {
  local out
  out=$(dir_of bd-serve)
  if is_built "$out"; then echo "$out"; return; fi
  mkdir -p "$out"
  (cd "$BD_SERVE_SRC" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/gc-bd-serve" .) >&2 || return 1
  [ -x "$out/gc-bd-serve" ] || { echo "bd-serve build produced no binary" >&2; return 1; }
  touch "$out/.complete"
  echo "$out"
}

build_to() { "build_$1" > "$2" || return 1; }

dirs_only=0
if [ "${1:-}" = --dirs ]; then dirs_only=1; shift; fi
dir_of() {
  case $1 in
    k8s) echo "$CACHE/k8s-$K8S_VERSION-$GOV/bin" ;;
    etcd) echo "$CACHE/etcd-$ETCD_VERSION-$GOV/bin" ;;
    coredns) echo "$CACHE/coredns-$COREDNS_VERSION-$GOV/bin" ;;
    gc) echo "$CACHE/gc-$GC_VERSION-$GOV/bin" ;;
    bd) echo "$CACHE/bd-$BD_VERSION-$GOV/bin" ;;
    dolt) echo "$CACHE/dolt-$DOLT_VERSION-$GOV/bin" ;;
    bd-serve) echo "$CACHE/bd-serve-$(bd_serve_key)-$GOV/bin" ;;
  esac
}
components=("$@")
[ ${#components[@]} -gt 0 ] || components=(k8s etcd coredns gc bd bd-serve dolt)
for c in "${components[@]}"; do
  case $c in
    k8s|etcd|coredns|gc|bd|bd-serve|dolt) ;;
    *) say "unknown component '$c' (known: k8s etcd coredns gc bd bd-serve dolt)"; exit 2 ;;
  esac
  if [ $dirs_only = 1 ]; then dir_of "$c"; continue; fi
  if is_built "$(dir_of "$c")"; then dir_of "$c"; continue; fi
  # a recent failure (e.g. the module proxy refusing the module) is not retried for an hour,
  # unless GC_K8S_RETRY_BUILDS=1: callers that treat the component as optional stay fast
  failed=$(dirname "$(dir_of "$c")")/.failed
  if [ -z "${GC_K8S_RETRY_BUILDS:-}" ] && [ -f "$failed" ] && [ -n "$(find "$failed" -mmin -60 2>/dev/null)" ]; then
    say "$c: failed recently (GC_K8S_RETRY_BUILDS=1 to retry now): $(tail -n 3 "$failed" | tr '\n' ' ')"
    exit 1
  fi
  # one builder per component at a time: wait for a concurrent build instead of fighting for the cores
  mkdir -p "$CACHE/locks"
  exec {lockfd}>"$CACHE/locks/$c.lock"
  if ! flock -n "$lockfd"; then
    say "$c: another build is running (lock $CACHE/locks/$c.lock); waiting for it"
    flock "$lockfd"
  fi
  # run the build with a heartbeat, then print its bin dir on stdout
  tmp=$(mktemp)
  if run_logged "$c" build_to "$c" "$tmp"; then
    cat "$tmp"; rm -f "$tmp" "$failed"
  else
    rm -f "$tmp"; mkdir -p "$(dirname "$failed")"; tail -n 5 "$LOGS/$c.log" > "$failed"; exit 1
  fi
  exec {lockfd}>&-
done
