package wormhole

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/transport/v5/test"
	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/internal/mailbox"
	"github.com/p2pcam/p2pcam/internal/testutil"
)

// testTimeout bounds each exchange in these tests; none should come near.
const testTimeout = 20 * time.Second

// readSD reads one of package signal's SDP fixtures.
func readSD(t *testing.T, name string, typ webrtc.SDPType) webrtc.SessionDescription {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "sdp", name))
	if err != nil {
		t.Fatal(err)
	}
	return webrtc.SessionDescription{Type: typ, SDP: strings.ReplaceAll(string(b), "\n", "\r\n")}
}

// checkRoutines fails the test when it leaves goroutines behind. It is
// registered first so that it runs after every other cleanup (the
// server's included).
func checkRoutines(t *testing.T) {
	t.Helper()
	t.Cleanup(test.CheckRoutines(t))
}

// result is what one side of an exchange ended with.
type result struct {
	sd  webrtc.SessionDescription // the other side's description
	err error
}

// runAnswer runs an answering side for code in a goroutine; makeAnswer
// nil answers with answer-2.sdp.
func runAnswer(ctx context.Context, t *testing.T, cfg Config, code string, makeAnswer func(context.Context, webrtc.SessionDescription) (webrtc.SessionDescription, error)) <-chan result {
	t.Helper()
	answer := readSD(t, "answer-2.sdp", webrtc.SDPTypeAnswer)
	if makeAnswer == nil {
		makeAnswer = func(context.Context, webrtc.SessionDescription) (webrtc.SessionDescription, error) {
			return answer, nil
		}
	}
	out := make(chan result, 1)
	a, err := NewAnswer(cfg, code)
	if err != nil {
		out <- result{err: err}
		return out
	}
	go func() {
		var got webrtc.SessionDescription
		err := a.ExchangeAnswer(ctx, func(ctx context.Context, offer webrtc.SessionDescription) (webrtc.SessionDescription, error) {
			got = offer
			return makeAnswer(ctx, offer)
		})
		a.Close()
		out <- result{sd: got, err: err}
	}()
	return out
}

// runOffer runs ExchangeOffer with offer-2.sdp in a goroutine.
func runOffer(ctx context.Context, t *testing.T, o *Offer) <-chan result {
	t.Helper()
	offer := readSD(t, "offer-2.sdp", webrtc.SDPTypeOffer)
	out := make(chan result, 1)
	go func() {
		sd, err := o.ExchangeOffer(ctx, offer)
		o.Close()
		out <- result{sd: sd, err: err}
	}()
	return out
}

// exchange allocates a code on cfg's server and runs both sides of an
// exchange by it (the offer and answer fixtures); it returns the code and
// each side's result.
func exchange(ctx context.Context, t *testing.T, cfg Config) (code Code, offer, answer result) {
	t.Helper()
	o, err := Allocate(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	offers := runOffer(ctx, t, o)
	answers := runAnswer(ctx, t, cfg, o.Code().String(), nil)
	return o.Code(), wait(t, offers), wait(t, answers)
}

func wait(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(2 * testTimeout):
		t.Fatal("an exchange did not end")
		return result{}
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// sameSDP reports whether two descriptions carry the same SDP once both
// went through the compact format, which normalizes line endings.
func sameSDP(a, b webrtc.SessionDescription) bool {
	norm := func(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }
	return a.Type == b.Type && norm(a.SDP) == norm(b.SDP)
}

// TestByCode runs exchanges through one mailbox server, each scenario
// with codes of its own.
func TestByCode(t *testing.T) {
	checkRoutines(t)
	srv := mailbox.Start(t, mailbox.Options{})
	for _, sc := range []struct {
		name string
		run  func(*testing.T, *mailbox.Server)
	}{
		{"exchange", testExchange},
		{"wrong code", testWrongCode},
		{"third side crowded out", testThirdSideIsCrowdedOut},
		{"no such code", testNoSuchCode},
		{"timeout", testWindowEnds},
		{"interrupted", testInterrupted},
		{"makeAnswer's error unchanged", testMakeAnswerErrorUnchanged},
		{"offer closed unused", testOfferClosedUnused},
	} {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, srv) })
	}
}

