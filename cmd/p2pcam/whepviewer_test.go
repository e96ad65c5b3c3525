package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/codecs"
	"github.com/p2pcam/p2pcam/pkg/peer"
)

// whepViewer is a light viewer for the figures and the soak: a
// receive-only pion PeerConnection in the test process that plays a WHEP
// endpoint and counts the frames (RTP marker bits) that arrive, with no
// decoder and no file, so that many of them cost the machine little
// beside the sender they measure.
type whepViewer struct {
	p        *peer.Peer
	resource string // the absolute URL of its WHEP resource (for DELETE)
	frames   atomic.Int64
	first    atomic.Int64 // unix ns of the first frame; 0 before it
	done     chan struct{}
	stopOnce sync.Once
}

// joinViewer offers to the WHEP endpoint and starts counting frames.
func joinViewer(ctx context.Context, endpoint string) (*whepViewer, error) {
	p, err := peer.New(peer.Config{Receive: []codec.Kind{codec.Video}, Codecs: codecs.All(), Interfaces: []string{"lo"}})
	if err != nil {
		return nil, err
	}
	offer, err := p.Offer(ctx)
	if err != nil {
		p.Close()
		return nil, err
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(offer.SDP))
	req.Header.Set("Content-Type", "application/sdp")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.Close()
		return nil, err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		p.Close()
		return nil, fmt.Errorf("POST %s: %s: %s", endpoint, res.Status, strings.TrimSpace(string(body)))
	}
	if err := p.Accept(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)}); err != nil {
		p.Close()
		return nil, err
	}
	base, _ := url.Parse(endpoint)
	loc, _ := base.Parse(res.Header.Get("Location"))
	v := &whepViewer{p: p, resource: loc.String(), done: make(chan struct{})}
	go func() {
		defer close(v.done)
		select {
		case tr := <-p.Tracks():
			for {
				pkt, _, err := tr.Track.ReadRTP()
				if err != nil {
					return
				}
				if pkt.Marker {
					if v.frames.Add(1) == 1 {
						v.first.Store(time.Now().UnixNano())
					}
				}
			}
		case <-p.Closed():
		case <-ctx.Done():
		}
	}()
	return v, nil
}

// leave ends the viewer: with del, as a WHEP player leaves (a DELETE of
// its resource, then closing its peer); without, by hanging up alone (its
// peer's BYE and DTLS close), as a closed browser tab does. It returns
// the DELETE's error, if any.
func (v *whepViewer) leave(del bool) error {
	var err error
	v.stopOnce.Do(func() {
		if del {
			req, _ := http.NewRequest(http.MethodDelete, v.resource, nil)
			var res *http.Response
			if res, err = http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					err = fmt.Errorf("DELETE %s: %s", v.resource, res.Status)
				}
			}
		}
		v.p.Close()
		<-v.done
	})
	return err
}
