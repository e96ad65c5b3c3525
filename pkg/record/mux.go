package record

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/mkvcore"
	"github.com/at-wat/ebml-go/webm"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

// muxer writes whole frames of the recording's tracks into a container.
// track indexes Options.Tracks; pts is in milliseconds from the start of
// the recording and never decreases across calls.
type muxer interface {
	writeFrame(track int, key bool, pts int64, frame []byte) error
	// finish finalizes what a seekable output allows and flushes the rest.
	finish() error
	// repair finalizes, after finish, a seekable output that failed and
	// was cut back to its first frames whole frames, the last at lastPTS.
	repair(frames uint64, lastPTS int64) error
}

// trackHeader is what a container's header says about one track.
type trackHeader struct {
	codec         codec.Descriptor
	width, height int // video: the first keyframe's size
	channels      int // audio
	sampleRate    float64
	private       []byte // Matroska CodecPrivate
	// codecDelay and seekPreRoll are the Matroska track's CodecDelay and
	// SeekPreRoll (Opus: its pre-skip, and 80 ms); 0 for none.
	codecDelay, seekPreRoll time.Duration
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

// newIVFMuxer writes the header of an IVF holding the one video track t;
// New checked that t fits IVF (a video codec with a FourCC).
func newIVFMuxer(out *output, seeker *seekOutput, t trackHeader) (*ivfMuxer, error) {
	var h [32]byte
	copy(h[0:4], "DKIF")
	binary.LittleEndian.PutUint16(h[4:], 0)  // version
	binary.LittleEndian.PutUint16(h[6:], 32) // header length
	copy(h[8:12], t.codec.FourCC)
	binary.LittleEndian.PutUint16(h[12:], uint16(t.width))  // #nosec G115: 14-bit value
	binary.LittleEndian.PutUint16(h[14:], uint16(t.height)) // #nosec G115: 14-bit value
	binary.LittleEndian.PutUint32(h[16:], 1000)             // time base denominator
	binary.LittleEndian.PutUint32(h[20:], 1)                // time base numerator
	// h[24:28], the length, stays 0 until finish can seek back.
	_, _ = out.Write(h[:])
	if _, err := out.state(); err != nil {
		return nil, fmt.Errorf("write ivf header: %w", err)
	}
	out.headerDone()
	return &ivfMuxer{out: out, seeker: seeker}, nil
}

func (m *ivfMuxer) writeFrame(_ int, _ bool, pts int64, frame []byte) error {
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

// webmMuxer writes WebM through ebml-go, one Matroska track per track of
// the recording, their blocks in the order given (the Recorder
// interleaves them by time). Each keyframe of the main track (the first
// video track, or the first track when none is video) opens a cluster, so
// a cluster starts on a picture that decodes by itself; without one, a
// cluster closes after 30 s (an audio-only recording: after 1 s at the
// earliest). Clusters and the segment have unknown sizes, so a pipe
// reader can play the stream as it comes; on a seekable output ebml-go
// also fills in Duration and Cues when it finishes.
type webmMuxer struct {
	bw     []webm.BlockWriteCloser // one per track
	out    *output
	seeker *seekOutput // nil when streaming
	fatal  sync.Once
}

// webmDurationPlaceholder is the Duration element ebml-go writes into the
// header of a seekable WebM and overwrites when it finishes: ID 0x4489,
// size 8, the smallest float64 above zero.
var webmDurationPlaceholder = []byte{0x44, 0x89, 0x88, 0, 0, 0, 0, 0, 0, 0, 1}

// newWebMMuxer writes the header of a WebM holding tracks; main indexes
// the track whose keyframes open clusters.
func newWebMMuxer(out *output, seeker *seekOutput, tracks []trackHeader, main int) (*webmMuxer, error) {
	m := &webmMuxer{out: out, seeker: seeker}
	minCluster := int64(1) // ms: every keyframe of a video main track
	if tracks[main].codec.Kind != codec.Video {
		minCluster = 1000 // every frame of an audio track is a keyframe
	}
	info := &webm.Info{
		TimecodeScale: 1000000, // milliseconds
		MuxingApp:     "ebml-go",
		WritingApp:    "p2pcam",
	}
	opts := []mkvcore.BlockWriterOption{
		mkvcore.WithSegmentInfo(info),
		// The default interceptor sorts blocks across tracks and holds
		// frames back; the Recorder hands them over in order already.
		mkvcore.WithBlockInterceptor(nil),
		mkvcore.WithSeekHead(true),
		mkvcore.WithMinMaxClusterDuration(uint64(main+1), minCluster, 30000), // #nosec G115: a small index
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
	ws, err := webm.NewSimpleBlockWriter(w, webmTracks(tracks), opts...)
	if err != nil {
		return nil, fmt.Errorf("start webm: %w", err)
	}
	m.bw = ws
	if _, err := out.state(); err != nil {
		m.closeAll()
		return nil, fmt.Errorf("write webm header: %w", err)
	}
	out.headerDone()
	return m, nil
}

// webmTracks returns the Matroska track entries of tracks, numbered from
// 1 in their order (Matroska's TrackType 1 is video, 2 audio).
func webmTracks(tracks []trackHeader) []webm.TrackEntry {
	entries := make([]webm.TrackEntry, len(tracks))
	for i, t := range tracks {
		e := webm.TrackEntry{
			TrackNumber:  uint64(i + 1),     // #nosec G115: a small index
			TrackUID:     rand.Uint64() | 1, // #nosec G404: an ID, not a secret
			CodecID:      t.codec.ContainerID,
			CodecPrivate: t.private,
		}
		if t.codec.Kind == codec.Audio {
			e.Name, e.TrackType = "Audio", 2
			e.CodecDelay = uint64(max(t.codecDelay, 0))   // #nosec G115: non-negative
			e.SeekPreRoll = uint64(max(t.seekPreRoll, 0)) // #nosec G115: non-negative
			e.Audio = &webm.Audio{
				SamplingFrequency: t.sampleRate,
				Channels:          uint64(max(t.channels, 1)), // #nosec G115: positive
			}
		} else {
			e.Name, e.TrackType = "Video", 1
			e.Video = &webm.Video{
				PixelWidth:  uint64(t.width),  // #nosec G115: positive
				PixelHeight: uint64(t.height), // #nosec G115: positive
			}
		}
		entries[i] = e
	}
	return entries
}

// closeAll closes every track's writer; ebml-go finishes the file when
// the last one closes.
func (m *webmMuxer) closeAll() {
	for _, w := range m.bw {
		_ = w.Close()
	}
}

func (m *webmMuxer) writeFrame(track int, key bool, pts int64, frame []byte) error {
	// ebml-go hands the frame to its goroutine without copying; frames
	// come fresh from the assembler and are not reused.
	m.out.frameSent(pts)
	if _, err := m.bw[track].Write(key, pts, frame); err != nil {
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
	// The last Close returns once ebml-go has written the last cluster
	// and, on a seekable output, the Cues and Duration.
	m.closeAll()
	_, err := m.out.state()
	return err
}
