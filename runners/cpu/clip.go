package cpu

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"sort"
)

// Motion of a clip at motion_score maxMotion; lower scores scale it down.
const (
	// sceneMargin is the scene's margin around the frame, as a share of each
	// side: room for the camera to pan into.
	sceneMargin = 0.25
	// panShare is the share of the margin the camera pans across.
	panShare = 1.0
	// maxRotation is the camera's largest rotation, in radians (12°).
	maxRotation = 0.21
	// maxZoom is the camera's largest zoom-in (15 %).
	maxZoom = 0.15
	// spriteCount soft discs move across every frame; spriteTravel is how far
	// each goes over the clip, as a share of the frame's short side.
	spriteCount  = 6
	spriteTravel = 1.0
	// grainAmp is the film grain of lighting_variant high_noise (0..1 scale).
	grainAmp = 0.07
)

// clip renders the frames of one video, one at a time, from the scene painted
// over the inference steps and the request's keyframes.
//
// Every frame is a view of one world through a camera pose (pan, rotation and
// zoom about the frame's centre). The reference images cover the frame at
// rest; the scene covers a margin more; both are mirrored beyond their edges.
// At a keyframe's frame the camera is at rest, so the frame is the keyframe's
// image weighted by its strength. Between two keyframes the camera swings out
// and back while their images cross-fade; before the first keyframe and after
// the last (the whole clip for t2v) it drifts away. The rest of each frame is
// generated content, the scene and soft discs moving across it, whose share
// grows with denoising_strength away from the keyframes.
type clip struct {
	w, h, frames int
	scene        *plane
	// mx, my are the scene's margins: world (0, 0) is scene texel (mx, my).
	mx, my int
	keys   []clipKey
	// motion is motion_score / maxMotion, in [0, 1].
	motion, denoise float32
	// drift is the pan direction before the first keyframe ([0]) and after
	// the last ([1]); segments[i] between keyframes i and i+1.
	drift    [2][2]float32
	segments [][2]float32
	spin     float32 // rotation direction, ±1
	sprites  []sprite
	grain    bool
	noise    uint64
	// buf is the frame being rendered, on the canvas scale [0, 1].
	buf *canvas
}

// clipKey is a keyframe with its image loaded.
type clipKey struct {
	frame    int
	strength float32
	img      *plane
}

// sprite is a soft disc that moves in a straight line over the clip, wrapping
// around the frame's edges.
type sprite struct {
	x, y, vx, vy, radius float64 // pixels; v is the travel over the clip
	col                  [3]float32
	alpha                float32
}

// pose is where a frame stands between its keyframes.
type pose struct {
	// travel in [0, 1] is how far the camera is from rest, before scaling by
	// motion; dir is the unit direction it pans in.
	travel float32
	dir    [2]float32
	// a and b (each may be nil) are cross-faded as (1-u)·a + u·b and make
	// up the share weight of the frame.
	a, b   *plane
	u      float32
	weight float32
}

// newClip prepares the frames of r: scene is the painted scene, of size
// (w+2·mx)×(h+2·my); keys are r's keyframes with their images; base, when
// not nil, is mixed into the scene. Camera and sprites derive from r.key.
func newClip(r *videoRequest, scene *plane, mx, my int, palette [5][3]float32, keys []clipKey, base *plane, baseStrength float64) *clip {
	c := &clip{
		w: r.width, h: r.height, frames: r.frames, scene: scene, mx: mx, my: my, keys: keys,
		motion: float32(r.motion / maxMotion), denoise: float32(r.denoise),
		grain: r.grain, noise: binary.LittleEndian.Uint64(r.key[16:24]) ^ 0xA5A5A5A5A5A5A5A5,
		buf: newCanvas(r.width, r.height),
	}
	if base != nil {
		scene.mix(base, mx, my, float32(baseStrength)/2)
	}
	rng := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(r.key[24:32]), 0x636c6970)) // "clip"
	direction := func() [2]float32 {
		a := rng.Float64() * 2 * math.Pi
		return [2]float32{float32(math.Cos(a)), float32(math.Sin(a))}
	}
	c.drift = [2][2]float32{direction(), direction()}
	for range max(len(keys)-1, 0) {
		c.segments = append(c.segments, direction())
	}
	c.spin = 1
	if rng.IntN(2) == 0 {
		c.spin = -1
	}
	short := float64(min(c.w, c.h))
	for range spriteCount {
		d := direction()
		travel := spriteTravel * short * float64(c.motion) * (0.5 + rng.Float64())
		c.sprites = append(c.sprites, sprite{
			x: rng.Float64() * float64(c.w), y: rng.Float64() * float64(c.h),
			vx: float64(d[0]) * travel, vy: float64(d[1]) * travel,
			radius: short * (0.06 + 0.08*rng.Float64()),
			col:    palette[rng.IntN(len(palette))],
			alpha:  float32(0.6 + 0.3*rng.Float64()),
		})
	}
	return c
}

