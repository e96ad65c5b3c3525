//go:build !cgo || !linux

package debugserve

// cMalloc has no figures without glibc.
func cMalloc() (inUse, free, mmapped int64, ok bool) { return 0, 0, 0, false }