func testExchange(t *testing.T, srv *mailbox.Server) {
	for _, words := range []int{0, 2, 5, MaxWords} {
		t.Run(fmt.Sprintf("%d words", words), func(t *testing.T) {
			ctx := testContext(t)
			cfg := Config{Server: srv.URL(), Words: words, Timeout: testTimeout}
			start := time.Now()
			o, err := Allocate(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			allocated := time.Since(start)
			code := o.Code()
			want := words
			if want == 0 {
				want = DefaultWords
			}
			if len(code.Words) != want {
				t.Errorf("code %s has %d words, want %d", code, len(code.Words), want)
			}
			if _, err := ParseCode(code.String()); err != nil {
				t.Errorf("the code made does not parse: %v", err)
			}
			offers := runOffer(ctx, t, o)
			answers := runAnswer(ctx, t, cfg, code.String(), nil)
			a, b := wait(t, offers), wait(t, answers)
			if a.err != nil || b.err != nil {
				t.Fatalf("offer side: %v; answer side: %v", a.err, b.err)
			}
			t.Logf("code %s printed after %v, both sides done after %v; offer side sent %d bytes, received %d",
				code, allocated.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), o.Sent(), o.Received())
			if !sameSDP(a.sd, readSD(t, "answer-2.sdp", webrtc.SDPTypeAnswer)) {
				t.Errorf("the offer side got another answer:\n%s", a.sd.SDP)
			}
			if !sameSDP(b.sd, readSD(t, "offer-2.sdp", webrtc.SDPTypeOffer)) {
				t.Errorf("the answer side got another offer:\n%s", b.sd.SDP)
			}
		})
	}
}

