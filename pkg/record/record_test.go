package record

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/p2pcam/p2pcam/internal/testutil"
	"github.com/p2pcam/p2pcam/pkg/vp8"
)

const (
	fixture320 = "../../testdata/testsrc2-320x240-30fps-3s.ivf"
	fixture160 = "../../testdata/testsrc2-160x120-30fps-1s.ivf"
)

// vp8Tracks returns the one track of a VP8 recording: t with VP8 as its
// codec.
func vp8Tracks(t Track) []Track {
	t.Codec = vp8.Descriptor
	return []Track{t}
}

// feed describes how a test turns frames into the packets given to WriteRTP.
type feed struct {
	startFrame int                    // frames before it are not sent (joining mid-stream)
	lose       func(f, i, n int) bool // whether packet i of n in frame f is lost
	shuffle    int                    // permute packets within windows of this size
	seq        *uint16                // first sequence number; random if nil
	ts         uint32                 // first RTP timestamp
	padding    bool                   // a padding-only packet after every 10th frame
}

// packets packetizes frames at 30 fps and returns the packets in the
// order they are sent, plus which frames lost a packet.
func (fd feed) packets(frames [][]byte) (pkts []*rtp.Packet, lostFrame map[int]bool) {
	seqr := rtp.NewRandomSequencer()
	if fd.seq != nil {
		seqr = rtp.NewFixedSequencer(*fd.seq)
	}
	pz := rtp.NewPacketizer(1200, 96, 0x1234, &codecs.VP8Payloader{EnablePictureID: true}, seqr, 90000)
	lostFrame = map[int]bool{}
	for f, frame := range frames {
		ps := pz.Packetize(frame, 3000)
		for i, p := range ps {
			p.Timestamp = fd.ts + uint32(f)*3000
			if f < fd.startFrame {
				continue
			}
			if fd.lose != nil && fd.lose(f, i, len(ps)) {
				lostFrame[f] = true
				continue
			}
			pkts = append(pkts, p)
		}
		if fd.padding && f%10 == 9 {
			for _, p := range pz.GeneratePadding(1) {
				p.Payload = nil
				pkts = append(pkts, p)
			}
		}
	}
	if fd.shuffle > 1 {
		rng := rand.New(rand.NewPCG(1, 2))
		for w := 0; w < len(pkts); w += fd.shuffle {
			win := pkts[w:min(w+fd.shuffle, len(pkts))]
			rng.Shuffle(len(win), func(i, j int) { win[i], win[j] = win[j], win[i] })
		}
	}
	return pkts, lostFrame
}

// pacedClock gives r a fake clock and returns a function that moves it
// to the time a packet would arrive over a perfect link: its RTP time
// since ts0 at 90 kHz. Padding packets and packets reordered behind
// later ones leave it where it is.
func pacedClock(r *Recorder, ts0 uint32) (arrive func(*rtp.Packet)) {
	base := time.Unix(1_000_000_000, 0)
	now := base
	r.now = func() time.Time { return now }
	return func(p *rtp.Packet) {
		if len(p.Payload) == 0 {
			return
		}
		if at := base.Add(time.Duration(p.Timestamp-ts0) * time.Second / 90000); at.After(now) {
			now = at
		}
	}
}

// expectedFrames is the recorder's contract in miniature: nothing before
// the first keyframe, and after a lost frame nothing until a keyframe.
func expectedFrames(frames [][]byte, fd feed, lost map[int]bool) int {
	n, waiting := 0, true
	for f := fd.startFrame; f < len(frames); f++ {
		switch {
		case lost[f]:
			waiting = true
		case waiting && !vp8.IsKeyFrame(frames[f]):
		default:
			n++
			waiting = false
		}
	}
	return n
}

