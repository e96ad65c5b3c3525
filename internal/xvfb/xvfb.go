// Package xvfb gives tests a real display server to open windows on: a
// virtual X display (Xvfb) with the tools a person's eyes and hands stand
// in for: screenshots (xwd, read here without ImageMagick), the
// synthetic pattern's stamps read back off the screen (package pattern;
// over an X connection of its own, to the millisecond), and the windows'
// list, titles and closing (xdotool).
//
// There is no window manager: windows open where their program puts
// them (SDL centers them), and Geometry says where that is.
package xvfb

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/pkg/pattern"
)

// Tools are the programs a Display needs, with the Debian packages that
// carry them.
var Tools = map[string]string{"Xvfb": "xvfb", "xwd": "x11-apps", "xdotool": "xdotool"}

// Display is a running Xvfb.
type Display struct {
	// Name is the display's name, e.g. ":3", for $DISPLAY.
	Name string
	cmd  *exec.Cmd
	scr  screen
}

// Start starts an Xvfb of 1920x1080 and stops it when the test ends. It
// skips the test, saying what to install, when a tool is missing.
func Start(t testing.TB) *Display {
	t.Helper()
	for tool, pkg := range Tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (apt-get install %s): no display to test windows on", tool, pkg)
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// -displayfd: Xvfb picks a free display and writes its number.
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1920x1080x24", "-nolisten", "tcp", "-noreset")
	cmd.ExtraFiles = []*os.File{w}
	var log bytes.Buffer
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		w.Close()
		t.Fatalf("start Xvfb: %v", err)
	}
	w.Close()
	d := &Display{cmd: cmd}
	t.Cleanup(func() {
		if d.scr.c != nil {
			d.scr.c.Close()
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case n := <-got:
		if n == "" {
			t.Fatalf("Xvfb gave no display number:\n%s", log.String())
		}
		d.Name = ":" + n
		return d
	case <-time.After(20 * time.Second):
		t.Fatalf("Xvfb did not start:\n%s", log.String())
	}
	return nil
}

// Env returns environ with DISPLAY set to d (and no WAYLAND_DISPLAY).
func (d *Display) Env(environ []string) []string {
	out := make([]string, 0, len(environ)+1)
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "DISPLAY=") && !strings.HasPrefix(kv, "WAYLAND_DISPLAY=") {
			out = append(out, kv)
		}
	}
	return append(out, "DISPLAY="+d.Name)
}

// Shot takes a screenshot of the whole screen. at is when it was taken:
// the middle of the time xwd ran, within a few milliseconds.
func (d *Display) Shot(ctx context.Context) (img *image.RGBA, at time.Time, err error) {
	return d.shot(ctx, "-root")
}

func (d *Display) shot(ctx context.Context, which ...string) (img *image.RGBA, at time.Time, err error) {
	cmd := exec.CommandContext(ctx, "xwd", append(which, "-silent", "-display", d.Name)...)
	var out bytes.Buffer
	cmd.Stdout = &out
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		return nil, time.Time{}, fmt.Errorf("xwd: %w", err)
	}
	t1 := time.Now()
	img, err = DecodeXWD(&out)
	return img, t0.Add(t1.Sub(t0) / 2), err
}

// Windows returns the ids of the visible windows whose name matches
// name (a regular expression; "." for any).
func (d *Display) Windows(ctx context.Context, name string) ([]string, error) {
	out, err := d.xdotool(ctx, "search", "--onlyvisible", "--name", name)
	if err != nil && len(out) == 0 {
		return nil, nil // xdotool exits 1 when nothing matches
	}
	return strings.Fields(out), nil
}

// Title returns a window's title.
func (d *Display) Title(ctx context.Context, id string) (string, error) {
	out, err := d.xdotool(ctx, "getwindowname", id)
	return strings.TrimSpace(out), err
}

// CloseWindow closes a window as a person clicking its close button
// would: it asks the window's program to close it (WM_DELETE_WINDOW,
// ICCCM §4.2.8.1), as a window manager does. (xdotool windowclose
// destroys the window under its program instead.)
func (d *Display) CloseWindow(ctx context.Context, id string) error {
	return d.deleteWindow(id)
}

// DestroyWindow destroys a window under its program, as a window
// manager's forced close or xkill's first step does.
func (d *Display) DestroyWindow(ctx context.Context, id string) error {
	_, err := d.xdotool(ctx, "windowclose", id)
	return err
}

