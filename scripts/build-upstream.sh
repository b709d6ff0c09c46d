#!/usr/bin/env bash
# Builds the upstream Go programs gc-k8s needs (Kubernetes, etcd, CoreDNS, kube-router, kube-state-metrics,
# metrics-server, Prometheus, gc, bd, Dolt) from their
# published Go modules, through one wrapper module per component, into a cache keyed by version.
# Nothing here is committed upstream source: wrappers live under $GC_K8S_CACHE, not in the repo.
# One component is ours: bd-serve (image/agent/bd-serve, on beads' public Go API), keyed by the
# hash of its source.
#
# usage: scripts/build-upstream.sh [--dirs|--plan] [component...]   (default: all)
# prints the bin dir of each component; progress goes to stderr; each build logs to <cache>/logs.
# --dirs: only print the bin dirs (built or not; a dir is complete when it holds .complete).
# --plan: only print, per component, what a build run would do now (see plan_line); builds nothing.
# Builds of one component are serialized with flock (a second caller waits, then finds the marker).
# The heartbeat of a build counts compiled packages and compares the time with the last build, whose
# duration is recorded in <cache>/logs/<component>.seconds.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.34.10}
ETCD_VERSION=${ETCD_VERSION:-v3.6.14}
COREDNS_VERSION=${COREDNS_VERSION:-v1.14.7}
# the local cluster's NetworkPolicy implementation (the controller k3s embeds), firewall mode only.
# kube-network-policies (the one kind ships) needs the nftables `queue` expression, which this
# kernel lacks (CONFIG_NFT_QUEUE unset); kube-router's iptables + ipset rules need nothing missing.
# v2.1.0 is the only version the module proxy here serves.
KUBE_ROUTER_VERSION=${KUBE_ROUTER_VERSION:-v2.1.0}
# the local cluster's observability: kube-state-metrics (object state as metrics) and metrics-server
# (metrics.k8s.io for `kubectl top`). The only versions the module proxy here serves (ksm @latest is refused).
KUBE_STATE_METRICS_VERSION=${KUBE_STATE_METRICS_VERSION:-v2.18.0}
METRICS_SERVER_VERSION=${METRICS_SERVER_VERSION:-v0.8.0}
# Prometheus and promtool (contrib/monitoring's rules are checked and unit-tested with promtool)
PROMETHEUS_VERSION=${PROMETHEUS_VERSION:-v0.316.0}
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

# ---- progress: what a build has compiled out of what it will compile, and how long it should take ----

# seconds between heartbeats (an override only for tests)
HEARTBEAT=${GC_K8S_HEARTBEAT_SECONDS:-20}
# packages the running build will compile, one per line (set per build by run_logged)
PLAN=/dev/null

# estimate_seconds C: a cold build of C on a 2-core machine, used until a build of C is recorded
estimate_seconds() {
  case $1 in
    k8s) echo 660 ;;
    etcd) echo 60 ;;
    coredns) echo 120 ;;
    kube-router) echo 150 ;;
    kube-state-metrics) echo 240 ;;
    metrics-server) echo 360 ;;
    prometheus) echo 600 ;;
    gc) echo 120 ;;
    bd) echo 90 ;;
    bd-serve) echo 60 ;;
    dolt) echo 300 ;;
    *) echo 0 ;;
  esac
}

# expected C: "<seconds> last" from the record of C's last successful build, else "<seconds> estimate"
expected() {
  local s
  s=$(cat "$LOGS/$1.seconds" 2>/dev/null || true)
  if [[ $s =~ ^[0-9]+$ ]]; then echo "$s last"; else echo "$(estimate_seconds "$1") estimate"; fi
}

fmt_dur() { if [ "$1" -ge 60 ]; then printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); else printf '%ds' "$1"; fi; }

# expected_text C: "last build took 11m02s" or "estimate ~11m00s"
expected_text() {
  local s basis
  read -r s basis <<<"$(expected "$1")"
  if [ "$basis" = last ]; then echo "last build took $(fmt_dur "$s")"; else echo "estimate ~$(fmt_dur "$s")"; fi
}