func run(t *testing.T, stdin io.Reader, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("%s %s: messages on stderr:\n%s", name, strings.Join(args, " "), stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

// probe judges a recording with ffprobe (codec, size, decoded frames) and
// ffmpeg (every frame decodes without a message). With data != nil both
// read it from a pipe, as a player reading `p2pcam answer -o -` would.
func probe(t *testing.T, path string, data []byte) testutil.Probed {
	t.Helper()
	if data != nil {
		testutil.DecodesCleanlyData(t, data)
		return testutil.ProbeData(t, data)
	}
	testutil.DecodesCleanly(t, path)
	return testutil.Probe(t, path)
}

func duration(t *testing.T, path string) float64 {
	t.Helper()
	out := run(t, nil, "ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path)
	d, err := strconv.ParseFloat(out, 64)
	if err != nil {
		t.Fatalf("ffprobe duration %q: %v", out, err)
	}
	return d
}

// sink is where a test recorder writes: a regular file, or an os.Pipe
// drained by a goroutine.
type sink struct {
	w    io.Writer
	path string
	done func() []byte // closes the writer and returns what a pipe carried
}

func newSink(t *testing.T, pipe bool, ext string) sink {
	t.Helper()
	if !pipe {
		path := filepath.Join(t.TempDir(), "out"+ext)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return sink{w: f, path: path, done: func() []byte {
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			return nil
		}}
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(pr)
		pr.Close()
		got <- b
	}()
	t.Cleanup(func() { pw.Close() })
	return sink{w: pw, done: func() []byte {
		pw.Close()
		select {
		case b := <-got:
			return b
		case <-time.After(time.Minute):
			t.Fatal("pipe reader did not finish")
			return nil
		}
	}}
}

func TestRecorder(t *testing.T) {
	testutil.NeedFFmpeg(t)
	frames := testutil.ReadIVF(t, fixture320)
	if len(frames) != 90 {
		t.Fatalf("fixture has %d frames, want 90", len(frames))
	}
	nearWrap := uint16(65500)
	cases := []struct {
		name   string
		feed   feed
		frames int    // frames written (keyframes at 0, 30, 60)
		lost   uint64 // Stats().PacketsLost
		rekeys bool   // RequestKeyFrame must have been called
	}{
		{name: "in order", feed: feed{}, frames: 90},
		{name: "reordered within 6 packets", feed: feed{shuffle: 6}, frames: 90},
		{name: "sequence and timestamp wrap", feed: feed{seq: &nearWrap, ts: 0xffffffff - 45000, shuffle: 3}, frames: 90},
		{name: "padding packets are not losses", feed: feed{padding: true}, frames: 90},
		{name: "joins mid-stream", feed: feed{startFrame: 5}, frames: 60, rekeys: true},
		{name: "delta frame lost", feed: feed{lose: func(f, i, n int) bool { return f == 40 && i == 0 }},
			frames: 70, lost: 1, rekeys: true},
		{name: "middle packet of a keyframe lost", feed: feed{lose: func(f, i, n int) bool { return f == 30 && n > 2 && i == 1 }},
			frames: 60, lost: 1, rekeys: true},
		{name: "last packet of a keyframe lost", feed: feed{lose: func(f, i, n int) bool { return f == 30 && i == n-1 }},
			frames: 60, lost: 1, rekeys: true},
	}
	for _, tc := range cases {
		for _, format := range []Format{FormatWebM, FormatIVF} {
			for _, pipe := range []bool{false, true} {
				out := "file"
				if pipe {
					out = "pipe"
				}
				t.Run(fmt.Sprintf("%s/%v/%s", tc.name, format, out), func(t *testing.T) {
					t.Parallel()
					pkts, lostFrames := tc.feed.packets(frames)
					want := expectedFrames(frames, tc.feed, lostFrames)
					if want != tc.frames {
						t.Fatalf("model expects %d frames, table %d", want, tc.frames)
					}
					s := newSink(t, pipe, "."+format.String())
					var mu sync.Mutex
					requests := 0
					r, err := New(s.w, Options{Format: format, Tracks: vp8Tracks(Track{RequestKeyFrame: func() {
						mu.Lock()
						requests++
						mu.Unlock()
					}})})
					if err != nil {
						t.Fatal(err)
					}
					arrive := pacedClock(r, tc.feed.ts)
					for _, p := range pkts {
						arrive(p)
						if err := r.WriteRTP(0, p); err != nil {
							t.Fatalf("WriteRTP: %v", err)
						}
					}
					if err := r.Close(); err != nil {
						t.Fatalf("Close: %v", err)
					}
					data := s.done()
					st := r.Stats()

					if st.FramesWritten != uint64(want) {
						t.Errorf("Stats().FramesWritten = %d, want %d", st.FramesWritten, want)
					}
					if st.PacketsLost != tc.lost {
						t.Errorf("Stats().PacketsLost = %d, want %d", st.PacketsLost, tc.lost)
					}
					if st.PacketsReceived != uint64(len(pkts)) {
						t.Errorf("Stats().PacketsReceived = %d, want %d", st.PacketsReceived, len(pkts))
					}
					if st.Width != 320 || st.Height != 240 {
						t.Errorf("Stats() size = %dx%d, want 320x240", st.Width, st.Height)
					}
					mu.Lock()
					if got := requests; tc.rekeys != (got > 0) || uint64(got) != st.KeyFrameRequests {
						t.Errorf("RequestKeyFrame called %d times, Stats().KeyFrameRequests = %d, want calls: %v",
							got, st.KeyFrameRequests, tc.rekeys)
					}
					mu.Unlock()
					if st.FirstFrame.IsZero() {
						t.Error("Stats().FirstFrame is zero")
					}
					if pipe && int64(len(data)) != st.BytesWritten {
						t.Errorf("pipe carried %d bytes, Stats().BytesWritten = %d", len(data), st.BytesWritten)
					}

					got := probe(t, s.path, data)
					if got != (testutil.Probed{Codec: "vp8", Width: 320, Height: 240, Frames: want}) {
						t.Errorf("ffprobe: %+v, want vp8 320x240 %d frames", got, want)
					}
					if !pipe && tc.feed.startFrame == 0 && len(lostFrames) == 0 {
						if d := duration(t, s.path); d < 2.8 || d > 3.2 {
							t.Errorf("ffprobe duration %.3f s, want about 3 s", d)
						}
					}
				})
			}
		}
	}
}

// TestSizeChange appends a 160x120 clip to the 320x240 one: the recording
// carries both sizes and every frame still decodes.
func TestSizeChange(t *testing.T) {
	testutil.NeedFFmpeg(t)
	frames := append(testutil.ReadIVF(t, fixture320), testutil.ReadIVF(t, fixture160)...)
	for _, format := range []Format{FormatWebM, FormatIVF} {
		t.Run(format.String(), func(t *testing.T) {
			t.Parallel()
			s := newSink(t, false, "."+format.String())
			r, err := New(s.w, Options{Format: format, Tracks: vp8Tracks(Track{})})
			if err != nil {
				t.Fatal(err)
			}
			pkts, _ := feed{}.packets(frames)
			for _, p := range pkts {
				if err := r.WriteRTP(0, p); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			s.done()
			if st := r.Stats(); st.FramesWritten != 120 || st.Width != 160 || st.Height != 120 {
				t.Errorf("Stats() = %d frames, %dx%d; want 120 frames, 160x120", st.FramesWritten, st.Width, st.Height)
			}
			// The header keeps the first size; all 120 frames decode.
			if got := probe(t, s.path, nil); got != (testutil.Probed{Codec: "vp8", Width: 320, Height: 240, Frames: 120}) {
				t.Errorf("ffprobe: %+v, want vp8 320x240 120 frames", got)
			}
		})
	}
}

// nopSeeker is an io.WriteSeeker whose Seek always fails, as a pipe's does.
type failingSeeker struct{ bytes.Buffer }

func (*failingSeeker) Seek(int64, int) (int64, error) { return 0, errors.New("illegal seek") }

func TestCloseWithoutFrames(t *testing.T) {
	frames := testutil.ReadIVF(t, fixture320)
	deltaOnly, _ := feed{startFrame: 1}.packets(frames[:30])
	for _, format := range []Format{FormatWebM, FormatIVF} {
		for _, tc := range []struct {
			name string
			pkts []*rtp.Packet
		}{
			{"no packets", nil},
			{"only delta frames", deltaOnly},
		} {
			t.Run(format.String()+"/"+tc.name, func(t *testing.T) {
				var buf failingSeeker
				r, err := New(&buf, Options{Format: format, Tracks: vp8Tracks(Track{})})
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range tc.pkts {
					if err := r.WriteRTP(0, p); err != nil {
						t.Fatal(err)
					}
				}
				for i := range 2 {
					if err := r.Close(); err != nil {
						t.Fatalf("Close #%d: %v", i+1, err)
					}
				}
				if buf.Len() != 0 {
					t.Errorf("wrote %d bytes without a keyframe, want none", buf.Len())
				}
				st := r.Stats()
				if st.FramesWritten != 0 || !st.FirstFrame.IsZero() {
					t.Errorf("Stats() = %+v, want no frames", st)
				}
				if len(tc.pkts) > 0 && st.FramesDropped == 0 {
					t.Error("Stats().FramesDropped = 0, want the delta frames")
				}
				if err := r.WriteRTP(0, frameless()); !errors.Is(err, ErrClosed) {
					t.Errorf("WriteRTP after Close = %v, want ErrClosed", err)
				}
			})
		}
	}
}

func frameless() *rtp.Packet {
	return &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 1, Marker: true}, Payload: []byte{0x10, 0}}
}

// errWriter fails every write after the first n bytes.
type errWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (w *errWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		n := w.n
		w.n = 0
		return n, errDiskFull
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteErrorIsReturned(t *testing.T) {
	frames := testutil.ReadIVF(t, fixture320)
	pkts, _ := feed{}.packets(frames)
	for _, format := range []Format{FormatWebM, FormatIVF} {
		t.Run(format.String(), func(t *testing.T) {
			r, err := New(&errWriter{n: 20000}, Options{Format: format, Tracks: vp8Tracks(Track{})})
			if err != nil {
				t.Fatal(err)
			}
			var werr error
			for _, p := range pkts {
				if werr = r.WriteRTP(0, p); werr != nil {
					break
				}
			}
			cerr := r.Close()
			if !errors.Is(cerr, errDiskFull) {
				t.Errorf("Close = %v, want %v", cerr, errDiskFull)
			}
			if werr != nil && !errors.Is(werr, errDiskFull) {
				t.Errorf("WriteRTP = %v, want %v", werr, errDiskFull)
			}
			if err := r.Close(); !errors.Is(err, errDiskFull) {
				t.Errorf("second Close = %v, want the first result", err)
			}
		})
	}
}

// TestConcurrentClose closes the recorder while another goroutine writes
// and a third reads Stats: WriteRTP then fails with ErrClosed, nothing
// races (run with -race), and the file is complete up to that point.
func TestConcurrentClose(t *testing.T) {
	testutil.NeedFFmpeg(t)
	frames := testutil.ReadIVF(t, fixture320)
	pkts, _ := feed{}.packets(frames)
	s := newSink(t, false, ".webm")
	r, err := New(s.w, Options{Tracks: vp8Tracks(Track{})})
	if err != nil {
		t.Fatal(err)
	}
	halfway := make(chan struct{})
	writerDone := make(chan error, 1)
	go func() {
		for i, p := range pkts {
			if i == len(pkts)/2 {
				close(halfway)
			}
			if err := r.WriteRTP(0, p); err != nil {
				writerDone <- err
				return
			}
		}
		writerDone <- nil
	}()
	statsDone := make(chan struct{})
	go func() {
		defer close(statsDone)
		for range 100 {
			_ = r.Stats()
		}
	}()
	<-halfway
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-writerDone:
		if err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("WriteRTP during Close = %v, want nil or ErrClosed", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("writer goroutine stuck")
	}
	<-statsDone
	if err := r.WriteRTP(0, pkts[0]); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteRTP after Close = %v, want ErrClosed", err)
	}
	s.done()
	st := r.Stats()
	if got := probe(t, s.path, nil); got != (testutil.Probed{Codec: "vp8", Width: 320, Height: 240, Frames: int(st.FramesWritten)}) {
		t.Errorf("ffprobe: %+v, want vp8 320x240 %d frames", got, st.FramesWritten)
	}
}

func TestNewRejects(t *testing.T) {
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New(nil) succeeded")
	}
	if _, err := New(io.Discard, Options{Format: 7}); !errors.Is(err, ErrUnsupportedFormat) {
		t.Errorf("New(Format 7) = %v, want ErrUnsupportedFormat", err)
	}
	r, err := New(io.Discard, Options{Tracks: vp8Tracks(Track{})})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.WriteRTP(0, nil); err == nil {
		t.Error("WriteRTP(nil) succeeded")
	}
}

// fullFile is a regular file on a disk with room for n bytes: a write
// that would grow the file past them writes what fits and fails, as
// write(2) does on a full disk; overwriting within the file works.
type fullFile struct {
	*os.File
	n int64
}

func (f *fullFile) Write(p []byte) (int, error) {
	pos, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	if pos+int64(len(p)) > f.n {
		n, _ := f.File.Write(p[:max(0, f.n-pos)])
		return n, errDiskFull
	}
	return f.File.Write(p)
}

// TestFullDiskKeepsWholeFrames: when the disk fills mid-recording, Close
// returns the error, cuts the file back to its last whole frame and
// finalizes it, and FramesWritten counts exactly the frames the file
// holds (before, the frame being written when the disk filled was
// counted, and the torn frame or cluster left at the end made ffmpeg
// complain).
func TestFullDiskKeepsWholeFrames(t *testing.T) {
	testutil.NeedFFmpeg(t)
	frames := testutil.ReadIVF(t, fixture320)
	pkts, _ := feed{}.packets(frames)
	for _, format := range []Format{FormatWebM, FormatIVF} {
		// Room for no header, for a few frames, for most of them (the
		// whole recording takes about 77 kB).
		for _, room := range []int{40, 20_000, 60_000} {
			t.Run(fmt.Sprintf("%s with %d bytes free", format, room), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "full."+strings.ToLower(format.String()))
				f, err := os.Create(path)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				r, err := New(&fullFile{File: f, n: int64(room)}, Options{Format: format, Tracks: vp8Tracks(Track{})})
				if err != nil {
					t.Fatal(err)
				}
				arrive := pacedClock(r, 0)
				for _, p := range pkts {
					arrive(p)
					if r.WriteRTP(0, p) != nil {
						break
					}
				}
				if err := r.Close(); !errors.Is(err, errDiskFull) {
					t.Fatalf("Close = %v, want %v", err, errDiskFull)
				}
				st := r.Stats()
				fi, err := f.Stat()
				if err != nil {
					t.Fatal(err)
				}
				if fi.Size() != st.BytesWritten || fi.Size() > int64(room) {
					t.Errorf("file is %d bytes, BytesWritten %d, room %d", fi.Size(), st.BytesWritten, room)
				}
				if st.FramesWritten == 0 {
					return // the header did not fit
				}
				got := probe(t, path, nil)
				if uint64(got.Frames) != st.FramesWritten {
					t.Errorf("file holds %d frames; FramesWritten = %d", got.Frames, st.FramesWritten)
				}
				if st.FramesWritten < 2 {
					return // no duration to judge
				}
				want := float64(st.FramesWritten-1) / 30
				if d := duration(t, path); d < want-0.05 || d > want+0.1 {
					t.Errorf("duration %.3f s; want about %.3f s for %d frames", d, want, st.FramesWritten)
				}
			})
		}
	}
}
