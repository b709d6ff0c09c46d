# source examples/env-only/env.sh — selects the gc-k8s providers and configures the pods.
export GC_SESSION=exec:gc-session-k8s
export GC_EVENTS=exec:gc-events-k8s
export GC_BEADS=exec:gc-beads-k8s
export GC_K8S_NAMESPACE=gc
export GC_K8S_IMAGE=docker.io/library/gc-agent:dev
export GC_K8S_CPU_REQUEST=250m
export GC_K8S_MEM_REQUEST=512Mi
export GC_K8S_CPU_LIMIT=2
export GC_K8S_MEM_LIMIT=4Gi
