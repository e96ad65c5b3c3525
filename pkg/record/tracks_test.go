package record

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/p2pcam/p2pcam/internal/testcodec"
	"github.com/p2pcam/p2pcam/internal/testutil"
	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// arrival is one packet of a track reaching the recorder at a time.
type arrival struct {
	at    time.Duration
	track int
	p     *rtp.Packet
	// sr, if not nil, is what arrives instead of a packet: a sender
	// report, given to the Recorder.
	sr func(*Recorder)
}

// audioPackets packetizes n frames of testcodec.Audio, 20 ms and 1500
// bytes each (two packets), arriving from start on, as a sender
// capturing them in real time sends them.
func audioPackets(n int, start time.Duration, track int) []arrival {
	pz := rtp.NewPacketizer(1200, 118, 0x5678, testcodec.Audio.NewPayloader(), rtp.NewRandomSequencer(), 48000)
	rng := rand.New(rand.NewPCG(3, 4))
	ts0 := rng.Uint32()
	var out []arrival
	for f := range n {
		frame := make([]byte, 1500)
		for i := range frame {
			frame[i] = byte(f + i)
		}
		for _, p := range pz.Packetize(frame, 960) {
			p.Timestamp = ts0 + uint32(f)*960 // #nosec G115: small
			out = append(out, arrival{at: start + time.Duration(f)*20*time.Millisecond, track: track, p: p})
		}
	}
	return out
}

// videoPackets packetizes the VP8 frames at 30 fps, arriving from 0 on.
func videoPackets(frames [][]byte, track int) []arrival {
	pkts, _ := feed{ts: 1 << 31}.packets(frames)
	out := make([]arrival, len(pkts))
	for i, p := range pkts {
		out[i] = arrival{at: time.Duration(p.Timestamp-1<<31) * time.Second / 90000, track: track, p: p}
	}
	return out
}

// feedArrivals gives r the packets in the order they arrive, moving r's
// clock to each one's time; ties keep their order. A live recorder's
// queue is let drain after each packet, as a reader keeping up with the
// stream would drain it between packets that come in real time.
func feedArrivals(t *testing.T, r *Recorder, as []arrival) {
	t.Helper()
	slices.SortStableFunc(as, func(a, b arrival) int { return int(a.at - b.at) })
	base := time.Unix(1_000_000_000, 0)
	var now time.Time
	r.now = func() time.Time { return now }
	for _, a := range as {
		now = base.Add(a.at)
		if a.sr != nil {
			a.sr(r)
			continue
		}
		if err := r.WriteRTP(a.track, a.p); err != nil {
			t.Fatal(err)
		}
		if r.live {
			waitDrained(t, r)
		}
	}
}

// probedPacket is one packet of a file as ffprobe lists it.
type probedPacket struct {
	stream int
	pts    float64
}

// probePackets lists the packets of a recording in file order with
// ffprobe, and its streams' types.
func probePackets(t *testing.T, path string, data []byte) (streams []string, pkts []probedPacket) {
	t.Helper()
	in, stdin := path, io.Reader(nil)
	if data != nil {
		in = "pipe:0"
	}
	if data != nil {
		stdin = bytes.NewReader(data)
	}
	out := run(t, stdin, "ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", in)
	streams = strings.Fields(out)
	if data != nil {
		stdin = bytes.NewReader(data)
	}
	out = run(t, stdin, "ffprobe", "-v", "error", "-show_entries", "packet=stream_index,pts_time", "-of", "csv=p=0", in)
	for _, line := range strings.Fields(out) {
		idx, ts, ok := strings.Cut(line, ",")
		if !ok {
			t.Fatalf("ffprobe packet line %q", line)
		}
		s, err1 := strconv.Atoi(idx)
		pts, err2 := strconv.ParseFloat(ts, 64)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatalf("ffprobe packet line %q: %v", line, err)
		}
		pkts = append(pkts, probedPacket{stream: s, pts: pts})
	}
	return streams, pkts
}

