package peer

import (
	"errors"
	"fmt"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/stats"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

// nackBufferPackets is how many sent packets the NACK responder keeps for
// retransmission (a power of two, as pion requires): about one second of
// 2.5 Mbit/s video in 1200-byte packets.
const nackBufferPackets = 256

// errNoCodecs means a Config names no codec to register.
var errNoCodecs = errors.New("peer: no codecs (Config.Codecs)")

// newMediaEngine registers every codec in descs, each under its
// descriptor's payload type, fmtp and RTCP feedback (the descriptors list
// what p2pcam answers to: NACK, PLI, FIR, TWCC for video). The compact
// blob format in package signal assumes the first video codec is VP8 at
// payload type 96: other layouts make compact blobs longer, never wrong.
func newMediaEngine(descs []codec.Descriptor) (*webrtc.MediaEngine, error) {
	if len(descs) == 0 {
		return nil, errNoCodecs
	}
	m := &webrtc.MediaEngine{}
	for _, d := range descs {
		if err := m.RegisterCodec(d.Parameters(), d.Kind); err != nil {
			return nil, fmt.Errorf("register %s: %w", d.Name, err)
		}
	}
	return m, nil
}

// interceptors builds the RTP/RTCP chain: NACK generator and responder,
// sender and receiver reports, TWCC feedback and header extensions, the
// stats interceptor (whose getter pion v4.2 does not expose for senders) and
// p2pcam's RTCP watcher.
//
// The congestion controller, when not nil, goes right after the watcher,
// close to the network: it must see each packet after the TWCC interceptor
// numbered it, retransmissions included.
//
// Every interceptor logs through lf: pion's default loggers would write to
// stderr past p2pcam's logger.
//
// lags corrects the sender reports; it comes before the report
// interceptor so that the reports it writes pass through it.
func interceptors(m *webrtc.MediaEngine, lf logging.LoggerFactory, onStats func(stats.Getter), w *watcher, congestion interceptor.Factory, lags *captureLags, extra ...interceptor.Factory) (*interceptor.Registry, error) {
	reg := &interceptor.Registry{}
	// The watcher first: interceptors added earlier write RTCP past those
	// added later, and it must see the NACK generator's requests.
	reg.Add(w)
	if congestion != nil {
		reg.Add(congestion)
	}
	// Transport-wide sequence numbers go on below the NACK responder, so a
	// retransmission gets a number of its own, as every packet sent must
	// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1), instead of
	// repeating the lost original's.
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, reg); err != nil {
		return nil, fmt.Errorf("configure twcc header extension: %w", err)
	}
	// Stats below the NACK and report interceptors: it must see the sender
	// reports they write to measure the round trip from receiver reports
	// (RFC 3550 §6.4.1), and it counts retransmissions as sent.
	sf, err := stats.NewInterceptor(stats.WithLoggerFactory(lf))
	if err != nil {
		return nil, fmt.Errorf("configure stats: %w", err)
	}
	sf.OnNewPeerConnection(func(_ string, g stats.Getter) { onStats(g) })
	reg.Add(sf)
	// Cap retransmissions: unlimited NACKs on a lossy, narrow link become a
	// storm that starves the video they are meant to repair.
	// Ask for a missing packet within 20 ms (pion's default is 100 ms):
	// the receiver waits for repairs only about two round trips.
	gen := []nack.GeneratorOption{nack.GeneratorMaxNacksPerPacket(3), nack.GeneratorInterval(20 * time.Millisecond),
		nack.WithGeneratorLoggerFactory(lf)}
	resp := []nack.ResponderOption{nack.ResponderSize(nackBufferPackets), nack.WithResponderLoggerFactory(lf)}
	if err := webrtc.ConfigureNackWithOptions(m, reg, gen, resp...); err != nil {
		return nil, fmt.Errorf("configure nack: %w", err)
	}
	reg.Add(lags)
	if err := webrtc.ConfigureRTCPReportsWithOptions(reg,
		[]report.ReceiverOption{report.WithReceiverLoggerFactory(lf)}, report.WithSenderLoggerFactory(lf)); err != nil {
		return nil, fmt.Errorf("configure rtcp reports: %w", err)
	}
	if err := webrtc.ConfigureTWCCSenderWithOptions(m, reg, twcc.WithLoggerFactory(lf)); err != nil {
		return nil, fmt.Errorf("configure twcc: %w", err)
	}
	for _, f := range extra {
		reg.Add(f)
	}
	return reg, nil
}
