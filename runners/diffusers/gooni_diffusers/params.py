"""Pure mapping from a generate message to what the pipelines are called with.

Nothing here imports torch or diffusers: :func:`parse_generate` validates the message,
:func:`plan` turns it into a :class:`Plan` (which pipeline, its keyword arguments, the scheduler,
the input images to decode), and :func:`attempts` lists the bounded retries of the output check.
Parameters the runner does not know are ignored (runners/PROTOCOL.md); known parameters with a
wrong type, a value out of range or an unknown option are ``invalid_input``.
"""

import math
import os
import random
import re

from .errors import RunnerError, invalid, NOT_SUPPORTED_YET

# Sampler names of the catalogue (A1111 spelling) → diffusers scheduler class and the
# from_config overrides that make it that sampler.
SDXL_SAMPLERS = {
    "Euler a": ("EulerAncestralDiscreteScheduler", {}),
    "DPM++ 2M Karras": ("DPMSolverMultistepScheduler",
                        {"use_karras_sigmas": True, "algorithm_type": "dpmsolver++", "solver_order": 2}),
    "DPM++ SDE Karras": ("DPMSolverSDEScheduler", {"use_karras_sigmas": True}),
}

# Flux is a flow-matching model: both catalogue names are the flow-matching Euler scheduler the
# checkpoint ships with, so neither replaces it.
FLUX_SAMPLERS = {"Euler": None, "flow-matching": None}

IMAGE_FORMATS = {"png": ("png", "image/png"), "jpeg": ("jpeg", "image/jpeg"), "jpg": ("jpeg", "image/jpeg")}
VIDEO_FORMATS = {"mp4": ("mp4", "video/mp4"), "webm": ("webm", "video/webm")}

REFERENCE_FIELDS = ("reference_image", "init_image", "image")
KEYFRAME_FIELD = re.compile(r"^arbitrary_frames\[(\d+)\]\.image$")

MAX_SEED = 2 ** 64 - 1


class Input:
    """An input file of a generate message."""

    def __init__(self, field, path, mime="", frame_index=-1, strength=0.0):
        self.field, self.path, self.mime = field, path, mime
        self.frame_index, self.strength = frame_index, strength

    def __repr__(self):
        return "Input(%r, %r, frame_index=%r, strength=%r)" % (self.field, self.path, self.frame_index, self.strength)


class Request:
    """A validated generate message."""

    def __init__(self, id, model, kind, mode, params, inputs, output_dir, output_format):
        self.id, self.model, self.kind, self.mode = id, model, kind, mode
        self.params, self.inputs = params, inputs
        self.output_dir, self.output_format = output_dir, output_format


class Plan:
    """One pipeline call: which pipeline, its keyword arguments (without the generator, the
    step callback and decoded images), the scheduler, and the images to decode."""

    def __init__(self, **kw):
        self.pipeline = kw.pop("pipeline")
        self.kwargs = kw.pop("kwargs")
        self.images = kw.pop("images", {})          # kwarg → Input, decoded at width×height
        self.keyframes = kw.pop("keyframes", [])    # [(frame_index, strength, Input)], ordered
        self.scheduler = kw.pop("scheduler", None)  # (class name, overrides) or None
        self.seed = kw.pop("seed")
        self.steps = kw.pop("steps")
        self.total = kw.pop("total")
        self.width, self.height = kw.pop("width"), kw.pop("height")
        self.kind = kw.pop("kind")
        self.format, self.mime = kw.pop("format"), kw.pop("mime")
        self.num_frames = kw.pop("num_frames", 1)
        self.fps = kw.pop("fps", 0)
        self.variant = kw.pop("variant", None)
        self.vae_fp32 = kw.pop("vae_fp32", False)
        self.check = kw.pop("check", {})
        self.label = kw.pop("label", "requested")
        if kw:
            raise TypeError("unknown Plan fields %s" % sorted(kw))

    def copy(self, **changes):
        kw = dict(pipeline=self.pipeline, kwargs=dict(self.kwargs), images=dict(self.images),
                  keyframes=list(self.keyframes), scheduler=self.scheduler, seed=self.seed,
                  steps=self.steps, total=self.total, width=self.width, height=self.height,
                  kind=self.kind, format=self.format, mime=self.mime, num_frames=self.num_frames,
                  fps=self.fps, variant=self.variant, vae_fp32=self.vae_fp32, check=self.check,
                  label=self.label)
        kw.update(changes)
        return Plan(**kw)


