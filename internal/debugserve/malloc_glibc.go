//go:build cgo && linux

package debugserve

// #include <malloc.h>
import "C"

// cMalloc reads glibc's malloc figures summed over its arenas
// (mallinfo2): the bytes C code (libvpx, libopus, SDL) holds in the
// arenas, the free bytes malloc keeps there instead of returning them,
// and the bytes in blocks mapped on their own.
func cMalloc() (inUse, free, mmapped int64, ok bool) {
	m := C.mallinfo2()
	return int64(m.uordblks), int64(m.fordblks), int64(m.hblkhd), true
}