// TestTracksInOneWebM records VP8 video beside a second codec (the test
// audio codec) into one WebM: two streams, each with its frames at the
// times they were captured (audio that starts later starts later in the
// file; audio from before the first keyframe is left out), blocks in time
// order, and the video decoding cleanly.
func TestTracksInOneWebM(t *testing.T) {
	testutil.NeedFFmpeg(t)
	frames := testutil.ReadIVF(t, fixture320) // 90 frames, 3 s
	for _, tc := range []struct {
		name       string
		audioStart time.Duration // first audio packet, relative to the first video one
		pipe, live bool
		wantAudio  int     // frames written
		firstAudio float64 // s
	}{
		{name: "together", audioStart: 0, wantAudio: 150, firstAudio: 0},
		{name: "audio 400 ms later", audioStart: 400 * time.Millisecond, wantAudio: 150, firstAudio: 0.4},
		{name: "audio 200 ms earlier", audioStart: -200 * time.Millisecond, wantAudio: 140, firstAudio: 0},
		{name: "pipe", audioStart: 100 * time.Millisecond, pipe: true, wantAudio: 150, firstAudio: 0.1},
		{name: "live pipe", audioStart: 100 * time.Millisecond, pipe: true, live: true, wantAudio: 150, firstAudio: 0.1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSink(t, tc.pipe, ".webm")
			var audioSeen int
			r, err := New(s.w, Options{Live: tc.live, Tracks: []Track{
				{Codec: vp8.Descriptor},
				{Codec: testcodec.Audio, OnFrame: func(data []byte, key bool, _ uint32) {
					if !key || len(data) != 1500 {
						t.Errorf("audio frame of %d bytes, key %v; want 1500 bytes, a keyframe", len(data), key)
					}
					audioSeen++
				}},
			}})
			if err != nil {
				t.Fatal(err)
			}
			feedArrivals(t, r, append(videoPackets(frames, 0), audioPackets(150, tc.audioStart, 1)...))
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			data := s.done()
			st := r.Stats()
			if len(st.Tracks) != 2 {
				t.Fatalf("stats of %d tracks; want 2", len(st.Tracks))
			}
			v, a := st.Tracks[0], st.Tracks[1]
			if tc.live {
				// A loaded machine may stall the pipe's reader: what the
				// live queue dropped is counted, not lost.
				v.FramesWritten += v.FramesBehind
				a.FramesWritten += a.FramesBehind
			}
			if v.FramesWritten != 90 || a.FramesWritten != uint64(tc.wantAudio) || audioSeen != tc.wantAudio {
				t.Errorf("frames written: video %d, audio %d (OnFrame %d); want 90, %d", v.FramesWritten, a.FramesWritten, audioSeen, tc.wantAudio)
			}
			if st.FramesWritten != st.Tracks[0].FramesWritten+st.Tracks[1].FramesWritten || st.PacketsReceived != v.PacketsReceived+a.PacketsReceived {
				t.Errorf("totals %+v do not add up the tracks %+v", st.TrackStats, st.Tracks)
			}
			if st.Width != 320 || st.Height != 240 || a.Width != 0 {
				t.Errorf("sizes: total %dx%d, audio %dx%d; want 320x240, 0x0", st.Width, st.Height, a.Width, a.Height)
			}

			streams, pkts := probePackets(t, s.path, data)
			if !slices.Equal(streams, []string{"video", "audio"}) {
				t.Fatalf("streams %q; want video, audio", streams)
			}
			var first, last [2]float64
			var n [2]int
			prev := -1.0
			for i, p := range pkts {
				if p.pts < prev {
					t.Fatalf("packet %d (stream %d) at %.3f s after one at %.3f s: not interleaved by time", i, p.stream, p.pts, prev)
				}
				prev = p.pts
				if n[p.stream] == 0 {
					first[p.stream] = p.pts
				}
				last[p.stream] = p.pts
				n[p.stream]++
			}
			if !tc.live && (n[0] != 90 || n[1] != tc.wantAudio) {
				t.Errorf("packets in the file: video %d, audio %d; want 90, %d", n[0], n[1], tc.wantAudio)
			}
			near := func(got, want float64) bool { return got >= want-0.0015 && got <= want+0.0015 }
			if !near(first[0], 0) || !near(first[1], tc.firstAudio) {
				t.Errorf("first video at %.3f s, audio at %.3f s; want 0, %.3f", first[0], first[1], tc.firstAudio)
			}
			if !tc.live {
				wantLastAudio := tc.firstAudio + float64(tc.wantAudio-1)*0.020
				if !near(last[0], 2.966) || !near(last[1], wantLastAudio) {
					t.Errorf("last video at %.3f s, audio at %.3f s; want 2.966, %.3f", last[0], last[1], wantLastAudio)
				}
			}
			var vp testutil.Probed
			if data != nil {
				vp = testutil.ProbeData(t, data)
			} else {
				vp = testutil.Probe(t, s.path)
			}
			if vp.Codec != "vp8" || (!tc.live && vp.Frames != 90) {
				t.Errorf("video stream %+v; want vp8, 90 frames", vp)
			}
		})
	}
}