# --- the generate message -------------------------------------------------------------------

def parse_generate(msg):
    """Validates what every generate message needs and returns a Request."""
    rid = msg.get("id")
    if not isinstance(rid, str) or not rid:
        raise invalid("generate needs an id")
    model = msg.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("model is empty")
    kind = msg.get("kind") or "image"
    if kind not in ("image", "video"):
        raise invalid("unknown kind %r", kind)
    mode = msg.get("mode") or ""
    params = msg.get("params")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise invalid("params must be a JSON object")
    out = msg.get("output_dir")
    if not isinstance(out, str) or not os.path.isabs(out):
        raise invalid("output_dir %r is not an absolute path", out)
    if not os.path.isdir(out):
        raise invalid("output_dir %r is not a directory", out)
    inputs = []
    for raw in msg.get("inputs") or []:
        if not isinstance(raw, dict) or not isinstance(raw.get("field"), str) or not isinstance(raw.get("path"), str):
            raise invalid("each input needs a field and a path")
        if not os.path.isabs(raw["path"]):
            raise invalid("input %s: path %r is not absolute", raw["field"], raw["path"])
        fi = raw.get("frame_index", -1)
        st = raw.get("strength", 0)
        if isinstance(fi, bool) or not isinstance(fi, int):
            raise invalid("input %s: frame_index must be a whole number", raw["field"])
        if isinstance(st, bool) or not isinstance(st, (int, float)) or not 0 <= st <= 1:
            raise invalid("input %s: strength must be between 0 and 1", raw["field"])
        inputs.append(Input(raw["field"], raw["path"], raw.get("mime") or "", fi, float(st)))
    fmt = msg.get("output_format") or ""
    if not isinstance(fmt, str):
        raise invalid("output_format must be a string")
    return Request(rid, model, kind, mode, params, inputs, out, fmt)


# --- parameter readers ----------------------------------------------------------------------

def number(params, key, default, lo, hi, whole=False):
    """A number parameter in [lo, hi], default when absent or null."""
    v = params.get(key)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not math.isfinite(v)):
        raise invalid("%s must be a number", key)
    if whole:
        if v != int(v):
            raise invalid("%s must be a whole number", key)
        v = int(v)
    if v < lo or v > hi:
        raise invalid("%s must be between %s and %s", key, lo, hi)
    return v


def choice(params, key, default, options):
    v = params.get(key)
    if v is None or v == "":
        return default
    if v not in options:
        raise invalid("%s %r is not one of %s", key, v, ", ".join(repr(o) for o in options))
    return v


def text(params, key):
    v = params.get(key)
    if v is None:
        return ""
    if not isinstance(v, str):
        raise invalid("%s must be a string", key)
    return v


def seed_of(params, rng=None):
    """The request's seed; absent or -1 draws one (the API resolves -1 before the run)."""
    v = params.get("seed")
    if v is None or v == -1:
        return (rng or random.SystemRandom()).randrange(0, 2 ** 31)
    if isinstance(v, bool) or not isinstance(v, int) or v < 0 or v > MAX_SEED:
        raise invalid("seed must be a whole number between 0 and %d (or -1 for random)", MAX_SEED)
    return v


