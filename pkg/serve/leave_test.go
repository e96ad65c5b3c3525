package serve

import (
	"bytes"
	"context"
	"net/http"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// watches counts the goroutines following a viewer ((*server).watch) in
// this process now.
func watches(t *testing.T) int {
	t.Helper()
	var b bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&b, 2); err != nil {
		t.Fatal(err)
	}
	return strings.Count(b.String(), "serve.(*server).watch(")
}

// TestDeleteWhileWatchingEndsTheWatch: a viewer that leaves by DELETE
// while it watches is gone at once, goroutine and all, while serving goes
// on. Before the fix its watch waited for a hang-up or a failure that a
// peer closed by this side never reports, so every viewer that left this
// way stayed in memory (its goroutine, its closed PeerConnection) until
// serving stopped: the growth a long --serve run with viewers coming and
// going showed.
func TestDeleteWhileWatchingEndsTheWatch(t *testing.T) {
	testutil.NeedCodec(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ready, _, _ := serving(t, ctx, Config{})
	root := "http://" + hostOf(t, ready.Page)
	const viewers = 3
	for i := range viewers {
		w := watch(t, ctx, ready.WHEP)
		w.waitFrames(t, ctx, 5)
		if n := watches(t); n != 1 {
			t.Fatalf("viewer %d watching: %d watches running, want 1", i, n)
		}
		req, _ := http.NewRequest(http.MethodDelete, root+w.resource, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("DELETE %s: %s", w.resource, res.Status)
		}
		deadline := time.Now().Add(2 * time.Second)
		n := watches(t)
		for ; n > 0 && time.Now().Before(deadline); n = watches(t) {
			time.Sleep(20 * time.Millisecond)
		}
		if n > 0 {
			t.Fatalf("after viewer %d left by DELETE: %d watches still running, want 0", i, n)
		}
		w.p.Close()
		<-w.done
	}
}