record_seconds() {
  printf '%s\n' "$2" > "$LOGS/$1.seconds.$$" && mv -f "$LOGS/$1.seconds.$$" "$LOGS/$1.seconds"
}

# heartbeat_line C ELAPSED: one line of progress of C's running build, from its log and its plan
heartbeat_line() {
  local c=$1 log=$LOGS/$1.log plan=$LOGS/$1.plan total=0 done=0 what
  [ -s "$plan" ] && total=$(wc -l < "$plan")
  if [ "$total" -gt 0 ]; then
    # `go build -v` prints each package it compiles, on a line of its own
    done=$(grep -cxFf "$plan" "$log" || true)
    [ "$done" -le "$total" ] || done=$total
    if [ "$done" -lt "$total" ]; then what="compiling $done/$total packages"; else what="linking ($total packages compiled)"; fi
  else
    # still resolving and downloading modules: the log's last line is the progress
    what="preparing (last: $(tail -n 1 "$log" 2>/dev/null | tr -d '\r' | cut -c1-100))"
  fi
  echo "$c: $what, $(fmt_dur "$2") ($(expected_text "$c"))"
}

# go_counted SUBCMD ARGS...: `go SUBCMD -v ARGS...` (build or install), after appending to $PLAN the
# packages it will compile: `go SUBCMD -n` prints a "#/# <package>/#" banner for exactly the packages
# missing from the build cache (a cold build: all of them), and -v prints those as they compile.
go_counted() {
  local sub=$1; shift
  # the dry run's "go: downloading" lines stay in the log; a failing dry run only leaves the plan short
  { go "$sub" -n "$@" 2>&1 || true; } | awk '
    /^go: / { print > "/dev/stderr" }
    prev == "#" && /^# [^ ]+$/ { print $2 }
    { prev = $0 }' | sort -u >> "$PLAN" || true
  go "$sub" -v "$@"
}

# run_logged NAME CMD...: runs CMD with output to a log, printing a heartbeat so long builds show progress.
run_logged() {
  local name=$1; shift
  local log=$LOGS/$name.log start=$SECONDS
  say "$name: building (log: $log; $(expected_text "$name"))"
  PLAN=$LOGS/$name.plan
  : > "$PLAN"
  ("$@") >"$log" 2>&1 &
  local pid=$!
  local beat=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if [ $((SECONDS - beat)) -ge "$HEARTBEAT" ] && kill -0 "$pid" 2>/dev/null; then
      beat=$SECONDS
      say "$(heartbeat_line "$name" $((SECONDS - start)))"
    fi
  done
  if ! wait "$pid"; then
    say "$name: FAILED after $(fmt_dur $((SECONDS - start))); last lines of $log:"
    tail -n 30 "$log" >&2
    return 1
  fi
  record_seconds "$name" $((SECONDS - start))
  say "$name: done in $(fmt_dur $((SECONDS - start)))"
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
    CGO_ENABLED=0 go_counted build -trimpath -tags "$tags" -ldflags "$ld" -o "$out/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl k8s.io/kubernetes/cmd/kube-proxy
    CGO_ENABLED=1 go_counted build -trimpath -tags "$tags" -ldflags "$ld" -o "$out/" k8s.io/kubernetes/cmd/kubelet
  ) >/dev/null || return 1
  for b in kube-apiserver kube-controller-manager kube-scheduler kubectl kube-proxy kubelet; do
    [ -x "$out/$b" ] || { echo "k8s build produced no $b" >&2; return 1; }
  done
  touch "$out/.complete"
  echo "$out"
}