def size(params, spec, key):
    lim = spec.get("limits", {})
    lo, hi = lim.get("side", [64, 4096])
    mult = lim.get("multiple", 8)
    v = number(params, key, None, lo, hi, whole=True)
    if v is None:
        raise invalid("%s is required", key)
    if v % mult:
        raise invalid("%s must be a multiple of %d for %s", key, mult, spec["id"])
    return v


def limited(params, spec, key, whole=False):
    lo, hi = spec.get("limits", {})[key]
    return number(params, key, spec["defaults"][key], lo, hi, whole)


def fixed(params, spec, key):
    """A fixed parameter: the map's value; a request may repeat it but not change it."""
    want = spec["fixed"][key]
    v = params.get(key)
    if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v != want):
        raise invalid("%s is fixed at %s for %s", key, want, spec["id"])
    return want


def strength(params, key, default):
    return number(params, key, default, 0.0, 1.0)


def output_format(req, kind):
    table = IMAGE_FORMATS if kind == "image" else VIDEO_FORMATS
    f = req.output_format or ("png" if kind == "image" else "mp4")
    if f not in table:
        raise invalid("output_format %r: the diffusers runner writes %s for %s",
                      f, " or ".join(sorted(set(v[0] for v in table.values()))), kind + "s")
    return table[f]


def reference(req, needed):
    for inp in req.inputs:
        if inp.field in REFERENCE_FIELDS:
            return inp
    if needed:
        raise invalid("%s needs a reference_image input", req.mode)
    return None


def input_named(req, field):
    for inp in req.inputs:
        if inp.field == field:
            return inp
    raise invalid("%s needs a %s input", req.mode, field)


def img2img_total(steps, denoise):
    """Steps an img2img run takes (diffusers skips the first steps by strength)."""
    n = min(int(steps * denoise), steps)
    if n < 1:
        raise invalid("denoising_strength %s with %d steps leaves no step to run: raise either", denoise, steps)
    return n


# --- per model family -----------------------------------------------------------------------

def plan(spec, req, rng=None):
    """The Plan of a request for the model described by spec (an entry of the model map)."""
    if req.kind != spec["kind"]:
        raise invalid("%s makes %ss, not %ss", spec["id"], spec["kind"], req.kind)
    if req.mode not in spec["modes"]:
        raise RunnerError(NOT_SUPPORTED_YET, "mode %r is not supported for %s (modes: %s)"
                          % (req.mode, spec["id"], ", ".join(spec["modes"])))
    family = spec["family"]
    if family == "sdxl":
        return plan_sdxl(spec, req, rng)
    if family == "flux":
        return plan_flux(spec, req, rng)
    return plan_wan(spec, req, rng)


def sdxl_clip_skip(ui):
    """Catalogue clip_skip (A1111: 1 = last CLIP layer, 2 = penultimate) → the diffusers SDXL
    argument. diffusers' SDXL takes hidden_states[-(clip_skip + 2)] and, with None, the
    penultimate layer (hidden_states[-2]), so: 2 → None, 3 → 1, 4 → 2, and 1 (the last layer)
    → -1."""
    return None if ui == 2 else ui - 2


def plan_sdxl(spec, req, rng=None):
    p = req.params
    steps = limited(p, spec, "steps", whole=True)
    cfg = limited(p, spec, "cfg_scale")
    sampler = choice(p, "sampler", spec["defaults"]["sampler"], list(SDXL_SAMPLERS))
    clip_skip = limited(p, spec, "clip_skip", whole=True)
    width, height = size(p, spec, "width"), size(p, spec, "height")
    fmt, mime = output_format(req, "image")
    kwargs = {
        "prompt": text(p, "prompt"),
        "negative_prompt": text(p, "negative_prompt") or None,
        "num_inference_steps": steps,
        "guidance_scale": float(cfg),
        "clip_skip": sdxl_clip_skip(clip_skip),
        "output_type": "np",
    }
    images = {}
    total = steps
    if req.mode == "img2img":
        denoise = strength(p, "denoising_strength", spec["defaults"]["denoising_strength"])
        total = img2img_total(steps, denoise)
        kwargs["strength"] = float(denoise)
        images["image"] = reference(req, True)
        pipeline = "img2img"
    else:
        kwargs["width"], kwargs["height"] = width, height
        pipeline = "txt2img"
    return Plan(pipeline=pipeline, kwargs=kwargs, images=images, scheduler=SDXL_SAMPLERS[sampler],
                seed=seed_of(p, rng), steps=steps, total=total, width=width, height=height,
                kind="image", format=fmt, mime=mime, check=spec.get("output_check", {}))


