package record

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/mkvcore"
	"github.com/at-wat/ebml-go/webm"
)

// muxer writes whole VP8 frames into a container. pts is in milliseconds
// from the first frame and never decreases.
type muxer interface {
	writeFrame(key bool, pts int64, frame []byte) error
	// finish finalizes what a seekable output allows and flushes the rest.
	finish() error
	// repair finalizes, after finish, a seekable output that failed and
	// was cut back to its first frames whole frames, the last at lastPTS.
	repair(frames uint64, lastPTS int64) error
}

// ivfMuxer writes IVF: a 32-byte file header, then each frame behind a
// 12-byte header (length, 64-bit pts). The time base is 1/1000 s.
//
// Header bytes 24-27 are a frame count to libvpx, which does not read
// them, but a duration in time-base units to ffmpeg, which does. finish
// writes what ffmpeg's own IVF muxer writes there: the duration including
// the last frame, estimated as frames × last pts / (frames - 1); with a
// millisecond time base a frame count would make ffprobe report 0.09 s for
// a 3 s recording.
type ivfMuxer struct {
	out     *output
	seeker  *seekOutput // nil when streaming
	frames  uint32
	lastPTS int64
	hdr     [12]byte
}

func newIVFMuxer(out *output, seeker *seekOutput, width, height int) (*ivfMuxer, error) {
	var h [32]byte
	copy(h[0:4], "DKIF")
	binary.LittleEndian.PutUint16(h[4:], 0)  // version
	binary.LittleEndian.PutUint16(h[6:], 32) // header length
	copy(h[8:12], "VP80")
	binary.LittleEndian.PutUint16(h[12:], uint16(width))  // #nosec G115: 14-bit value
	binary.LittleEndian.PutUint16(h[14:], uint16(height)) // #nosec G115: 14-bit value
	binary.LittleEndian.PutUint32(h[16:], 1000)           // time base denominator
	binary.LittleEndian.PutUint32(h[20:], 1)              // time base numerator
	// h[24:28], the length, stays 0 until finish can seek back.
	_, _ = out.Write(h[:])
	if _, err := out.state(); err != nil {
		return nil, fmt.Errorf("write ivf header: %w", err)
	}
	out.headerDone()
	return &ivfMuxer{out: out, seeker: seeker}, nil
}

func (m *ivfMuxer) writeFrame(_ bool, pts int64, frame []byte) error {
	binary.LittleEndian.PutUint32(m.hdr[0:], uint32(len(frame))) // #nosec G115: RTP frames are far below 4 GiB
	binary.LittleEndian.PutUint64(m.hdr[4:], uint64(pts))        // #nosec G115: pts >= 0
	m.out.frameSent(pts)
	_, _ = m.out.Write(m.hdr[:])
	_, _ = m.out.Write(frame)
	m.out.frameDone()
	m.frames++
	m.lastPTS = pts
	_, err := m.out.state()
	return err
}

func (m *ivfMuxer) repair(frames uint64, lastPTS int64) error {
	m.frames, m.lastPTS = uint32(min(frames, 1<<32-1)), lastPTS // #nosec G115: clamped
	return m.finish()
}

func (m *ivfMuxer) finish() error {
	if m.seeker == nil {
		_, err := m.out.state()
		return err
	}
	var length int64
	if m.frames > 1 {
		length = int64(m.frames) * m.lastPTS / int64(m.frames-1)
	}
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(min(length, 1<<32-1))) // #nosec G115: clamped
	if _, err := m.seeker.Seek(24, io.SeekStart); err == nil {
		_, _ = m.seeker.Write(n[:])
		_, _ = m.seeker.Seek(0, io.SeekEnd)
	}
	_, err := m.out.state()
	return err
}

// webmCuesReserve is the space kept after the header of a seekable WebM
// for the Cues index; ebml-go thins the cue points out if they do not fit
// (about 20 bytes each, one per cluster).
const webmCuesReserve = 16 << 10