# wrapper_build NAME VERSION [BIN=]PKG...: builds each PKG (a main package, at VERSION) through a
# wrapper module (go get -tool + go build) into NAME's bin dir, static; the binary is BIN, or the
# package's last path element.
wrapper_build() {
  local name=$1 version=$2; shift 2
  local dir=$CACHE/$name-$version-$GOV out w spec
  out=$dir/bin; w=$dir/wrapper
  if is_built "$out"; then echo "$out"; return; fi
  mkdir -p "$out" "$w"
  local pkgs=() bins=()
  for spec in "$@"; do
    if [[ $spec == *=* ]]; then bins+=("${spec%%=*}"); pkgs+=("${spec#*=}"); else bins+=("${spec##*/}"); pkgs+=("$spec"); fi
  done
  (
    set -e
    cd "$w"
    printf 'module localbuild/%s\n\ngo 1.25.0\n' "$name" > go.mod
    go get -tool "${pkgs[@]/%/@$version}"
    for i in "${!pkgs[@]}"; do CGO_ENABLED=0 go_counted build -trimpath -ldflags "-s -w" -o "$out/${bins[$i]}" "${pkgs[$i]}"; done
  ) >/dev/null || return 1
  for spec in "${bins[@]}"; do
    [ -x "$out/$spec" ] || { echo "$name build produced no $spec" >&2; return 1; }
  done
  touch "$out/.complete"
  echo "$out"
}

build_etcd() { wrapper_build etcd "$ETCD_VERSION" etcd=go.etcd.io/etcd/server/v3 etcdctl=go.etcd.io/etcd/etcdctl/v3; }
build_kube-router() { wrapper_build kube-router "$KUBE_ROUTER_VERSION" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router; }
build_kube-state-metrics() { wrapper_build kube-state-metrics "$KUBE_STATE_METRICS_VERSION" kube-state-metrics=k8s.io/kube-state-metrics/v2; }
build_metrics-server() { wrapper_build metrics-server "$METRICS_SERVER_VERSION" sigs.k8s.io/metrics-server/cmd/metrics-server; }
build_prometheus() {
  wrapper_build prometheus "$PROMETHEUS_VERSION" github.com/prometheus/prometheus/cmd/promtool github.com/prometheus/prometheus/cmd/prometheus
}

# go_install NAME VERSION CGO TAGS PKG@VER: for modules without replace directives.
go_install() {
  local name=$1 version=$2 cgo=$3 tags=$4 pkg=$5 ldflags=${6:-"-s -w"}
  local out=$CACHE/$name-$version-$GOV/bin
  if is_built "$out"; then echo "$out"; return; fi
  mkdir -p "$out"
  local bin
  bin=$(basename "${pkg%@*}")
  if ! CGO_ENABLED=$cgo GOBIN=$out go_counted install -trimpath ${tags:+-tags "$tags"} -ldflags "$ldflags" "$pkg" >&2; then
    # `go install pkg@version` also asks the proxy for the module's version list (deprecation check),
    # which some proxies refuse although they serve the version itself: retry through a wrapper module
    echo "go install failed; retrying through a wrapper module (go get -tool + go build)" >&2
    local w=$CACHE/$name-$version-$GOV/wrapper
    rm -rf "$w"; mkdir -p "$w"
    (cd "$w" && printf 'module localbuild/%s\n\ngo 1.24.0\n' "$name" > go.mod &&
      go get -tool "$pkg" &&
      CGO_ENABLED=$cgo go_counted build -trimpath ${tags:+-tags "$tags"} -ldflags "$ldflags" -o "$out/$bin" "${pkg%@*}") >&2 || return 1
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
  (cd "$BD_SERVE_SRC" && CGO_ENABLED=0 go_counted build -trimpath -ldflags "-s -w" -o "$out/gc-bd-serve" .) >&2 || return 1
  [ -x "$out/gc-bd-serve" ] || { echo "bd-serve build produced no binary" >&2; return 1; }
  touch "$out/.complete"
  echo "$out"
}

build_to() { "build_$1" > "$2" || return 1; }

mode=build
case ${1:-} in
  --dirs) mode=dirs; shift ;;
  --plan) mode=plan; shift ;;
