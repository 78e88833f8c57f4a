"""Pixels in and out without Pillow or numpy: input images decoded (and scaled to cover the
output size) by ffmpeg, results written as PNG (zlib), JPEG or video (ffmpeg), and the output
checks (NaN/Inf, collapsed near-uniform images). Frames from real pipelines (numpy arrays) are
wrapped by the backend in an object with the same interface as :class:`FloatFrames`."""

import array
import math
import os
import shutil
import struct
import subprocess
import tempfile
import zlib

from .errors import RunnerError, ENCODER_UNAVAILABLE, INTERNAL, invalid

ENV_FFMPEG = "GOONI_FFMPEG"


class RGBImage:
    """A decoded image: rgb24 bytes, row by row."""

    def __init__(self, width, height, data):
        if len(data) != width * height * 3:
            raise ValueError("rgb24 data of %d bytes for %dx%d" % (len(data), width, height))
        self.width, self.height, self.data = width, height, bytes(data)


class FloatFrames:
    """Frames as flat float arrays (r, g, b per pixel, nominally 0..1): what the stand-in
    pipelines return. Real pipelines return numpy arrays, wrapped by the backend in an object
    with the same four members."""

    def __init__(self, width, height, frames):
        self.width, self.height = width, height
        self.frames = [f if isinstance(f, array.array) else array.array("f", f) for f in frames]
        for f in self.frames:
            if len(f) != width * height * 3:
                raise ValueError("frame of %d values for %dx%d" % (len(f), width, height))

    @property
    def count(self):
        return len(self.frames)

    def stats(self):
        """(all values finite, standard deviation of the finite values)."""
        n, s, ss, finite = 0, 0.0, 0.0, True
        for f in self.frames:
            for v in f:
                if math.isfinite(v):
                    n += 1
                    s += v
                    ss += v * v
                else:
                    finite = False
        if n == 0:
            return finite, 0.0
        mean = s / n
        return finite, math.sqrt(max(ss / n - mean * mean, 0.0))

    def frame_bytes(self, i):
        return bytes(0 if not math.isfinite(v) else min(255, max(0, int(v * 255 + 0.5))) for v in self.frames[i])


def check_output(frames, check, kind):
    """None when the output is usable, else why not: NaN/Inf anywhere, or (images, when the map
    sets collapse_std) a near-uniform picture, the usual sign of a VAE overflow or a collapsed
    sampler."""
    finite, std = frames.stats()
    if not finite:
        return "the output contains NaN or Inf values"
    limit = check.get("collapse_std", 0.0)
    if kind == "image" and limit and std < limit:
        return "the output is a near-uniform image (pixel spread %.4f < %.4f)" % (std, limit)
    return None


# --- ffmpeg ---------------------------------------------------------------------------------

def find_ffmpeg(environ=None):
    environ = os.environ if environ is None else environ
    name = environ.get(ENV_FFMPEG, "").strip() or "ffmpeg"
    path = shutil.which(name)
    if not path:
        raise RunnerError(ENCODER_UNAVAILABLE, "this request needs ffmpeg, which is not available (%s): install it "
                          "(apt-get install ffmpeg) or set %s to an ffmpeg binary" % (name, ENV_FFMPEG))
    return path


def decode_image(ffmpeg, path, width, height):
    """Decodes a png, jpeg or webp file and scales it to cover width×height (centre crop)."""
    vf = "scale=%d:%d:force_original_aspect_ratio=increase,crop=%d:%d" % (width, height, width, height)
    try:
        out = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-i", path, "-vf", vf,
                              "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RunnerError(INTERNAL, "decode %s: %s" % (os.path.basename(path), e), retryable=True)
    if out.returncode != 0 or len(out.stdout) != width * height * 3:
        raise invalid("input image %s is unreadable: %s", os.path.basename(path),
                      out.stderr.decode("utf-8", "replace").strip()[-300:] or "no picture")
    return RGBImage(width, height, out.stdout)