def plan_flux(spec, req, rng=None):
    p = req.params
    steps = limited(p, spec, "steps", whole=True)
    true_cfg = limited(p, spec, "guidance_scale")
    distilled = limited(p, spec, "distilled_cfg")
    choice(p, "sampler", spec["defaults"]["sampler"], list(FLUX_SAMPLERS))
    width, height = size(p, spec, "width"), size(p, spec, "height")
    fmt, mime = output_format(req, "image")
    kwargs = {
        "prompt": text(p, "prompt"),
        "width": width,
        "height": height,
        "num_inference_steps": steps,
        # Flux.1-dev is guidance-distilled: its guidance_scale is the distilled CFG.
        "guidance_scale": float(distilled),
        "max_sequence_length": spec.get("max_sequence_length", 512),
        "output_type": "np",
    }
    negative = text(p, "negative_prompt")
    if true_cfg > 1:
        # Real classifier-free guidance (two passes per step), which needs a negative prompt.
        kwargs["true_cfg_scale"] = float(true_cfg)
        kwargs["negative_prompt"] = negative or " "
    images, total, pipeline = {}, steps, "txt2img"
    if req.mode == "img2img":
        denoise = strength(p, "denoising_strength", spec["defaults"]["denoising_strength"])
        total = img2img_total(steps, denoise)
        kwargs["strength"] = float(denoise)
        images["image"] = reference(req, True)
        pipeline = "img2img"
    return Plan(pipeline=pipeline, kwargs=kwargs, images=images, scheduler=None, seed=seed_of(p, rng),
                steps=steps, total=total, width=width, height=height, kind="image", format=fmt,
                mime=mime, check=spec.get("output_check", {}))


def keyframes_of(req, spec, num_frames):
    """arbitrary_frames[N].image inputs as (frame_index, strength, Input), ordered by frame
    index (then N); an index past the clip or used twice is invalid_input."""
    found = []
    default = spec["defaults"].get("keyframe_strength", 0.85)
    for inp in req.inputs:
        m = KEYFRAME_FIELD.match(inp.field)
        if not m:
            continue
        if inp.frame_index < 0 or inp.frame_index >= num_frames:
            raise invalid("%s: frame_index %d is outside the clip's %d frames", inp.field, inp.frame_index, num_frames)
        found.append((inp.frame_index, int(m.group(1)), inp.strength or default, inp))
    if not found:
        raise invalid("arbitrary_frame needs at least one arbitrary_frames[N].image input")
    found.sort(key=lambda k: (k[0], k[1]))
    for a, b in zip(found, found[1:]):
        if a[0] == b[0]:
            raise invalid("two keyframes at frame_index %d", a[0])
    return [(fi, st, inp) for fi, _, st, inp in found]