esac
dir_of() {
  case $1 in
    k8s) echo "$CACHE/k8s-$K8S_VERSION-$GOV/bin" ;;
    etcd) echo "$CACHE/etcd-$ETCD_VERSION-$GOV/bin" ;;
    coredns) echo "$CACHE/coredns-$COREDNS_VERSION-$GOV/bin" ;;
    kube-router) echo "$CACHE/kube-router-$KUBE_ROUTER_VERSION-$GOV/bin" ;;
    kube-state-metrics) echo "$CACHE/kube-state-metrics-$KUBE_STATE_METRICS_VERSION-$GOV/bin" ;;
    metrics-server) echo "$CACHE/metrics-server-$METRICS_SERVER_VERSION-$GOV/bin" ;;
    prometheus) echo "$CACHE/prometheus-$PROMETHEUS_VERSION-$GOV/bin" ;;
    gc) echo "$CACHE/gc-$GC_VERSION-$GOV/bin" ;;
    bd) echo "$CACHE/bd-$BD_VERSION-$GOV/bin" ;;
    dolt) echo "$CACHE/dolt-$DOLT_VERSION-$GOV/bin" ;;
    bd-serve) echo "$CACHE/bd-serve-$(bd_serve_key)-$GOV/bin" ;;
  esac
}
failed_file() { echo "$(dirname "$(dir_of "$1")")/.failed"; }
# a recent failure (e.g. the module proxy refusing the module) is not retried for an hour,
# unless GC_K8S_RETRY_BUILDS=1: callers that treat the component as optional stay fast
failed_recently() {
  local failed
  failed=$(failed_file "$1")
  [ -z "${GC_K8S_RETRY_BUILDS:-}" ] && [ -f "$failed" ] && [ -n "$(find "$failed" -mmin -60 2>/dev/null)" ]
}
lock_of() { mkdir -p "$CACHE/locks"; echo "$CACHE/locks/$1.lock"; }
# build_running C: another process holds C's build lock (probed with a shared lock held for an instant)
build_running() { ! flock -n -s "$(lock_of "$1")" true; }

# plan_line C: "<component> TAB <bin dir> TAB <state> TAB <expected seconds> TAB <last|estimate>" where
# state is what a build run would do now: built (nothing), failed (exits at once: failed recently),
# busy (waits for another process's build) or build. Callers announce only what really happens.
plan_line() {
  local c=$1 dir state=build s basis
  dir=$(dir_of "$c")
  if is_built "$dir"; then state=built
  elif failed_recently "$c"; then state=failed
  elif build_running "$c"; then state=busy
  fi
  read -r s basis <<<"$(expected "$c")"
  printf '%s\t%s\t%s\t%s\t%s\n' "$c" "$dir" "$state" "$s" "$basis"
}

components=("$@")
[ ${#components[@]} -gt 0 ] || components=(k8s etcd coredns kube-router kube-state-metrics metrics-server prometheus gc bd bd-serve dolt)
for c in "${components[@]}"; do
  case $c in
    k8s|etcd|coredns|kube-router|kube-state-metrics|metrics-server|prometheus|gc|bd|bd-serve|dolt) ;;
    *) say "unknown component '$c' (known: k8s etcd coredns kube-router kube-state-metrics metrics-server prometheus gc bd bd-serve dolt)"; exit 2 ;;
  esac
  if [ $mode = dirs ]; then dir_of "$c"; continue; fi
  if [ $mode = plan ]; then plan_line "$c"; continue; fi
  if is_built "$(dir_of "$c")"; then dir_of "$c"; continue; fi
  failed=$(failed_file "$c")
  if failed_recently "$c"; then
    say "$c: failed recently (GC_K8S_RETRY_BUILDS=1 to retry now): $(tail -n 3 "$failed" | tr '\n' ' ')"
    exit 1
  fi
  # one builder per component at a time: wait for a concurrent build instead of fighting for the cores
  lock=$(lock_of "$c")
  exec {lockfd}>"$lock"
  if ! flock -n "$lockfd"; then
    say "$c: another build is running (lock $lock); waiting for it"
    flock "$lockfd"
    # the build we waited for succeeded: nothing to build (and no build time to record)
    if is_built "$(dir_of "$c")"; then dir_of "$c"; exec {lockfd}>&-; continue; fi
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
