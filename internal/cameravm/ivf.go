// Package cameravm backs the check of p2pcam's real V4L2 camera path with
// Linux's vivid virtual camera, booted under qemu by
// scripts/camera-vm/run.sh. The guest has no ffprobe, so the small static
// program in vmtool uses this package to summarise the recording on the
// serial console; the host then checks the same file with ffprobe. The
// test in this package (TestCameraInVM) runs the script when
// P2PCAM_CAMERA_VM=1.
package cameravm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrNotIVF means the input does not start with an IVF file header.
var ErrNotIVF = errors.New("not an ivf file")

// ErrTruncated means the file ends inside a frame header or a frame; the
// IVFInfo returned with it counts the frames that were whole.
var ErrTruncated = errors.New("ivf file truncated")

// IVFInfo summarises an IVF file: its header and the frames it holds.
type IVFInfo struct {
	FourCC        string // codec, e.g. "VP80"
	Width, Height int    // picture size from the header
	// Timebase of the frame timestamps, TimebaseNum/TimebaseDen seconds
	// per unit (the header stores the denominator first).
	TimebaseNum, TimebaseDen uint32
	// HeaderLength is header bytes 24-27: a frame count to libvpx, the
	// duration in timebase units to ffmpeg and p2pcam's recorder.
	HeaderLength uint32
	Frames       int    // frames actually present
	KeyFrames    int    // of those, VP8 keyframes
	FirstPTS     uint64 // timestamp of the first frame, in timebase units
	LastPTS      uint64 // timestamp of the last frame
	Bytes        int64  // frame payload bytes, without headers
}

const (
	fileHeaderLen  = 32
	frameHeaderLen = 12
)

// ReadIVF reads an IVF stream to its end and summarises it. It returns
// ErrNotIVF when the signature is wrong and ErrTruncated (with the whole
// frames counted) when the stream stops mid-frame; it never allocates more
// than one frame at a time.
func ReadIVF(r io.Reader) (IVFInfo, error) {
	var info IVFInfo
	var hdr [fileHeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return info, fmt.Errorf("%w: short header: %w", ErrNotIVF, err)
	}
	if string(hdr[0:4]) != "DKIF" {
		return info, fmt.Errorf("%w: signature %q", ErrNotIVF, hdr[0:4])
	}
	hlen := binary.LittleEndian.Uint16(hdr[6:8])
	if hlen < fileHeaderLen {
		return info, fmt.Errorf("%w: header length %d", ErrNotIVF, hlen)
	}
	info.FourCC = string(hdr[8:12])
	info.Width = int(binary.LittleEndian.Uint16(hdr[12:14]))
	info.Height = int(binary.LittleEndian.Uint16(hdr[14:16]))
	info.TimebaseDen = binary.LittleEndian.Uint32(hdr[16:20])
	info.TimebaseNum = binary.LittleEndian.Uint32(hdr[20:24])
	info.HeaderLength = binary.LittleEndian.Uint32(hdr[24:28])
	if extra := int64(hlen) - fileHeaderLen; extra > 0 {
		if _, err := io.CopyN(io.Discard, r, extra); err != nil {
			return info, fmt.Errorf("%w: short header: %w", ErrNotIVF, err)
		}
	}
	var fh [frameHeaderLen]byte
	for {
		n, err := io.ReadFull(r, fh[:])
		if n == 0 && err == io.EOF {
			return info, nil
		}
		if err != nil {
			return info, fmt.Errorf("%w: frame %d header: %w", ErrTruncated, info.Frames, err)
		}
		size := int64(binary.LittleEndian.Uint32(fh[0:4]))
		pts := binary.LittleEndian.Uint64(fh[4:12])
		// Only the first payload byte matters: bit 0 clear marks a VP8
		// keyframe (RFC 6386, section 9.1). Skip the rest unread.
		var first [1]byte
		if size > 0 {
			if _, err := io.ReadFull(r, first[:]); err != nil {
				return info, fmt.Errorf("%w: frame %d: %w", ErrTruncated, info.Frames, err)
			}
			if got, err := io.CopyN(io.Discard, r, size-1); err != nil {
				return info, fmt.Errorf("%w: frame %d: %d of %d bytes", ErrTruncated, info.Frames, got+1, size)
			}
		}
		if info.Frames == 0 {
			info.FirstPTS = pts
		}
		info.LastPTS = pts
		info.Frames++
		info.Bytes += size
		if size > 0 && first[0]&1 == 0 {
			info.KeyFrames++
		}
	}
}

// String prints the summary on one line, as the guest reports it.
func (i IVFInfo) String() string {
	return fmt.Sprintf("fourcc=%s size=%dx%d timebase=%d/%d header_length=%d frames=%d keyframes=%d pts=%d..%d bytes=%d",
		i.FourCC, i.Width, i.Height, i.TimebaseNum, i.TimebaseDen, i.HeaderLength, i.Frames, i.KeyFrames, i.FirstPTS, i.LastPTS, i.Bytes)
}
