package exec //nolint:revive

// Copied into a gascity v0.15.1 checkout's internal/beads/exec by hand (see test/upstream/README.md
// of gc-k8s): runs beadstest (RunStoreTests and the optional metadata, creation-order and
// dependency suites) against gc-beads-k8s, a fresh store (its own rig directory, prefix and Dolt
// database) per newStore call.
import (
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/gastownhall/gascity/internal/beads"
	"github.com/gastownhall/gascity/internal/beads/beadstest"
)

var gck8sBeadsCounter int64

// gck8sEnv is the process environment plus overrides, as v0.15.1's exec store builds it (its
// execProcessEnv helper, which also strips inherited store variables, exists only after v0.15.1;
// not using it keeps this file compiling against both).
func gck8sEnv(overrides map[string]string) []string {
	env := os.Environ()
	for k, v := range overrides {
		env = append(env, k+"="+v)
	}
	return env
}

func gck8sStore(t *testing.T) func() beads.Store {
	script := os.Getenv("GC_BEADS_K8S_SCRIPT")
	city := os.Getenv("GC_K8S_TEST_CITY")
	if script == "" || city == "" {
		t.Fatal("GC_BEADS_K8S_SCRIPT and GC_K8S_TEST_CITY must be set")
	}
	return func() beads.Store {
		n := atomic.AddInt64(&gck8sBeadsCounter, 1)
		prefix := fmt.Sprintf("c%dn%d", os.Getpid()%100000, n)
		root := filepath.Join(city, "rigs", prefix)
		if err := os.MkdirAll(root, 0o755); err != nil {
			t.Fatal(err)
		}
		env := map[string]string{"GC_CITY_PATH": city, "GC_STORE_ROOT": root, "GC_STORE_SCOPE": "rig", "GC_BEADS_PREFIX": prefix}
		cmd := osexec.Command(script, "init", root, prefix)
		cmd.Env = gck8sEnv(env)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("init %s: %v %s", prefix, err, out)
		}
		s := NewStore(script)
		s.SetEnv(env)
		return s
	}
}

func TestGcK8sBeadsConformance(t *testing.T) {
	newStore := gck8sStore(t)
	t.Run("Store", func(t *testing.T) { beadstest.RunStoreTests(t, newStore) })
	t.Run("Metadata", func(t *testing.T) { beadstest.RunMetadataTests(t, newStore) })
	t.Run("CreationOrder", func(t *testing.T) { beadstest.RunCreationOrderTests(t, newStore) })
	t.Run("Deps", func(t *testing.T) { beadstest.RunDepTests(t, newStore) })
}
