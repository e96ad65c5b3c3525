package whip

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// The tests in this file play a hostile WHIP/WHEP server (issue 20): one
// that never answers or drips its answer, one that sends the client's
// DELETE or a redirect to another host, and one that redirects with a
// status that would turn the POST into a GET.

// witness is another origin that records whether the bearer token reached
// it.
type witness struct {
	*httptest.Server
	mu    sync.Mutex
	auths []string
}

func newWitness(t *testing.T, h http.HandlerFunc) *witness {
	t.Helper()
	w := &witness{}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		w.auths = append(w.auths, r.Method+" "+r.Header.Get("Authorization"))
		w.mu.Unlock()
		if h != nil {
			h(rw, r)
			return
		}
		rw.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(w.Close)
	return w
}

func (w *witness) requests() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.auths...)
}

// TestSlowServerTimesOut: a server that never answers, or drips its
// answer a byte at a time, ends the exchange at Client.Timeout with
// ErrTimeout, and the caller's context need not end.
func TestSlowServerTimesOut(t *testing.T) {
	tests := []struct {
		name string
		h    http.HandlerFunc
	}{
		{"never answers", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}},
		{"drips the answer", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/sdp")
			w.Header().Set("Location", "/cam/whip/1")
			w.WriteHeader(http.StatusCreated)
			for {
				if _, err := io.WriteString(w, "v"); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(t, tt.h)
			c := &Client{Endpoint: srv.URL + "/cam/whip", Token: testToken, Timeout: 500 * time.Millisecond}
			start := time.Now()
			_, err := c.Exchange(context.Background(), testOffer)
			if !errors.Is(err, ErrTimeout) {
				t.Fatalf("Exchange = %v; want ErrTimeout", err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("gave up after %v; want about 500 ms", d)
			}
			t.Logf("%v after %v", err, time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestTokenStaysWithItsOrigin: the bearer token goes to the endpoint's
// origin only: not to another host that the Location header names (the
// DELETE), nor to one a 307 redirect names.
func TestTokenStaysWithItsOrigin(t *testing.T) {
	t.Run("location elsewhere", func(t *testing.T) {
		other := newWitness(t, nil)
		srv := newFakeServer(t, created(other.URL+"/session/1", sdpWithVideoPort(9)))
		c := &Client{Endpoint: srv.URL + "/cam/whip", Token: testToken}
		if _, err := c.Exchange(context.Background(), testOffer); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		got := other.requests()
		if len(got) != 1 || got[0] != "DELETE " {
			t.Fatalf("the other host saw %q; want one DELETE without Authorization", got)
		}
	})
	t.Run("redirect elsewhere", func(t *testing.T) {
		other := newWitness(t, created("/session/1", sdpWithVideoPort(9)))
		srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/cam/whip", http.StatusTemporaryRedirect)
		})
		c := &Client{Endpoint: srv.URL + "/cam/whip", Token: testToken}
		if _, err := c.Exchange(context.Background(), testOffer); err != nil {
			t.Fatal(err)
		}
		_ = c.Close(context.Background())
		for _, r := range other.requests() {
			if r != "POST " && r != "DELETE " {
				t.Errorf("the other host saw %q; want no Authorization", r)
			}
		}
		if reqs := srv.requests(); len(reqs) == 0 || reqs[0].auth != "Bearer "+testToken {
			t.Errorf("the endpoint saw %+v; want the token", reqs)
		}
	})
	t.Run("same origin keeps it", func(t *testing.T) {
		srv := newFakeServer(t, created("/cam/whip/1", sdpWithVideoPort(9)))
		c := &Client{Endpoint: srv.URL + "/old/whip", Token: testToken}
		if _, err := c.Exchange(context.Background(), testOffer); err != nil {
			t.Fatal(err)
		}
		_ = c.Close(context.Background())
		for _, r := range srv.requests() {
			if r.auth != "Bearer "+testToken {
				t.Errorf("%s %s without the token", r.method, r.path)
			}
		}
	})
}

// TestOnlyMethodKeepingRedirects: 301, 302 and 303 would turn the POST
// into a GET: they are refused with ErrProtocol, saying so; a chain of
// more than three 307s is refused too.
func TestOnlyMethodKeepingRedirects(t *testing.T) {
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther} {
		srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", code)
		})
		c := &Client{Endpoint: srv.URL + "/cam/whip", Token: testToken}
		_, err := c.Exchange(context.Background(), testOffer)
		if !errors.Is(err, ErrProtocol) {
			t.Errorf("%d: %v; want ErrProtocol", code, err)
			continue
		}
		for _, r := range srv.requests() {
			if r.method == http.MethodGet {
				t.Errorf("%d: the client sent a GET", code)
			}
		}
	}
	hops := 0
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		hops++
		http.Redirect(w, r, "/cam/whip", http.StatusTemporaryRedirect)
	})
	c := &Client{Endpoint: srv.URL + "/cam/whip"}
	if _, err := c.Exchange(context.Background(), testOffer); !errors.Is(err, ErrProtocol) {
		t.Fatalf("endless 307s: %v; want ErrProtocol", err)
	}
	if hops > maxRedirects+1 {
		t.Errorf("followed %d redirects; want at most %d", hops-1, maxRedirects)
	}
}
