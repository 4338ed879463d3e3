//go:build ignore

// mkicon draws the update program's icon (a white arrow pointing up on OMFLOW blue, in a
// rounded square) as a 256x256 PNG; go-winres makes the Windows icon sizes from it.
//
//	go run scripts/windows/mkicon.go -out icon.png
package main

import (
	"flag"
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
)

func main() {
	out := flag.String("out", "icon.png", "PNG file to write")
	flag.Parse()
	const n = 256
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	blue := color.NRGBA{0x15, 0x65, 0xC0, 0xFF}
	white := color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF}
	const r = 48.0 // corner radius
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			// Distance outside the rounded square, for a soft edge.
			cx := math.Max(math.Max(r-fx, fx-(n-r)), 0)
			cy := math.Max(math.Max(r-fy, fy-(n-r)), 0)
			d := math.Hypot(cx, cy) - r
			if d > 1 {
				continue
			}
			c := blue
			if inArrow(fx, fy) {
				c = white
			}
			if d > 0 {
				c.A = uint8(255 * (1 - d))
			}
			img.SetNRGBA(x, y, c)
		}
	}
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

// inArrow is an arrow pointing up: a triangle head over a shaft, on a base bar.
func inArrow(x, y float64) bool {
	const mid = 128.0
	switch {
	case y >= 44 && y <= 124: // head: widens from the tip at y=44 to 160 px at y=124
		return math.Abs(x-mid) <= (y - 44)
	case y > 124 && y <= 180: // shaft
		return math.Abs(x-mid) <= 28
	case y >= 196 && y <= 216: // base: the installation the update lands on
		return x >= 56 && x <= 200
	}
	return false
}
