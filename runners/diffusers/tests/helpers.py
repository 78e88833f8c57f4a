"""Shared helpers of the diffusers runner tests (standard library only)."""

import os
import struct
import sys
import tempfile
import threading
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from gooni_diffusers import backend, modelmap, standin  # noqa: E402
from gooni_diffusers.media import png_bytes  # noqa: E402

MODELS = modelmap.load_map()


def model_cache():
    """A model cache directory holding (empty) files at every single-file path of the map, so
    that the real path checks pass; the stand-in classes never read them."""
    d = tempfile.mkdtemp(prefix="gooni-cache-")
    for spec in MODELS.values():
        rels = [spec.get("single_file"), spec.get("transformer_single_file")]
        rels += [v.get("transformer_single_file") for v in spec.get("variants", {}).values()]
        for rel in filter(None, rels):
            p = os.path.join(d, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            open(p, "wb").close()
    return d


def standin_backend(cache=None):
    lib = standin.StandinLibrary()
    env = {modelmap.ENV_CACHE: cache or model_cache(), "PATH": os.environ.get("PATH", "")}
    logs = []
    return backend.Backend(lib, MODELS, environ=env, log=logs.append), env


def write_png(path, w, h, rgb):
    with open(path, "wb") as f:
        f.write(png_bytes(w, h, bytes(rgb) * (w * h)))


def read_png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", head[16:24])


def read_png_pixels(path):
    """Decodes a PNG written by media.png_bytes (8-bit RGB, filter 0)."""
    with open(path, "rb") as f:
        data = f.read()
    w, h = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        tag = data[pos + 4:pos + 8]
        if tag == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    raw = zlib.decompress(idat)
    rows = [raw[y * (w * 3 + 1) + 1:(y + 1) * (w * 3 + 1)] for y in range(h)]
    return w, h, b"".join(rows)


class Recorder:
    """Collects the messages a request sends."""

    def __init__(self):
        self.msgs = []
        self.lock = threading.Lock()

    def send(self, m):
        with self.lock:
            self.msgs.append(m)

    def of(self, typ, stage=None):
        return [m for m in self.msgs if m["type"] == typ and (stage is None or m.get("stage") == stage)]
