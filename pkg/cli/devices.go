package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/p2pcam/p2pcam/pkg/capture"
)

type devicesOptions struct {
	json bool
}

func newDevicesCmd(e *env) *cobra.Command {
	o := &devicesOptions{}
	cmd := &cobra.Command{
		Use:   "devices",
		Short: "List the cameras and microphones p2pcam can use",
		Long: `devices lists the cameras found on this machine, each with the name to pass
to --source camera:NAME, and the pixel formats, sizes and frame rates it
offers; then the microphones of the sound server (PulseAudio or PipeWire on
Linux, CoreAudio on macOS), each with the name to pass to --audio mic:NAME.
With --json it prints {"cameras": [...], "microphones": [...]}.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			// No sound server means no microphones, not a failure.
			mics, _ := capture.Microphones()
			return runDevices(e, o, capture.Devices(), mics)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the list as JSON for scripts")
	return cmd
}

// deviceList is what devices --json prints.
type deviceList struct {
	Cameras     []capture.Device     `json:"cameras"`
	Microphones []capture.Microphone `json:"microphones"`
}

func runDevices(e *env, o *devicesOptions, devs []capture.Device, mics []capture.Microphone) error {
	if o.json {
		l := deviceList{Cameras: devs, Microphones: mics}
		if l.Cameras == nil {
			l.Cameras = []capture.Device{}
		}
		if l.Microphones == nil {
			l.Microphones = []capture.Microphone{}
		}
		enc := json.NewEncoder(e.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(l)
	}
	if len(devs) == 0 {
		fmt.Fprintln(e.Err, "no camera found.")
		fmt.Fprintln(e.Err, "Check that one is plugged in and that you may use it (on Linux: ls -l /dev/video*; membership of the video group).")
		fmt.Fprintln(e.Err, "Without a camera, --source test sends a synthetic pattern and --source FILE.y4m plays a file.")
	}
	for _, d := range devs {
		printDevice(e.Out, d)
	}
	if len(mics) == 0 {
		fmt.Fprintln(e.Err, "no microphone found (none, or no sound server: PulseAudio or PipeWire on Linux); --audio test sends a beep and --audio FILE.wav plays a file.")
	}
	printMicrophones(e.Out, mics)
	return nil
}

func printDevice(w io.Writer, d capture.Device) {
	fmt.Fprintf(w, "%s  (--source camera:%s)\n", d.Name(), d.Name())
	if d.Err != "" {
		fmt.Fprintf(w, "  formats unknown: %s\n", d.Err)
		return
	}
	// One line per pixel format and size, with its frame rates.
	type key struct {
		pix  string
		w, h int
	}
	var order []key
	rates := map[key][]string{}
	for _, f := range d.Formats {
		k := key{f.PixelFormat, f.Width, f.Height}
		if _, ok := rates[k]; !ok {
			order = append(order, k)
			rates[k] = nil
		}
		if f.FPS > 0 {
			rates[k] = append(rates[k], strconv.FormatFloat(float64(f.FPS), 'g', -1, 32))
		}
	}
	for _, k := range order {
		if r := rates[k]; len(r) > 0 {
			fmt.Fprintf(w, "  %-6s %4dx%-4d @ %s fps\n", k.pix, k.w, k.h, strings.Join(r, ", "))
		} else {
			fmt.Fprintf(w, "  %-6s %4dx%-4d\n", k.pix, k.w, k.h)
		}
	}
}
