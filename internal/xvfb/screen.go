package xvfb

import (
	"fmt"
	"image"
	"io"
	"log"
	"sync"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/p2pcam/p2pcam/pkg/pattern"
)

// screen is an X connection of the Display's own, for reading the screen
// in this process: a request and its reply take about a millisecond,
// where xwd takes tens (a process, and the whole window dumped), so the
// time of a reading is known to within that millisecond.
type screen struct {
	once sync.Once
	c    *xgb.Conn
	root xproto.Window
	err  error
}

// quietXGB silences xgb's logger, a variable of its package, once: its
// connections' goroutines read it.
var quietXGB sync.Once

func (d *Display) conn() (*xgb.Conn, xproto.Window, error) {
	d.scr.once.Do(func() {
		quietXGB.Do(func() {
			xgb.Logger = log.New(io.Discard, "", 0) // no ~/.Xauthority here, and it says so
		})
		c, err := xgb.NewConnDisplay(d.Name)
		if err != nil {
			d.scr.err = fmt.Errorf("connect to %s: %w", d.Name, err)
			return
		}
		d.scr.c, d.scr.root = c, xproto.Setup(c).DefaultScreen(c).Root
	})
	return d.scr.c, d.scr.root, d.scr.err
}

// ScreenStamp reads the synthetic pattern's stamp off the screen where a
// picture is shown at its own size in r (a window's Geometry): only the
// stamp's rows are read, as a person would see them (what is on the
// screen, not what a window holds). at is the middle of the request's
// round trip; ok is false when no stamp reads there.
func (d *Display) ScreenStamp(r image.Rectangle) (s pattern.Stamp, at time.Time, ok bool, err error) {
	c, root, err := d.conn()
	if err != nil {
		return s, at, false, err
	}
	rows := pattern.Rows(r.Dx(), r.Dy()) * pattern.Cell
	if rows == 0 {
		return s, at, false, nil
	}
	t0 := time.Now()
	img, err := xproto.GetImage(c, xproto.ImageFormatZPixmap, xproto.Drawable(root),
		int16(r.Min.X), int16(r.Min.Y), uint16(r.Dx()), uint16(rows), 0xffffffff).Reply()
	t1 := time.Now()
	if err != nil {
		return s, at, false, fmt.Errorf("read the screen: %w", err)
	}
	at = t0.Add(t1.Sub(t0) / 2)
	// 24-bit depth comes as 32 bits per pixel, blue first.
	if len(img.Data) < r.Dx()*rows*4 {
		return s, at, false, fmt.Errorf("read the screen: %d bytes for %dx%d", len(img.Data), r.Dx(), rows)
	}
	shot := image.NewRGBA(image.Rect(0, 0, r.Dx(), rows))
	for i := 0; i < r.Dx()*rows; i++ {
		o := 4 * i
		shot.Pix[o], shot.Pix[o+1], shot.Pix[o+2], shot.Pix[o+3] = img.Data[o+2], img.Data[o+1], img.Data[o], 255
	}
	s, ok = Stamp(shot, shot.Rect)
	return s, at, ok, nil
}
