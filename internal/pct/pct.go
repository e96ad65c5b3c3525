// Package pct finds percentiles by nearest rank, among sorted values or
// in a histogram of counts: the figures of package measure and of the
// window in package view.
package pct

// Rank is the 0-based index of the p-th percentile among n > 0 sorted
// values, by nearest rank: the smallest value with at least p% of the
// values at or below it.
func Rank(n, p uint64) uint64 { return max((n*p+99)/100, 1) - 1 }

// Bin returns the bin of the histogram h (a count per bin, bins in order)
// that holds the value at 0-based index i in the sorted order h counts;
// the last bin when i is past the values counted.
func Bin[C ~uint32 | ~uint64](h []C, i uint64) int {
	var seen uint64
	for b, c := range h {
		seen += uint64(c)
		if seen > i {
			return b
		}
	}
	return len(h) - 1
}
