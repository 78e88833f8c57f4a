package cpu

import (
	"context"
	"encoding/binary"
	"image"
	"math"
	"math/rand/v2"
)

// ctxCheckRows is how many rows a step paints between cancellation checks.
const ctxCheckRows = 64

// canvas is an RGB image in floating point, nominally in [0, 1].
type canvas struct {
	w, h int
	pix  []float32 // r, g, b per pixel, row by row
}

func newCanvas(w, h int) *canvas {
	return &canvas{w: w, h: h, pix: make([]float32, w*h*3)}
}

// painter renders the procedural picture of one request: a gradient
// background, then per step a few soft discs and a value-noise layer, coarse
// to fine, so that the picture gains detail with every step as a diffusion
// model's preview does. Everything derives from the request key, so the same
// request paints the same pixels (for a given build and architecture: the
// arithmetic is floating point).
type painter struct {
	c       *canvas
	rng     *rand.Rand
	palette [5][3]float32
	steps   int
	noise   uint64
	// cols caches, per column, the noise lattice cell and its smoothed offset.
	cellX []int32
	fracX []float32
}

func newPainter(key [32]byte, w, h, steps int) *painter {
	p := &painter{
		c:     newCanvas(w, h),
		rng:   rand.New(rand.NewPCG(binary.LittleEndian.Uint64(key[0:8]), binary.LittleEndian.Uint64(key[8:16]))),
		steps: steps,
		noise: binary.LittleEndian.Uint64(key[16:24]),
		cellX: make([]int32, w),
		fracX: make([]float32, w),
	}
	hue := p.rng.Float64()
	for i := range p.palette {
		hue = math.Mod(hue+0.17+0.5*p.rng.Float64(), 1)
		p.palette[i] = hsv(hue, 0.4+0.5*p.rng.Float64(), 0.3+0.65*p.rng.Float64())
	}
	p.background()
	return p
}

// background fills the canvas with a linear gradient between two palette
// colours at a random angle.
func (p *painter) background() {
	c := p.c
	angle := p.rng.Float64() * 2 * math.Pi
	cos, sin := float32(math.Cos(angle)), float32(math.Sin(angle))
	a, b := p.palette[0], p.palette[1]
	for y := 0; y < c.h; y++ {
		fy := float32(y)/float32(c.h) - 0.5
		row := c.pix[y*c.w*3 : (y+1)*c.w*3]
		for x := 0; x < c.w; x++ {
			fx := float32(x)/float32(c.w) - 0.5
			t := clamp01(fx*cos + fy*sin + 0.5)
			for ch := 0; ch < 3; ch++ {
				row[x*3+ch] = a[ch] + (b[ch]-a[ch])*t
			}
		}
	}
}

// step paints step i (1-based). It returns ctx's error if cancelled midway.
func (p *painter) step(ctx context.Context, i int) error {
	f := 0.0
	if p.steps > 1 {
		f = float64(i-1) / float64(p.steps-1)
	}
	short := float64(min(p.c.w, p.c.h))
	for range 3 {
		radius := short * (0.04 + 0.42*(1-f)) * (0.6 + 0.8*p.rng.Float64())
		col := p.palette[p.rng.IntN(len(p.palette))]
		alpha := float32(0.2 + 0.3*p.rng.Float64())
		p.c.disc(p.rng.Float64()*float64(p.c.w), p.rng.Float64()*float64(p.c.h), radius, col, alpha)
	}
	// Noise: 2 cells across the long side at the first step, 128 at the last;
	// finer layers are fainter.
	cells := 2 * math.Pow(2, 6*f)
	amp := float32(0.28 * math.Pow(0.55, 6*f))
	return p.noiseLayer(ctx, cells, amp, p.palette[i%len(p.palette)], uint64(i))
}

