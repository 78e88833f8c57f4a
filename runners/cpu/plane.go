package cpu

// plane is an 8-bit RGB image, row by row: the scene and the reference images
// that video frames are sampled from.
type plane struct {
	w, h int
	pix  []uint8 // r, g, b per pixel
}

func newPlane(w, h int) *plane {
	return &plane{w: w, h: h, pix: make([]uint8, w*h*3)}
}

// planeOf quantises a canvas to 8 bits.
func planeOf(c *canvas) *plane {
	pl := newPlane(c.w, c.h)
	for i, v := range c.pix {
		pl.pix[i] = to8(v)
	}
	return pl
}

// addRow adds weight × pl, sampled bilinearly along a line, to dst (r, g, b
// per pixel, 0..255): pixel i of dst takes the sample at texel coordinates
// (x0 + i·dx, y0 + i·dy), where texel (0, 0) is the centre of pl's first
// pixel. Coordinates outside pl are mirrored back into it, so that any
// camera pose samples a continuous picture.
func (pl *plane) addRow(dst []float32, x0, y0, dx, dy, weight float32) {
	w, h, pix := pl.w, pl.h, pl.pix
	for i := 0; i < len(dst)/3; i++ {
		x := x0 + float32(i)*dx
		y := y0 + float32(i)*dy
		ix, iy := floor(x), floor(y)
		fx, fy := x-float32(ix), y-float32(iy)
		x0i, x1i := mirror(ix, w)*3, mirror(ix+1, w)*3
		r0, r1 := mirror(iy, h)*w*3, mirror(iy+1, h)*w*3
		a, b, c, d := pix[r0+x0i:r0+x0i+3], pix[r0+x1i:r0+x1i+3], pix[r1+x0i:r1+x0i+3], pix[r1+x1i:r1+x1i+3]
		o := dst[i*3 : i*3+3]
		for ch := range 3 {
			top := float32(a[ch]) + (float32(b[ch])-float32(a[ch]))*fx
			bottom := float32(c[ch]) + (float32(d[ch])-float32(c[ch]))*fx
			o[ch] += weight * (top + (bottom-top)*fy)
		}
	}
}

// floor is math.Floor for float32 coordinates well inside the int range.
func floor(v float32) int {
	i := int(v)
	if float32(i) > v {
		i--
	}
	return i
}

// mirror folds index i into [0, n) by reflecting at the edges:
// … 1 0 | 0 1 … n-1 | n-1 n-2 …
func mirror(i, n int) int {
	if uint(i) < uint(n) {
		return i
	}
	p := 2 * n
	i %= p
	if i < 0 {
		i += p
	}
	if i >= n {
		i = p - 1 - i
	}
	return i
}