// TestNewChecksTracks: New refuses tracks its format cannot hold, and
// says to use WebM where WebM can.
func TestNewChecksTracks(t *testing.T) {
	noFourCC := vp8.Descriptor
	noFourCC.FourCC = ""
	noID := testcodec.Audio
	noID.ContainerID = ""
	for _, tc := range []struct {
		name     string
		format   Format
		tracks   []codec.Descriptor
		wantWebM bool // the error says to use .webm
		ok       bool
	}{
		{name: "webm video and audio", format: FormatWebM, tracks: []codec.Descriptor{vp8.Descriptor, testcodec.Audio}, ok: true},
		{name: "webm audio only", format: FormatWebM, tracks: []codec.Descriptor{testcodec.Audio}, ok: true},
		{name: "ivf video", format: FormatIVF, tracks: []codec.Descriptor{vp8.Descriptor}, ok: true},
		{name: "no tracks", format: FormatWebM},
		{name: "ivf video and audio", format: FormatIVF, tracks: []codec.Descriptor{vp8.Descriptor, testcodec.Audio}, wantWebM: true},
		{name: "ivf two videos", format: FormatIVF, tracks: []codec.Descriptor{vp8.Descriptor, vp8.Descriptor}, wantWebM: true},
		{name: "ivf audio", format: FormatIVF, tracks: []codec.Descriptor{testcodec.Audio}, wantWebM: true},
		{name: "ivf codec without fourcc", format: FormatIVF, tracks: []codec.Descriptor{noFourCC}, wantWebM: true},
		{name: "webm codec without id", format: FormatWebM, tracks: []codec.Descriptor{vp8.Descriptor, noID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tracks []Track
			for _, d := range tc.tracks {
				tracks = append(tracks, Track{Codec: d})
			}
			r, err := New(io.Discard, Options{Format: tc.format, Tracks: tracks})
			if tc.ok {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if err := r.Close(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrTracks) {
				t.Fatalf("New = %v; want ErrTracks", err)
			}
			if got := strings.Contains(err.Error(), ".webm"); got != tc.wantWebM {
				t.Errorf("error %q mentions .webm: %v; want %v", err, got, tc.wantWebM)
			}
		})
	}
	r, err := New(io.Discard, Options{Tracks: vp8Tracks(Track{})})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.WriteRTP(1, frameless()); err == nil {
		t.Error("WriteRTP to a track that does not exist succeeded")
	}
}

// TestAudioOnlyWebM: a recording of one audio track starts with its first
// frame and carries the track's settings (channels, sample rate, codec
// private data) in its header.
func TestAudioOnlyWebM(t *testing.T) {
	testutil.NeedFFmpeg(t)
	s := newSink(t, false, ".webm")
	r, err := New(s.w, Options{Tracks: []Track{{
		Codec: testcodec.Audio, Channels: 2, SampleRate: 44100, CodecPrivate: []byte("private!"),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	feedArrivals(t, r, audioPackets(50, 0, 0))
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	s.done()
	if st := r.Stats(); st.FramesWritten != 50 || st.KeyFrames != 50 || st.Width != 0 {
		t.Errorf("stats %+v; want 50 frames, all keyframes, no picture size", st.TrackStats)
	}
	out := run(t, nil, "ffprobe", "-v", "error", "-show_entries", "stream=codec_type,channels,sample_rate,extradata_size", "-of", "csv=p=0", s.path)
	if out != "audio,44100,2,8" {
		t.Errorf("ffprobe stream %q; want audio,44100,2,8 (type, rate, channels, private bytes)", out)
	}
	streams, pkts := probePackets(t, s.path, nil)
	if len(streams) != 1 || len(pkts) != 50 || pkts[0].pts != 0 || pkts[49].pts < 0.979 || pkts[49].pts > 0.981 {
		t.Errorf("streams %q, %d packets from %v; want one stream, 50 packets from 0 to 0.98 s", streams, len(pkts), pkts[:min(len(pkts), 1)])
	}
}

// TestLiveTracksBehindAReader: a live recording of two tracks whose
// reader stalls drops video and audio together, and counts truly: what
// each track has in the output is its FramesWritten, and with
// FramesBehind that makes every frame taken.
func TestLiveTracksBehindAReader(t *testing.T) {
	testutil.NeedFFmpeg(t)
	frames := testutil.ReadIVF(t, fixture320) // keyframes at 0, 1 and 2 s
	w := &gatedWriter{gate: make(chan struct{})}
	defer w.open()
	r, err := New(w, Options{Live: true, Tracks: []Track{{Codec: vp8.Descriptor}, {Codec: testcodec.Audio}}})
	if err != nil {
		t.Fatal(err)
	}
	as := append(videoPackets(frames, 0), audioPackets(150, 0, 1)...)
	slices.SortStableFunc(as, func(a, b arrival) int { return int(a.at - b.at) })
	base := time.Unix(1_000_000_000, 0)
	var now time.Time
	r.mu.Lock()
	r.now = func() time.Time { return now }
	r.mu.Unlock()
	const stall = 1500 * time.Millisecond // past the keyframe at 1 s
	writeWithoutBlocking(t, "", func() error {
		for _, a := range as {
			if a.at >= stall {
				break
			}
			now = base.Add(a.at)
			if err := r.WriteRTP(a.track, a.p); err != nil {
				return err
			}
		}
		return nil
	})
	w.open()
	for _, a := range as {
		if a.at < stall {
			continue
		}
		now = base.Add(a.at)
		if a.sr != nil {
			a.sr(r)
			continue
		}
		if err := r.WriteRTP(a.track, a.p); err != nil {
			t.Fatal(err)
		}
		waitDrained(t, r)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	v, a := st.Tracks[0], st.Tracks[1]
	if v.FramesBehind == 0 || a.FramesBehind == 0 {
		t.Errorf("dropped behind: video %d, audio %d; want some of each", v.FramesBehind, a.FramesBehind)
	}
	if v.FramesWritten+v.FramesBehind != 90 || a.FramesWritten+a.FramesBehind != 150 {
		t.Errorf("video %d written + %d behind, audio %d + %d; want 90 and 150 in all",
			v.FramesWritten, v.FramesBehind, a.FramesWritten, a.FramesBehind)
	}
	data := w.buf.Bytes()
	_, pkts := probePackets(t, "", data)
	var n [2]uint64
	prev := -1.0
	for i, p := range pkts {
		if p.pts < prev {
			t.Fatalf("packet %d at %.3f s after one at %.3f s", i, p.pts, prev)
		}
		prev = p.pts
		n[p.stream]++
	}
	if n[0] != v.FramesWritten || n[1] != a.FramesWritten {
		t.Errorf("output holds %d video and %d audio frames; Stats say %d and %d", n[0], n[1], v.FramesWritten, a.FramesWritten)
	}
	if vp := testutil.ProbeData(t, data); uint64(vp.Frames) != v.FramesWritten {
		t.Errorf("%d video frames decode; %d written", vp.Frames, v.FramesWritten)
	}
}