func testWrongCode(t *testing.T, srv *mailbox.Server) {
	ctx := testContext(t)
	cfg := Config{Server: srv.URL(), Timeout: testTimeout}
	o, err := Allocate(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	wrong := o.Code()
	wrong.Words = append([]string(nil), wrong.Words...)
	i := indexOf(&evenWords, wrong.Words[1])
	wrong.Words[1] = evenWords[(i+1)%256]
	start := time.Now()
	offers := runOffer(ctx, t, o)
	answers := runAnswer(ctx, t, cfg, wrong.String(), nil)
	for side, r := range map[string]result{"offer": wait(t, offers), "answer": wait(t, answers)} {
		if !errors.Is(r.err, ErrWrongCode) {
			t.Errorf("%s side: got %v, want ErrWrongCode", side, r.err)
		}
	}
	if d := time.Since(start); d > testTimeout/2 {
		t.Errorf("a wrong code took %v to show; the sides should not wait out their window", d)
	}
	// The code is used up: the right one does not work any more.
	r := wait(t, runAnswer(ctx, t, cfg, o.Code().String(), nil))
	if !errors.Is(r.err, ErrNoSuchCode) {
		t.Errorf("the right code after a wrong guess: got %v, want ErrNoSuchCode", r.err)
	}
}

func testThirdSideIsCrowdedOut(t *testing.T, srv *mailbox.Server) {
	ctx := testContext(t)
	cfg := Config{Server: srv.URL(), Timeout: testTimeout}
	o, err := Allocate(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	code := o.Code().String()
	offers := runOffer(ctx, t, o)
	// The second side holds the exchange open (in makeAnswer) until the
	// third has tried.
	third := make(chan result, 1)
	answer := readSD(t, "answer-2.sdp", webrtc.SDPTypeAnswer)
	answers := runAnswer(ctx, t, cfg, code, func(ctx context.Context, _ webrtc.SessionDescription) (webrtc.SessionDescription, error) {
		third <- wait(t, runAnswer(ctx, t, cfg, code, nil))
		return answer, nil
	})
	a, b := wait(t, offers), wait(t, answers)
	if a.err != nil || b.err != nil {
		t.Fatalf("offer side: %v; answer side: %v", a.err, b.err)
	}
	if r := <-third; !errors.Is(r.err, ErrCrowded) {
		t.Errorf("third side: got %v, want ErrCrowded", r.err)
	}
}

func testNoSuchCode(t *testing.T, srv *mailbox.Server) {
	ctx := testContext(t)
	start := time.Now()
	r := wait(t, runAnswer(ctx, t, Config{Server: srv.URL(), Timeout: testTimeout}, "42-guitarist-revenge", nil))
	if !errors.Is(r.err, ErrNoSuchCode) {
		t.Fatalf("got %v, want ErrNoSuchCode", r.err)
	}
	if d := time.Since(start); d > testTimeout/2 {
		t.Errorf("an unknown code took %v to show", d)
	}
}

func TestServerFailures(t *testing.T) {
	tests := []struct {
		name    string
		server  func(t *testing.T) string
		want    error
		message string
	}{
		{
			name:   "unreachable",
			server: func(t *testing.T) string { return "ws://" + testutil.ClosedAddr(t) + "/v1" },
			want:   ErrUnreachable,
		},
		{
			name: "refusing",
			server: func(t *testing.T) string {
				return mailbox.Start(t, mailbox.Options{SignalError: "closed for maintenance"}).URL()
			},
			want:    ErrRefused,
			message: "closed for maintenance",
		},
		{
			name: "proof of work",
			server: func(t *testing.T) string {
				return fakeServer(t, `{"type":"welcome","welcome":{"permission-required":{"hashcash":{"bits":6,"resource":"x"}}}}`)
			},
			want: ErrProofOfWork,
		},
		{
			name:   "not a mailbox server",
			server: func(t *testing.T) string { return fakeServer(t, `{"type":"hello"}`) },
			want:   ErrProtocol,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRoutines(t)
			ctx := testContext(t)
			url := tt.server(t)
			cfg := Config{Server: url, Timeout: testTimeout}
			_, errOffer := Allocate(ctx, cfg)
			r := wait(t, runAnswer(ctx, t, cfg, "7-guitarist-revenge", nil))
			for side, err := range map[string]error{"offer": errOffer, "answer": r.err} {
				var se *ServerError
				if !errors.Is(err, tt.want) || !errors.As(err, &se) {
					t.Errorf("%s side: got %v, want a ServerError with %v", side, err, tt.want)
					continue
				}
				if se.URL != url || !strings.Contains(err.Error(), url) {
					t.Errorf("%s side: %q does not name the server %s", side, err, url)
				}
				if se.Message != tt.message {
					t.Errorf("%s side: message %q, want %q", side, se.Message, tt.message)
				}
			}
		})
	}
}

func TestServerGoesAway(t *testing.T) {
	t.Run("before the other side comes", func(t *testing.T) {
		checkRoutines(t)
		srv := mailbox.Start(t, mailbox.Options{})
		ctx := testContext(t)
		o, err := Allocate(ctx, Config{Server: srv.URL(), Timeout: testTimeout})
		if err != nil {
			t.Fatal(err)
		}
		srv.Stop()
		r := wait(t, runOffer(ctx, t, o))
		if !errors.Is(r.err, ErrServerGone) {
			t.Errorf("got %v, want ErrServerGone", r.err)
		}
	})
	t.Run("while the answer is made", func(t *testing.T) {
		checkRoutines(t)
		srv := mailbox.Start(t, mailbox.Options{})
		ctx := testContext(t)
		cfg := Config{Server: srv.URL(), Timeout: testTimeout}
		o, err := Allocate(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		offers := runOffer(ctx, t, o)
		answer := readSD(t, "answer-2.sdp", webrtc.SDPTypeAnswer)
		answers := runAnswer(ctx, t, cfg, o.Code().String(), func(context.Context, webrtc.SessionDescription) (webrtc.SessionDescription, error) {
			srv.Stop()
			return answer, nil
		})
		for side, r := range map[string]result{"offer": wait(t, offers), "answer": wait(t, answers)} {
			if !errors.Is(r.err, ErrServerGone) {
				t.Errorf("%s side: got %v, want ErrServerGone", side, r.err)
			}
		}
	})
}

func testWindowEnds(t *testing.T, srv *mailbox.Server) {
	ctx := testContext(t)
	o, err := Allocate(ctx, Config{Server: srv.URL(), Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r := wait(t, runOffer(ctx, t, o))
	if !errors.Is(r.err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", r.err)
	}
	if errors.Is(r.err, context.DeadlineExceeded) {
		t.Errorf("%v: the window's end is not the caller's deadline", r.err)
	}
}

// TestInterrupted cancels one side in the middle: it returns ctx.Err(),
// the other side hears that it stopped, and the nameplate is free again.
func testInterrupted(t *testing.T, srv *mailbox.Server) {
	ctx := testContext(t)
	cfg := Config{Server: srv.URL(), Timeout: testTimeout}
	o, err := Allocate(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	octx, interrupt := context.WithCancel(ctx)
	// The offer side is interrupted while the answer side makes its
	// answer; the answer side then waits for "done" in vain.
	offers := runOffer(octx, t, o)
	answer := readSD(t, "answer-2.sdp", webrtc.SDPTypeAnswer)
	var a result
	answers := runAnswer(ctx, t, cfg, o.Code().String(), func(context.Context, webrtc.SessionDescription) (webrtc.SessionDescription, error) {
		interrupt()
		a = wait(t, offers)
		return answer, nil
	})
	b := wait(t, answers)
	if !errors.Is(a.err, context.Canceled) {
		t.Errorf("offer side: got %v, want context.Canceled", a.err)
	}
	if !errors.Is(b.err, ErrPeerGone) {
		t.Errorf("answer side: got %v, want ErrPeerGone", b.err)
	}
	if names := nameplates(ctx, t, srv.URL()); slices.Contains(names, o.Code().Nameplate) {
		t.Errorf("nameplate %s still claimed after the exchange: %v", o.Code().Nameplate, names)
	}
}

// nameplates lists the nameplates claimed under AppID.
func nameplates(ctx context.Context, t *testing.T, url string) []string {
	t.Helper()
	c, err := dial(ctx, url, (&Config{}).log())
	if err != nil {
		t.Fatal(err)
	}
	defer c.hangUp()
	if err := c.send(ctx, map[string]any{"type": "list"}); err != nil {
		t.Fatal(err)
	}
	m, err := c.await(ctx, "nameplates")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, n := range m.Nameplates {
		ids = append(ids, n.ID)
	}
	return ids
}

func testMakeAnswerErrorUnchanged(t *testing.T, srv *mailbox.Server) {
	ctx := testContext(t)
	cfg := Config{Server: srv.URL(), Timeout: testTimeout}
	o, err := Allocate(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	errCamera := errors.New("the camera is busy")
	offers := runOffer(ctx, t, o)
	answers := runAnswer(ctx, t, cfg, o.Code().String(), func(context.Context, webrtc.SessionDescription) (webrtc.SessionDescription, error) {
		return webrtc.SessionDescription{}, errCamera
	})
	if b := wait(t, answers); b.err != errCamera {
		t.Errorf("answer side: got %v, want makeAnswer's error itself", b.err)
	}
	if a := wait(t, offers); !errors.Is(a.err, ErrPeerGone) {
		t.Errorf("offer side: got %v, want ErrPeerGone", a.err)
	}
}

// testOfferClosedUnused closes the offering side before it had an offer
// (its call failed): a side that used the code hears so at once, or finds
// nobody behind the code, and does not wait out its window.
func testOfferClosedUnused(t *testing.T, srv *mailbox.Server) {
	ctx := testContext(t)
	cfg := Config{Server: srv.URL(), Timeout: testTimeout}
	o, err := Allocate(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	answers := runAnswer(ctx, t, cfg, o.Code().String(), nil)
	o.Close()
	r := wait(t, answers)
	if !errors.Is(r.err, ErrPeerGone) && !errors.Is(r.err, ErrNoSuchCode) {
		t.Errorf("got %v, want ErrPeerGone or ErrNoSuchCode", r.err)
	}
	if d := time.Since(start); d > testTimeout/2 {
		t.Errorf("the answering side took %v to learn the offer was gone", d)
	}
}
