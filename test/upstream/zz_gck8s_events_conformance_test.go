package exec //nolint:revive

// Copied into a gascity v0.15.1 checkout's internal/events/exec by hand (see test/upstream/README.md
// of gc-k8s): runs eventstest against gc-events-k8s with a fresh namespace per subtest.
import (
	"fmt"
	"os"
	osexec "os/exec"
	"sync/atomic"
	"testing"

	"github.com/gastownhall/gascity/internal/events"
	"github.com/gastownhall/gascity/internal/events/eventstest"
)

var gck8sCounter int64

func TestGcK8sEventsConformance(t *testing.T) {
	script := os.Getenv("GC_EVENTS_K8S_SCRIPT")
	if script == "" {
		t.Fatal("GC_EVENTS_K8S_SCRIPT not set")
	}
	factory := func(t *testing.T) (events.Provider, func()) {
		n := atomic.AddInt64(&gck8sCounter, 1)
		ns := fmt.Sprintf("gcev-%d-%d", os.Getpid(), n)
		if out, err := osexec.Command(os.Getenv("KUBECTL"), "create", "namespace", ns).CombinedOutput(); err != nil {
			t.Fatalf("create ns: %v %s", err, out)
		}
		t.Setenv("GC_K8S_NAMESPACE", ns)
		p := NewProvider(script, os.Stderr)
		return p, func() {
			p.Close() //nolint:errcheck
			_ = osexec.Command(os.Getenv("KUBECTL"), "delete", "namespace", ns, "--wait=false").Run()
		}
	}
	eventstest.RunProviderTests(t, factory)
}
