package record

import (
	"errors"
	"io"
	"os"
	"sync"
)

// output wraps the caller's writer. It counts bytes and keeps the first
// write error; after an error it discards further writes while reporting
// success, because ebml-go's muxing goroutine stalls for good once one of
// its writes fails. The recorder checks err after every frame instead.
// Close does nothing: the caller owns w.
//
// It also keeps what the output holds whole: the bytes up to the end of
// the last frame written in full before any error, how many frames that
// is and the last one's time, so that a failed recording can be cut back
// to them and counted truly (see Recorder.Close).
type output struct {
	w io.Writer

	// wmu serializes writes to w; mu, which guards the fields, is not
	// held while w blocks, so that state and the frame bookkeeping never
	// wait for a slow reader of a live output.
	wmu sync.Mutex
	mu  sync.Mutex
	n   int64
	err error

	head       []byte  // the first headSize bytes written: the container header
	pending    []int64 // the pts of frames handed to the muxer, not yet whole
	good       int64   // bytes up to the end of the last whole frame or the header
	goodFrames uint64  // whole frames in the first good bytes
	goodPTS    int64   // the last whole frame's pts
}

// headSize is how much of the start of the output is kept: enough for a
// WebM header up to its Tracks.
const headSize = 4096

func (o *output) Write(p []byte) (int, error) {
	o.wmu.Lock()
	defer o.wmu.Unlock()
	o.mu.Lock()
	if o.err != nil {
		o.mu.Unlock()
		return len(p), nil
	}
	if len(o.head) < headSize {
		o.head = append(o.head, p[:min(len(p), headSize-len(o.head))]...)
	}
	o.mu.Unlock()
	n, err := o.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	o.mu.Lock()
	o.n += int64(n)
	if o.err == nil {
		o.err = err
	}
	o.mu.Unlock()
	return len(p), nil
}

// Close implements io.Closer for ebml-go, which closes what it writes to.
func (o *output) Close() error { return nil }

func (o *output) fail(err error) {
	o.mu.Lock()
	if o.err == nil {
		o.err = err
	}
	o.mu.Unlock()
}

// headerDone marks the end of the container header: a recording cut back
// to it holds no frame but is a valid empty file.
func (o *output) headerDone() {
	o.mu.Lock()
	if o.err == nil {
		o.good = o.n
	}
	o.mu.Unlock()
}

// frameSent notes that a frame with pts went to the muxer; frameDone
// notes that the oldest one sent is now written out, whole if no error
// came meanwhile.
func (o *output) frameSent(pts int64) {
	o.mu.Lock()
	o.pending = append(o.pending, pts)
	o.mu.Unlock()
}

func (o *output) frameDone() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.pending) == 0 {
		return
	}
	pts := o.pending[0]
	o.pending = o.pending[1:]
	if o.err == nil {
		o.good, o.goodFrames, o.goodPTS = o.n, o.goodFrames+1, pts
	}
}

// whole returns what the output holds whole: see output.
func (o *output) whole() (bytes int64, frames uint64, lastPTS int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.good, o.goodFrames, o.goodPTS
}

// header returns the first bytes written.
func (o *output) header() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.head
}

func (o *output) state() (n int64, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n, o.err
}

// seekOutput is an output over a writer that really seeks. Offsets are
// relative to where w stood when the recorder was made, so a file that
// already holds data is finalized at the right place.
type seekOutput struct {
	*output
	ws   io.WriteSeeker
	base int64
}

func (s *seekOutput) Seek(offset int64, whence int) (int64, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, s.err
	}
	if whence == io.SeekStart {
		offset += s.base
	}
	pos, err := s.ws.Seek(offset, whence)
	if err != nil {
		s.err = err
		return 0, err
	}
	return pos - s.base, nil
}

// errNoTruncate means the output cannot be cut back.
var errNoTruncate = errors.New("the output cannot be truncated")

// cut truncates the output to its first n bytes and clears its error, so
// that a failed recording can be cut back to its whole frames and
// finalized in place.
func (s *seekOutput) cut(n int64) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.ws.(interface{ Truncate(int64) error })
	if !ok {
		return errNoTruncate
	}
	if err := t.Truncate(s.base + n); err != nil {
		return err
	}
	if _, err := s.ws.Seek(s.base+n, io.SeekStart); err != nil {
		return err
	}
	s.n, s.err = n, nil
	return nil
}

// writeAt overwrites bytes at off and returns to the end.
func (s *seekOutput) writeAt(b []byte, off int64) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.ws.Seek(s.base+off, io.SeekStart); err != nil {
		return err
	}
	if _, err := s.ws.Write(b); err != nil {
		return err
	}
	_, err := s.ws.Seek(0, io.SeekEnd)
	return err
}

// newOutput returns a seekOutput when w is an io.WriteSeeker whose Seek
// works (for an *os.File: a regular file, not a pipe or terminal) and a
// plain output otherwise.
func newOutput(w io.Writer) (out *output, seeker *seekOutput) {
	out = &output{w: w}
	ws, ok := w.(io.WriteSeeker)
	if !ok {
		return out, nil
	}
	if f, isFile := w.(*os.File); isFile {
		fi, err := f.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return out, nil
		}
	}
	base, err := ws.Seek(0, io.SeekCurrent)
	if err != nil {
		return out, nil
	}
	return out, &seekOutput{output: out, ws: ws, base: base}
}
