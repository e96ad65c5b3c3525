package record

import (
	"io"
	"os"
	"sync"
)

// output wraps the caller's writer. It counts bytes and keeps the first
// write error; after an error it discards further writes while reporting
// success, because ebml-go's muxing goroutine stalls for good once one of
// its writes fails. The recorder checks err after every frame instead.
// Close does nothing: the caller owns w.
type output struct {
	w io.Writer

	mu  sync.Mutex
	n   int64
	err error
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return len(p), nil
	}
	n, err := o.w.Write(p)
	o.n += int64(n)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	o.err = err
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