def _atomic(dir_, final_name, write):
    """Runs write(tmp_path) and renames the temporary file to final_name inside dir_."""
    fd, tmp = tempfile.mkstemp(prefix=".result-", dir=dir_)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        final = os.path.join(dir_, final_name)
        os.replace(tmp, final)
        return final
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def png_bytes(width, height, rgb):
    raw = bytearray()
    stride = width * 3
    for y in range(height):
        raw.append(0)
        raw += rgb[y * stride:(y + 1) * stride]

    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(raw), 6)) + chunk(b"IEND", b""))


def write_png(dir_, name, width, height, rgb):
    def w(tmp):
        with open(tmp, "wb") as f:
            f.write(png_bytes(width, height, rgb))
    return _atomic(dir_, name, w)


def write_jpeg(ffmpeg, dir_, name, width, height, rgb):
    def w(tmp):
        out = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
                              "-s", "%dx%d" % (width, height), "-i", "pipe:0", "-frames:v", "1", "-c:v", "mjpeg",
                              "-q:v", "2", "-pix_fmt", "yuvj444p", "-f", "mjpeg", "-y", tmp],
                             input=rgb, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
        if out.returncode != 0:
            raise RunnerError(INTERNAL, "ffmpeg jpeg: " + out.stderr.decode("utf-8", "replace").strip()[-300:], retryable=True)
    return _atomic(dir_, name, w)


VIDEO_ARGS = {
    "mp4": ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4"],
    "webm": ["-c:v", "libvpx-vp9", "-b:v", "0", "-crf", "32", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1",
             "-pix_fmt", "yuv420p", "-f", "webm"],
}


def encode_video(ffmpeg, dir_, fmt, frames, fps, on_frame, cancelled, log):
    """Streams frames (rgb24) into ffmpeg, writes poster.png from the first frame, and returns
    (path, poster). on_frame(i) is called after each frame but the last; cancelled() is checked
    between frames (None is returned then, leaving nothing behind)."""
    w, h = frames.width, frames.height
    fd, tmp = tempfile.mkstemp(prefix=".result-", suffix="." + fmt, dir=dir_)
    os.close(fd)
    poster = None
    done = False
    proc = subprocess.Popen([ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-f", "rawvideo",
                             "-pix_fmt", "rgb24", "-s", "%dx%d" % (w, h), "-framerate", str(fps), "-i", "pipe:0", "-an"]
                            + VIDEO_ARGS[fmt] + ["-y", tmp],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for i in range(frames.count):
            if cancelled():
                return None
            data = frames.frame_bytes(i)
            if i == 0:
                poster = write_png(dir_, "poster.png", w, h, data)
            try:
                proc.stdin.write(data)
            except (BrokenPipeError, OSError):
                break
            if i < frames.count - 1:
                on_frame(i + 1)
        proc.stdin.close()
        err = proc.stderr.read().decode("utf-8", "replace").strip()
        rc = proc.wait()
        if cancelled():
            return None
        if rc != 0:
            for line in err.splitlines()[-20:]:
                log("ffmpeg: " + line[:1024])
            if "Unknown encoder" in err or "Encoder not found" in err:
                raise RunnerError(ENCODER_UNAVAILABLE, "ffmpeg %s cannot encode %s: install a complete ffmpeg" % (ffmpeg, fmt))
            raise RunnerError(INTERNAL, "ffmpeg failed (exit %d): %s" % (rc, err[-300:]), retryable=True)
        final = os.path.join(dir_, "result." + fmt)
        os.chmod(tmp, 0o644)
        os.replace(tmp, final)
        done = True
        return final, poster
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for f in (proc.stdin, proc.stderr):
            try:
                f.close()
            except (OSError, ValueError):
                pass
        if not done:
            for p in (tmp, poster):
                if p:
                    try:
                        os.remove(p)
                    except OSError:
                        pass