def plan_wan(spec, req, rng=None):
    p = req.params
    steps = fixed(p, spec, "steps")
    if "cfg_scale" in spec.get("fixed", {}):
        guidance = float(fixed(p, spec, "cfg_scale"))
    else:
        guidance = float(limited(p, spec, "guidance_scale"))
    num_frames = limited(p, spec, "num_frames", whole=True)
    if (num_frames - 1) % 4:
        raise invalid("num_frames must be 4k+1 (49, 53, …, 81, …) for %s", spec["id"])
    fps = limited(p, spec, "fps", whole=True)
    width, height = size(p, spec, "width"), size(p, spec, "height")
    fmt, mime = output_format(req, "video")
    for key in ("reference_strength", "first_strength", "last_strength", "denoising_strength"):
        strength(p, key, None)  # validated; see the README for which modes apply them
    variant = None
    if "variants" in spec:
        variant = choice(p, "lighting_variant", spec["default_variant"], sorted(spec["variants"]))
    prompt = text(p, "prompt")
    if spec.get("prompt_template"):
        motion = number(p, "motion_score", spec["defaults"].get("motion_score", 3.0), 0.0, 5.0)
        prompt = spec["prompt_template"].format(prompt=prompt, motion_score=motion)
    kwargs = {
        "prompt": prompt,
        "negative_prompt": text(p, "negative_prompt") or None,
        "width": width,
        "height": height,
        "num_frames": num_frames,
        "num_inference_steps": steps,
        "guidance_scale": guidance,
        "output_type": "np",
    }
    images, keyframes = {}, []
    if req.mode == "t2v":
        pipeline = "t2v"
    elif req.mode == "i2v":
        pipeline = "i2v"
        images["image"] = reference(req, True)
    elif req.mode == "first_last_frame":
        pipeline = "i2v"
        images["image"] = input_named(req, "first_frame_image")
        images["last_image"] = input_named(req, "last_frame_image")
    else:  # arbitrary_frame
        pipeline = "vace"
        keyframes = keyframes_of(req, spec, num_frames)
        ref = reference(req, False)
        if ref is not None:
            images["reference_images"] = ref
    return Plan(pipeline=pipeline, kwargs=kwargs, images=images, keyframes=keyframes, scheduler=None,
                seed=seed_of(p, rng), steps=steps, total=steps, width=width, height=height, kind="video",
                format=fmt, mime=mime, num_frames=num_frames, fps=fps, variant=variant,
                check=spec.get("output_check", {}))


# --- the bounded retry of the output check --------------------------------------------------

def attempts(plan_, spec):
    """The plans to try in order when an output fails its check: the request itself; then (when
    the map says so) the same with a new seed; then the model's safe preset. Models without a
    safe preset get one attempt."""
    check = spec.get("output_check", {})
    out = [plan_]
    if "retry_seed_offset" in check:
        out.append(plan_.copy(seed=(plan_.seed + check["retry_seed_offset"]) % (2 ** 31), label="new seed"))
    safe = check.get("safe_preset")
    if safe and spec["family"] == "sdxl":
        base = out[-1]
        kwargs = dict(base.kwargs)
        kwargs["guidance_scale"] = float(safe["cfg_scale"])
        kwargs["clip_skip"] = sdxl_clip_skip(safe["clip_skip"])
        steps = max(base.steps, safe.get("min_steps", base.steps))
        kwargs["num_inference_steps"] = steps
        total = steps if base.pipeline == "txt2img" else img2img_total(steps, kwargs["strength"])
        out.append(base.copy(kwargs=kwargs, scheduler=SDXL_SAMPLERS[safe["sampler"]], steps=steps, total=total,
                             vae_fp32=bool(safe.get("vae_fp32")), label="safe preset"))
    return out


def keyframe_conditioning(keyframes, num_frames, width, height, gray=128):
    """The control video and mask of a keyframed (VACE) run from decoded keyframes
    [(frame_index, strength, RGBImage)] in frame order: each keyframe's image at its index and
    neutral gray elsewhere; the mask is white (generate) except at keyframes, where it is
    1 - strength (black: keep the keyframe exactly). Returns (frames, mask_levels) as lists of
    num_frames entries: frames are RGBImage or None (gray), levels are 0..255."""
    frames = [None] * num_frames
    levels = [255] * num_frames
    for fi, st, img in keyframes:
        frames[fi] = img
        levels[fi] = int(round((1.0 - st) * 255))
    return frames, levels