// pose returns frame f's place between its keyframes.
func (c *clip) pose(f int) pose {
	span := float32(max(c.frames-1, 1))
	if len(c.keys) == 0 {
		return pose{travel: float32(f) / span, dir: c.drift[1]}
	}
	first, last := c.keys[0], c.keys[len(c.keys)-1]
	if f <= first.frame {
		d := float32(first.frame-f) / span
		return pose{travel: d, dir: c.drift[0], a: first.img, weight: first.strength * max(0, 1-c.denoise*d)}
	}
	if f >= last.frame {
		d := float32(f-last.frame) / span
		return pose{travel: d, dir: c.drift[1], a: last.img, weight: last.strength * max(0, 1-c.denoise*d)}
	}
	i := sort.Search(len(c.keys), func(i int) bool { return c.keys[i].frame > f }) - 1
	k0, k1 := c.keys[i], c.keys[i+1]
	u := float32(f-k0.frame) / float32(k1.frame-k0.frame)
	// The swing between two keyframes is as wide as the share of the clip
	// they span.
	swing := float32(math.Sin(math.Pi*float64(u))) * float32(k1.frame-k0.frame) / span
	return pose{
		travel: swing, dir: c.segments[i], a: k0.img, b: k1.img, u: u,
		weight: lerp(k0.strength, k1.strength, u) * (1 - 0.5*c.denoise*swing),
	}
}

// render writes frame f into out as rgb24 (w·h·3 bytes).
func (c *clip) render(f int, out []byte) {
	ps := c.pose(f)
	m := c.motion * ps.travel
	theta := float64(c.spin * maxRotation * m)
	zoom := 1 + float64(maxZoom*m)
	ca, sa := float32(math.Cos(theta)/zoom), float32(math.Sin(theta)/zoom)
	offX := ps.dir[0] * panShare * float32(c.mx) * m
	offY := ps.dir[1] * panShare * float32(c.my) * m
	cx, cy := float32(c.w)/2, float32(c.h)/2

	// Layers are added on the 0..255 scale of planes; 1/255 brings them to
	// the canvas scale.
	const unit = 1.0 / 255
	sceneW := (1 - ps.weight) * unit
	aW, bW := ps.weight*(1-ps.u)*unit, ps.weight*ps.u*unit
	clear(c.buf.pix)
	stride := c.w * 3
	dx0 := 0.5 - cx
	for y := 0; y < c.h; y++ {
		row := c.buf.pix[y*stride : (y+1)*stride]
		dy := float32(y) + 0.5 - cy
		// World position of the row's first pixel centre, in texel
		// coordinates of a reference image; each pixel right adds (ca, sa).
		x0 := cx + ca*dx0 - sa*dy + offX - 0.5
		y0 := cy + sa*dx0 + ca*dy + offY - 0.5
		if sceneW > 0 {
			c.scene.addRow(row, x0+float32(c.mx), y0+float32(c.my), ca, sa, sceneW)
		}
		if ps.a != nil && aW > 0 {
			ps.a.addRow(row, x0, y0, ca, sa, aW)
		}
		if ps.b != nil && bW > 0 {
			ps.b.addRow(row, x0, y0, ca, sa, bW)
		}
	}

	if generated := 1 - ps.weight; generated > 0 {
		t := float64(f) / float64(max(c.frames-1, 1))
		for _, s := range c.sprites {
			x := wrap(s.x+s.vx*t, float64(c.w), s.radius)
			y := wrap(s.y+s.vy*t, float64(c.h), s.radius)
			c.buf.disc(x, y, s.radius, s.col, s.alpha*generated)
		}
	}

	pix := c.buf.pix
	if !c.grain {
		for i, v := range pix {
			out[i] = to8(v)
		}
		return
	}
	seed := c.noise ^ uint64(f)*0x9E3779B97F4A7C15
	for y := 0; y < c.h; y++ {
		for x := 0; x < c.w; x++ {
			g := (lattice(int32(x), int32(y), seed) - 0.5) * grainAmp
			i := (y*c.w + x) * 3
			out[i], out[i+1], out[i+2] = to8(pix[i]+g), to8(pix[i+1]+g), to8(pix[i+2]+g)
		}
	}
}

// wrap folds position p into [-r, size+r), so that a disc of radius r that
// leaves one edge comes back at the other.
func wrap(p, size, r float64) float64 {
	period := size + 2*r
	return math.Mod(math.Mod(p+r, period)+period, period) - r
}

// mix blends src, mirrored beyond its edges, into pl with weight w: pl texel
// (x, y) takes src texel (x-ox, y-oy).
func (pl *plane) mix(src *plane, ox, oy int, w float32) {
	for y := 0; y < pl.h; y++ {
		sy := mirror(y-oy, src.h)
		for x := 0; x < pl.w; x++ {
			sx := mirror(x-ox, src.w)
			d, s := pl.pix[(y*pl.w+x)*3:][:3], src.pix[(sy*src.w+sx)*3:][:3]
			for ch := range 3 {
				d[ch] = uint8(float32(d[ch]) + (float32(s[ch])-float32(d[ch]))*w + 0.5)
			}
		}
	}
}