// webmMuxer writes WebM through ebml-go. Each keyframe opens a cluster
// (or every 30 s without one). Clusters and the segment have unknown
// sizes, so a pipe reader can play the stream as it comes; on a seekable
// output ebml-go also fills in Duration and Cues when it finishes.
type webmMuxer struct {
	bw     webm.BlockWriteCloser
	out    *output
	seeker *seekOutput // nil when streaming
	fatal  sync.Once
}

// webmDurationPlaceholder is the Duration element ebml-go writes into the
// header of a seekable WebM and overwrites when it finishes: ID 0x4489,
// size 8, the smallest float64 above zero.
var webmDurationPlaceholder = []byte{0x44, 0x89, 0x88, 0, 0, 0, 0, 0, 0, 0, 1}

func newWebMMuxer(out *output, seeker *seekOutput, width, height int) (*webmMuxer, error) {
	m := &webmMuxer{out: out, seeker: seeker}
	info := &webm.Info{
		TimecodeScale: 1000000, // milliseconds
		MuxingApp:     "ebml-go",
		WritingApp:    "p2pcam",
	}
	opts := []mkvcore.BlockWriterOption{
		mkvcore.WithSegmentInfo(info),
		// The default interceptor sorts blocks across tracks and holds
		// frames back; one track in order needs none of that.
		mkvcore.WithBlockInterceptor(nil),
		mkvcore.WithSeekHead(true),
		mkvcore.WithMinMaxClusterDuration(1, 0, 30000),
		// ebml-go panics on fatal errors unless told otherwise.
		mkvcore.WithOnFatalHandler(func(err error) {
			m.fatal.Do(func() { out.fail(fmt.Errorf("webm muxer: %w", err)) })
		}),
		// A SimpleBlock is one frame (pending holds its pts in ms); once it is written out, the frame
		// is whole in the output (if no write failed).
		mkvcore.WithMarshalOptions(ebml.WithElementWriteHooks(func(e *ebml.Element) {
			if e.Name == "SimpleBlock" {
				out.frameDone()
			}
		})),
	}
	var w io.WriteCloser = out
	if seeker != nil {
		w = seeker
		opts = append(opts, mkvcore.WithCues(webmCuesReserve))
	}
	tracks := []webm.TrackEntry{{
		Name:        "Video",
		TrackNumber: 1,
		TrackUID:    rand.Uint64() | 1,
		CodecID:     "V_VP8",
		TrackType:   1, // video
		Video: &webm.Video{
			PixelWidth:  uint64(width),  // #nosec G115: positive
			PixelHeight: uint64(height), // #nosec G115: positive
		},
	}}
	ws, err := webm.NewSimpleBlockWriter(w, tracks, opts...)
	if err != nil {
		return nil, fmt.Errorf("start webm: %w", err)
	}
	if _, err := out.state(); err != nil {
		_ = ws[0].Close()
		return nil, fmt.Errorf("write webm header: %w", err)
	}
	out.headerDone()
	m.bw = ws[0]
	return m, nil
}

func (m *webmMuxer) writeFrame(key bool, pts int64, frame []byte) error {
	// ebml-go hands the frame to its goroutine without copying; frames
	// come fresh from the assembler and are not reused.
	m.out.frameSent(pts)
	if _, err := m.bw.Write(key, pts, frame); err != nil {
		return err
	}
	_, err := m.out.state()
	return err
}

// repair writes the Duration of the frames kept (the last one's pts, as
// ebml-go counts it) over the placeholder; the file keeps no Cues, which
// players do without.
func (m *webmMuxer) repair(_ uint64, lastPTS int64) error {
	at := bytes.Index(m.out.header(), webmDurationPlaceholder)
	if m.seeker == nil || at < 0 {
		return nil
	}
	var d [8]byte
	binary.BigEndian.PutUint64(d[:], math.Float64bits(float64(lastPTS)))
	return m.seeker.writeAt(d[:], int64(at+3))
}

func (m *webmMuxer) finish() error {
	// Close returns once ebml-go has written the last cluster and, on a
	// seekable output, the Cues and Duration.
	_ = m.bw.Close()
	_, err := m.out.state()
	return err
}