// disc blends a soft-edged disc of colour col into the canvas.
func (c *canvas) disc(cx, cy, radius float64, col [3]float32, alpha float32) {
	x0, x1 := max(0, int(cx-radius)), min(c.w-1, int(cx+radius))
	y0, y1 := max(0, int(cy-radius)), min(c.h-1, int(cy+radius))
	inv := 1 / radius
	for y := y0; y <= y1; y++ {
		dy := (float64(y) - cy) * inv
		row := c.pix[y*c.w*3 : (y+1)*c.w*3]
		for x := x0; x <= x1; x++ {
			dx := (float64(x) - cx) * inv
			d := dx*dx + dy*dy
			if d >= 1 {
				continue
			}
			a := alpha * float32(1-d) * float32(1-d)
			for ch := 0; ch < 3; ch++ {
				v := row[x*3+ch]
				row[x*3+ch] = v + (col[ch]-v)*a
			}
		}
	}
}

// noiseLayer adds one octave of value noise with the given number of cells
// across the long side, tinted by tint.
func (p *painter) noiseLayer(ctx context.Context, cells float64, amp float32, tint [3]float32, octave uint64) error {
	c := p.c
	cell := float64(max(c.w, c.h)) / cells
	for x := 0; x < c.w; x++ {
		g := float64(x) / cell
		p.cellX[x] = int32(g)
		p.fracX[x] = smooth(float32(g - math.Floor(g)))
	}
	seed := p.noise ^ octave*0x9E3779B97F4A7C15
	var weight [3]float32
	for ch := range weight {
		weight[ch] = amp * (0.5 + tint[ch])
	}
	for y := 0; y < c.h; y++ {
		if y%ctxCheckRows == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		g := float64(y) / cell
		cy := int32(g)
		v := smooth(float32(g - math.Floor(g)))
		row := c.pix[y*c.w*3 : (y+1)*c.w*3]
		for x := 0; x < c.w; x++ {
			cx, u := p.cellX[x], p.fracX[x]
			top := lerp(lattice(cx, cy, seed), lattice(cx+1, cy, seed), u)
			bottom := lerp(lattice(cx, cy+1, seed), lattice(cx+1, cy+1, seed), u)
			n := lerp(top, bottom, v) - 0.5
			for ch := 0; ch < 3; ch++ {
				row[x*3+ch] += n * weight[ch]
			}
		}
	}
	return nil
}

// blend mixes ref into the canvas with weight w in [0, 1].
func (p *painter) blend(ref *canvas, w float32) {
	for i, v := range ref.pix {
		p.c.pix[i] = p.c.pix[i]*(1-w) + v*w
	}
}

// image returns the canvas as an opaque 8-bit image.
func (p *painter) image() *image.RGBA {
	c := p.c
	img := image.NewRGBA(image.Rect(0, 0, c.w, c.h))
	for i, j := 0, 0; i < len(c.pix); i, j = i+3, j+4 {
		img.Pix[j] = to8(c.pix[i])
		img.Pix[j+1] = to8(c.pix[i+1])
		img.Pix[j+2] = to8(c.pix[i+2])
		img.Pix[j+3] = 0xff
	}
	return img
}

// lattice is the noise value in [0, 1) at a lattice point: an integer hash,
// so that it is exact on every platform.
func lattice(x, y int32, seed uint64) float32 {
	h := seed ^ uint64(uint32(x))*0x9E3779B97F4A7C15 ^ uint64(uint32(y))*0xC2B2AE3D27D4EB4F
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return float32(h>>40) / (1 << 24)
}

func smooth(t float32) float32 { return t * t * (3 - 2*t) }

func lerp(a, b, t float32) float32 { return a + (b-a)*t }

func clamp01(v float32) float32 { return min(max(v, 0), 1) }

func to8(v float32) uint8 { return uint8(clamp01(v)*255 + 0.5) }

// hsv converts a colour from HSV (each in [0, 1]) to RGB.
func hsv(h, s, v float64) [3]float32 {
	i := math.Floor(h * 6)
	f := h*6 - i
	pv, q, t := v*(1-s), v*(1-f*s), v*(1-(1-f)*s)
	var r, g, b float64
	switch int(i) % 6 {
	case 0:
		r, g, b = v, t, pv
	case 1:
		r, g, b = q, v, pv
	case 2:
		r, g, b = pv, v, t
	case 3:
		r, g, b = pv, q, v
	case 4:
		r, g, b = t, pv, v
	default:
		r, g, b = v, pv, q
	}
	return [3]float32{float32(r), float32(g), float32(b)}
}
