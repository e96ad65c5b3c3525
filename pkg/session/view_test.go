package session

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
	"github.com/p2pcam/p2pcam/pkg/capture"
)

// fakeViewer is a Viewer that a person closes, or that fails, after a
// number of frames.
type fakeViewer struct {
	after int   // frames before it ends by itself
	err   error // what it ends with

	mu       sync.Mutex
	frames   int
	keyFirst bool
	done     chan struct{}
	once     sync.Once
	closed   bool
}

func (v *fakeViewer) Frame(data []byte, key bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.frames == 0 {
		v.keyFirst = key && len(data) > 0
	}
	v.frames++
	if v.frames == v.after {
		v.once.Do(func() { close(v.done) })
	}
}

func (v *fakeViewer) Done() <-chan struct{} { return v.done }
func (v *fakeViewer) Err() error            { return v.err }
func (v *fakeViewer) Close() error {
	v.mu.Lock()
	v.closed = true
	v.mu.Unlock()
	v.once.Do(func() { close(v.done) })
	return v.err
}

// TestViewerEndsTheCall: a viewer opens once the call is up, told which
// call it shows, gets the frames as they arrive (no Output needed), and
// ends the call when it ends: closed by the person, a normal end the
// other side hears of; failed, ErrViewer.
func TestViewerEndsTheCall(t *testing.T) {
	testutil.NeedCodec(t)
	errPlayer := errors.New("player crashed")
	tests := []struct {
		name    string
		open    error // the View factory's error
		err     error // the viewer's own
		wantErr error
	}{
		{name: "closed by the person"},
		{name: "player failed", err: errPlayer, wantErr: ErrViewer},
		{name: "player would not start", open: errPlayer, wantErr: ErrViewer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			l := newLink()
			v := &fakeViewer{after: 20, err: tt.err, done: make(chan struct{})}
			var got ViewCall
			o := start(ctx, Config{Offer: l, Source: capture.Source{Kind: capture.Test}, Width: 320, Height: 240, Duration: 20 * time.Second})
			a := start(ctx, Config{Answer: l, View: func(c ViewCall) (Viewer, error) {
				got = c
				if tt.open != nil {
					return nil, tt.open
				}
				return v, nil
			}})
			err := a.wait(t)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr != nil && !errors.Is(err, errPlayer)) {
				t.Fatalf("answer: %v; want %v\n%s", err, tt.wantErr, a.ev)
			}
			if err := o.wait(t); err != nil {
				t.Fatalf("offer: %v\n%s", err, o.ev)
			}
			if e, ok := find[Ending](o.ev); !ok || e.Reason != EndHungUp {
				t.Errorf("offer ended with %+v; want EndHungUp (told at once, not by silence)", e)
			}
			if got.Role != Answerer || !got.Known || got.Pair.Kind() != "host/udp" || len(got.Code) != 7 {
				t.Errorf("the viewer was told %+v; want the answer's host/udp call and its code", got)
			}
			if tt.open != nil {
				return
			}
			if e, ok := find[Ending](a.ev); tt.err == nil && (!ok || e.Reason != EndViewerClosed) {
				t.Errorf("answer ended with %+v; want EndViewerClosed", e)
			}
			if _, ok := find[Recording](a.ev); ok {
				t.Error("a Recording event with no Output")
			}
			v.mu.Lock()
			defer v.mu.Unlock()
			if v.frames < 20 || !v.keyFirst || !v.closed {
				t.Errorf("viewer saw %d frames (first a keyframe: %v), closed %v; want 20 or more from a keyframe, then Close", v.frames, v.keyFirst, v.closed)
			}
		})
	}
}
