package record

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Format is a container for the recorded video.
type Format int

const (
	// FormatWebM is Matroska/WebM, the zero value. It plays from a pipe
	// (`p2pcam answer -o - | ffplay -`) and from a file, where it is also
	// seekable once the Recorder is closed.
	FormatWebM Format = iota
	// FormatIVF is libvpx's bare frame container: one video track, of a
	// codec with an IVF FourCC (codec.Descriptor.FourCC).
	FormatIVF
)

// String returns "webm", "ivf" or "Format(n)".
func (f Format) String() string {
	switch f {
	case FormatWebM:
		return "webm"
	case FormatIVF:
		return "ivf"
	default:
		return fmt.Sprintf("Format(%d)", int(f))
	}
}

// ErrUnsupportedFormat is returned by FormatForPath for an extension
// other than .webm or .ivf, and by New for an unknown Format.
var ErrUnsupportedFormat = errors.New("unsupported output format")

// FormatForPath picks the format from path's extension, ignoring case:
// ".webm" or ".ivf". Any other extension, or none, gives an error wrapping
// ErrUnsupportedFormat that names the supported ones. The stdout path "-"
// has no extension either: the caller chooses the format for it (WebM is
// the usual choice for a pipe).
func FormatForPath(path string) (Format, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".webm":
		return FormatWebM, nil
	case ".ivf":
		return FormatIVF, nil
	case "":
		return 0, fmt.Errorf("%w: %q has no extension; use .webm or .ivf", ErrUnsupportedFormat, path)
	default:
		return 0, fmt.Errorf("%w: %q; use .webm or .ivf", ErrUnsupportedFormat, ext)
	}
}
