//go:build linux

package main

import (
	"bytes"
	"os"
	"testing"
)

// The feeder strips Huffman tables the way pkg/mjpeg's fixture was made.
func TestStripDHTAndSize(t *testing.T) {
	full, err := os.ReadFile("../../../pkg/mjpeg/testdata/testsrc2-422.jpg")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../../pkg/mjpeg/testdata/testsrc2-422-nodht.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if got := stripDHT(full); !bytes.Equal(got, want) {
		t.Fatalf("stripDHT: %d bytes, want %d", len(got), len(want))
	}
	if w, h, err := jpegSize(full); err != nil || w != 320 || h != 240 {
		t.Fatalf("jpegSize = %d, %d, %v", w, h, err)
	}
	if _, _, err := jpegSize([]byte("nope")); err == nil {
		t.Fatal("jpegSize of garbage succeeded")
	}
}