// Geometry returns where a window is on the screen and its size.
func (d *Display) Geometry(ctx context.Context, id string) (image.Rectangle, error) {
	out, err := d.xdotool(ctx, "getwindowgeometry", "--shell", id)
	if err != nil {
		return image.Rectangle{}, err
	}
	v := map[string]int{}
	for _, l := range strings.Fields(out) {
		k, n, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		i, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		v[k] = i
	}
	if v["WIDTH"] <= 0 || v["HEIGHT"] <= 0 {
		return image.Rectangle{}, fmt.Errorf("xdotool getwindowgeometry %s: %q", id, out)
	}
	return image.Rect(v["X"], v["Y"], v["X"]+v["WIDTH"], v["Y"]+v["HEIGHT"]), nil
}

// Key sends a key press (an X keysym name such as "q" or "Escape") to a
// window.
func (d *Display) Key(ctx context.Context, id, key string) error {
	_, err := d.xdotool(ctx, "key", "--window", id, key)
	return err
}

func (d *Display) xdotool(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "xdotool", args...)
	cmd.Env = d.Env(os.Environ())
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("xdotool %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}

// Stamp reads the synthetic pattern's stamp from a picture shown at its
// own size in the window at r of a screenshot. ok is false when none reads
// (no picture there yet, or another one).
func Stamp(shot *image.RGBA, r image.Rectangle) (pattern.Stamp, bool) {
	width, height := r.Dx(), r.Dy()
	rows := pattern.Rows(width, height) * pattern.Cell
	if rows == 0 || !r.In(shot.Rect) {
		return pattern.Stamp{}, false
	}
	// Only the stamp's rows matter: the luma of those, in the studio
	// range the stamp was painted in (BT.601).
	y := image.NewYCbCr(image.Rect(0, 0, width, height), image.YCbCrSubsampleRatio420)
	for j := range rows {
		for i := range width {
			o := shot.PixOffset(r.Min.X+i, r.Min.Y+j)
			r, g, b := int(shot.Pix[o]), int(shot.Pix[o+1]), int(shot.Pix[o+2])
			y.Y[j*y.YStride+i] = uint8(16 + (66*r+129*g+25*b+128)>>8)
		}
	}
	return pattern.Read(y)
}

// errXWD reports a screenshot this reader does not understand.
var errXWD = errors.New("xwd: unsupported dump")

// DecodeXWD reads an X window dump of a TrueColor screen of 24 or 32 bits
// per pixel.
func DecodeXWD(r io.Reader) (*image.RGBA, error) {
	var h [25]uint32 // the header's CARD32 fields, big-endian
	if err := binary.Read(r, binary.BigEndian, &h); err != nil {
		return nil, fmt.Errorf("xwd header: %w", err)
	}
	headerSize, version, format := h[0], h[1], h[2]
	width, height := int(h[4]), int(h[5])
	byteOrder, bpp, bpl := h[7], int(h[11]), int(h[12])
	rmask, gmask, bmask := h[14], h[15], h[16]
	ncolors := h[19]
	if version != 7 || format != 2 || (bpp != 32 && bpp != 24) || headerSize < 100 || width <= 0 || height <= 0 || bpl < bpp/8*width {
		return nil, fmt.Errorf("%w: version %d, format %d, %d bits per pixel", errXWD, version, format, bpp)
	}
	// The window name, then the colormap (12 bytes a color).
	if _, err := io.CopyN(io.Discard, r, int64(headerSize-100)+int64(ncolors)*12); err != nil {
		return nil, fmt.Errorf("xwd: %w", err)
	}
	data := make([]byte, bpl*height)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("xwd pixels: %w", err)
	}
	bytes := bpp / 8
	pixel := func(b []byte) uint32 {
		var p uint32
		for i := range bytes {
			if byteOrder == 1 { // MSBFirst
				p = p<<8 | uint32(b[i])
			} else {
				p |= uint32(b[i]) << (8 * i)
			}
		}
		return p
	}
	shift := func(m uint32) uint {
		s := uint(0)
		for m != 0 && m&1 == 0 {
			m >>= 1
			s++
		}
		return s
	}
	rs, gs, bs := shift(rmask), shift(gmask), shift(bmask)
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	for y := range height {
		row := data[y*bpl:]
		for x := range width {
			p := pixel(row[bytes*x:])
			o := img.PixOffset(x, y)
			img.Pix[o] = uint8((p & rmask) >> rs)
			img.Pix[o+1] = uint8((p & gmask) >> gs)
			img.Pix[o+2] = uint8((p & bmask) >> bs)
			img.Pix[o+3] = 0xff
		}
	}
	return img, nil
}
