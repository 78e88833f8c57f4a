"""Stand-in libraries for tests: a torch-like, diffusers-like and transformers-like namespace
whose classes have the constructor and call signatures the runner uses, so the real loading,
pipeline-deriving and generating code of the runner runs without torch or a GPU.

Test mode only. The runner uses them when GOONI_DIFFUSERS_STANDIN=1 (never the default); every
result it makes then is a procedural picture, not a model's output, and its ready message says
device "standin". The stand-in pipelines call ``callback_on_step_end`` after every step like
diffusers does, and honour markers in the prompt, for tests only:

- ``[standin:oom-at=N]``     raise a CUDA-style OutOfMemoryError at step N
- ``[standin:nan-seeds=A,B]`` NaN output when the generator's seed is A or B (``all`` for any)
- ``[standin:uniform-seeds=A,B]`` a uniform (collapsed) picture for those seeds (``all`` for any)
- ``[standin:uniform-cfg-above=X]`` a uniform picture when guidance_scale > X
- ``[standin:step-ms=N]``    take N ms per step (default GOONI_DIFFUSERS_STANDIN_STEP_DELAY)
"""

import gc
import hashlib
import inspect
import os
import re
import time
import types

from .media import FloatFrames, RGBImage

ENV_STANDIN = "GOONI_DIFFUSERS_STANDIN"
ENV_STEP_DELAY = "GOONI_DIFFUSERS_STANDIN_STEP_DELAY"

MARKER = re.compile(r"\[standin:([a-z-]+)=?([^\]]*)\]")


# --- torch ----------------------------------------------------------------------------------

class OutOfMemoryError(RuntimeError):
    """Named like torch.cuda.OutOfMemoryError."""


class Generator:
    def __init__(self, device="cpu"):
        self.device, self.seed = device, None

    def manual_seed(self, seed):
        self.seed = seed
        return self


class _Cuda:
    OutOfMemoryError = OutOfMemoryError

    def __init__(self):
        self.empty_cache_calls = 0

    def is_available(self):
        return False

    def empty_cache(self):
        self.empty_cache_calls += 1

    def ipc_collect(self):
        pass


def fake_torch():
    t = types.SimpleNamespace(float16="float16", bfloat16="bfloat16", float32="float32", Generator=Generator)
    t.cuda = _Cuda()
    return t


# --- modules, configs, schedulers -----------------------------------------------------------

class Config(dict):
    pass


class Module:
    """A stand-in model (torch.nn.Module-like): remembers how it was loaded and where it is."""

    def __init__(self, source=None, **kwargs):
        self.source, self.kwargs = source, kwargs
        self.dtype = kwargs.get("torch_dtype")
        self.device = "cpu"
        self.config = Config(force_upcast=False)
        self.hooks = 0
        self.slicing = self.tiling = False

    @classmethod
    def from_pretrained(cls, repo, **kwargs):
        return cls(source=repo, **kwargs)

    @classmethod
    def from_single_file(cls, path, **kwargs):
        if not os.path.isfile(path):
            raise OSError("no file " + path)
        return cls(source=path, **kwargs)

    def to(self, device=None, dtype=None):
        if device is not None:
            self.device = device
        if dtype is not None:
            self.dtype = dtype
        return self

    def parameters(self):
        return iter(())

    def register_to_config(self, **kw):
        self.config.update(kw)

    def enable_slicing(self):
        self.slicing = True

    def enable_tiling(self):
        self.tiling = True


class Processor:
    @classmethod
    def from_pretrained(cls, repo, **kwargs):
        p = cls()
        p.source, p.kwargs = repo, kwargs
        return p


class Scheduler:
    def __init__(self, **config):
        self.config = Config(config)

    @classmethod
    def from_config(cls, config, **overrides):
        c = dict(config)
        c.update(overrides)
        return cls(**c)


class BitsAndBytesConfig:
    def __init__(self, **kwargs):
        self.kwargs = kwargs


def _module_class(name):
    return type(name, (Module,), {})


def _scheduler_class(name):
    return type(name, (Scheduler,), {})


# --- pipelines ------------------------------------------------------------------------------

COMMON_CALL = ("prompt", "negative_prompt", "num_inference_steps", "guidance_scale", "generator", "output_type",
               "callback_on_step_end", "callback_on_step_end_tensor_inputs")


class Pipeline:
    """A stand-in diffusers pipeline. Subclasses list their components (the constructor's
    parameters) and the keyword arguments their __call__ accepts, as the real classes do."""

    COMPONENTS = ()
    OPTIONAL = ()
    CALL = ()
    DEFAULT_SCHEDULER = "EulerDiscreteScheduler"
    lib = None  # set by StandinLibrary

    def __init__(self, **components):
        for name in self.COMPONENTS:
            if name not in components and name not in self.OPTIONAL:
                raise TypeError("%s missing component %s" % (type(self).__name__, name))
        unknown = set(components) - set(self.COMPONENTS)
        if unknown:
            raise TypeError("%s got unexpected components %s" % (type(self).__name__, sorted(unknown)))
        for name in self.COMPONENTS:
            setattr(self, name, components.get(name))
        self.device = "cpu"
        self.offload_calls = 0
        self._num_timesteps = None
        self.calls = []

    @property
    def components(self):
        return {n: getattr(self, n) for n in self.COMPONENTS}

    @classmethod
    def _default(cls, name, source, kwargs):
        if name == "scheduler":
            return getattr(cls.lib.diffusers, cls.DEFAULT_SCHEDULER)(source=source)
        if name.startswith("tokenizer") or name in ("image_processor", "feature_extractor"):
            return Processor.from_pretrained(source)
        if name in cls.OPTIONAL:
            return None
        return Module(source=source, torch_dtype=kwargs.get("torch_dtype"))

    @classmethod
    def from_pretrained(cls, repo, torch_dtype=None, cache_dir=None, local_files_only=False, **overrides):
        comps = {}
        for name in cls.COMPONENTS:
            comps[name] = overrides.pop(name) if name in overrides else cls._default(name, repo, {"torch_dtype": torch_dtype})
        if overrides:
            raise TypeError("unexpected arguments %s" % sorted(overrides))
        return cls(**comps)

    @classmethod
    def from_single_file(cls, path, torch_dtype=None, config=None, cache_dir=None, local_files_only=False):
        if not os.path.isfile(path):
            raise OSError("no file " + path)
        return cls.from_pretrained(path, torch_dtype=torch_dtype)

    def enable_model_cpu_offload(self, device="cuda"):
        self.offload_calls += 1
        for m in self.components.values():
            if isinstance(m, Module):
                m.hooks += 1

    def to(self, device):
        self.device = device
        for m in self.components.values():
            if isinstance(m, Module):
                m.to(device)
        return self

    @property
    def num_timesteps(self):
        return self._num_timesteps

    def __call__(self, **kw):
        unknown = set(kw) - set(COMMON_CALL) - set(self.CALL)
        if unknown:
            raise TypeError("%s.__call__() got unexpected keyword arguments %s" % (type(self).__name__, sorted(unknown)))
        self.calls.append(kw)
        prompt = kw.get("prompt") or ""
        marks = {m.group(1): m.group(2) for m in MARKER.finditer(prompt)}
        seed = kw["generator"].seed if kw.get("generator") is not None else 0
        n = kw.get("num_inference_steps", 50)
        if kw.get("strength") is not None:
            n = min(int(n * kw["strength"]), n)
        self._num_timesteps = n
        delay = float(marks.get("step-ms") or os.environ.get(ENV_STEP_DELAY) or 0) / 1000.0
        oom_at = int(marks.get("oom-at") or 0)
        cb = kw.get("callback_on_step_end")
        for i in range(n):
            if delay:
                time.sleep(delay)
            if oom_at == i + 1:
                raise OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (stand-in)")
            if cb is not None:
                out = cb(self, i, 1000 - (1000 * i) // max(n, 1), {"latents": None})
                if not isinstance(out, dict):
                    raise TypeError("callback_on_step_end must return a dict")
        bad = None
        if _seed_in(marks.get("nan-seeds"), seed):
            bad = "nan"
        elif _seed_in(marks.get("uniform-seeds"), seed) or (
                "uniform-cfg-above" in marks and kw.get("guidance_scale", 0) > float(marks["uniform-cfg-above"])):
            bad = "uniform"
        return self._render(kw, seed, bad)

    def _size(self, kw):
        img = kw.get("image")
        if "width" in kw:
            return kw["width"], kw["height"]
        return img.width, img.height

    def _render(self, kw, seed, bad):
        w, h = self._size(kw)
        key = hashlib.sha256(("%s|%s|%s" % (type(self).__name__, kw.get("prompt"), seed)).encode()).digest()
        frames = []
        count = kw.get("num_frames", 1)
        for f in range(count):
            frames.append(_picture(key, w, h, f, count, bad, self._keyframe(kw, f, count), kw.get("strength")))
        out = FloatFrames(w, h, frames)
        return types.SimpleNamespace(frames=[out]) if "num_frames" in kw else types.SimpleNamespace(images=[out])

    def _keyframe(self, kw, f, count):
        return kw.get("image") if f == 0 else None


def _seed_in(spec, seed):
    if spec is None:
        return False
    return spec == "all" or str(seed) in spec.split(",")


def _picture(key, w, h, f, count, bad, ref, strength):
    """A soft two-colour gradient with a disc, moving with f; blended with ref (an RGBImage)."""
    if bad == "nan":
        return [float("nan")] * (w * h * 3)
    if bad == "uniform":
        return [0.0] * (w * h * 3)
    c0 = [b / 255.0 for b in key[0:3]]
    c1 = [b / 255.0 for b in key[3:6]]
    cx = (key[6] / 255.0 * 0.6 + 0.2 + 0.1 * f / max(count, 1)) * w
    cy = (key[7] / 255.0 * 0.6 + 0.2) * h
    r2 = (min(w, h) * 0.2) ** 2
    keep = 0.0
    if ref is not None:
        keep = 1.0 - (strength if strength is not None else 0.0)
    data = ref.data if ref is not None else None
    out = []
    for y in range(h):
        for x in range(w):
            t = (x + y) / float(w + h)
            d = (x - cx) ** 2 + (y - cy) ** 2
            disc = 0.35 if d < r2 else 0.0
            for c in range(3):
                v = c0[c] * (1 - t) + c1[c] * t + disc * (1 - c1[c])
                if data is not None:
                    v = keep * data[(y * w + x) * 3 + c] / 255.0 + (1 - keep) * v
                out.append(v)
    return out


def _pipeline_class(name, components, call, optional=(), scheduler="EulerDiscreteScheduler", keyframe=None):
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    for c in components:
        params.append(inspect.Parameter(c, inspect.Parameter.KEYWORD_ONLY, default=None if c in optional else inspect.Parameter.empty))

    def __init__(self, **kw):
        Pipeline.__init__(self, **kw)
    __init__.__signature__ = inspect.Signature(params)

    def __call__(self, **kw):
        return Pipeline.__call__(self, **kw)
    __call__.__signature__ = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(c, inspect.Parameter.KEYWORD_ONLY, default=None) for c in COMMON_CALL + tuple(call)])
    ns = {"COMPONENTS": tuple(components), "OPTIONAL": tuple(optional), "CALL": tuple(call),
          "DEFAULT_SCHEDULER": scheduler, "__init__": __init__, "__call__": __call__}
    if keyframe:
        ns["_keyframe"] = keyframe
    return type(name, (Pipeline,), ns)


def _i2v_keyframe(self, kw, f, count):
    if f == 0:
        return kw.get("image")
    if f == count - 1:
        return kw.get("last_image")
    return None


def _vace_keyframe(self, kw, f, count):
    video = kw.get("video") or []
    img = video[f] if f < len(video) else None
    mask = kw.get("mask") or []
    if img is None or f >= len(mask) or mask[f].data[0] == 255:
        return None
    return img


SDXL = ("vae", "text_encoder", "text_encoder_2", "tokenizer", "tokenizer_2", "unet", "scheduler", "image_encoder",
        "feature_extractor")
FLUX = ("scheduler", "vae", "text_encoder", "tokenizer", "text_encoder_2", "tokenizer_2", "transformer", "image_encoder",
        "feature_extractor")
WAN = ("tokenizer", "text_encoder", "transformer", "vae", "scheduler", "transformer_2")
WAN_I2V = ("tokenizer", "text_encoder", "vae", "scheduler", "image_processor", "image_encoder", "transformer", "transformer_2")


class StandinLibrary:
    """The stand-in counterpart of backend.Library."""

    name = "standin"

    def __init__(self):
        self.torch = fake_torch()
        d = types.SimpleNamespace()
        for n in ("AutoencoderKL", "AutoencoderKLWan", "FluxTransformer2DModel", "WanTransformer3DModel",
                  "WanVACETransformer3DModel"):
            setattr(d, n, _module_class(n))
        for n in ("EulerDiscreteScheduler", "EulerAncestralDiscreteScheduler", "DPMSolverMultistepScheduler",
                  "DPMSolverSDEScheduler", "UniPCMultistepScheduler", "FlowMatchEulerDiscreteScheduler"):
            setattr(d, n, _scheduler_class(n))
        d.BitsAndBytesConfig = BitsAndBytesConfig
        d.StableDiffusionXLPipeline = _pipeline_class(
            "StableDiffusionXLPipeline", SDXL, ("width", "height", "clip_skip"), ("image_encoder", "feature_extractor"))
        d.StableDiffusionXLImg2ImgPipeline = _pipeline_class(
            "StableDiffusionXLImg2ImgPipeline", SDXL, ("image", "strength", "clip_skip"), ("image_encoder", "feature_extractor"))
        d.FluxPipeline = _pipeline_class(
            "FluxPipeline", FLUX, ("width", "height", "true_cfg_scale", "max_sequence_length"),
            ("image_encoder", "feature_extractor"), "FlowMatchEulerDiscreteScheduler")
        d.FluxImg2ImgPipeline = _pipeline_class(
            "FluxImg2ImgPipeline", FLUX, ("width", "height", "image", "strength", "true_cfg_scale", "max_sequence_length"),
            ("image_encoder", "feature_extractor"), "FlowMatchEulerDiscreteScheduler")
        video = ("width", "height", "num_frames")
        d.WanPipeline = _pipeline_class("WanPipeline", WAN, video, ("transformer_2",), "UniPCMultistepScheduler")
        d.WanImageToVideoPipeline = _pipeline_class(
            "WanImageToVideoPipeline", WAN_I2V, video + ("image", "last_image"),
            ("image_processor", "image_encoder", "transformer_2"), "UniPCMultistepScheduler", _i2v_keyframe)
        d.WanVACEPipeline = _pipeline_class(
            "WanVACEPipeline", WAN, video + ("video", "mask", "reference_images", "conditioning_scale"), ("transformer_2",),
            "UniPCMultistepScheduler", _vace_keyframe)
        self.diffusers = d
        t = types.SimpleNamespace()
        for n in ("T5EncoderModel", "CLIPVisionModel"):
            setattr(t, n, _module_class(n))
        t.CLIPImageProcessor = type("CLIPImageProcessor", (Processor,), {})
        t.BitsAndBytesConfig = BitsAndBytesConfig
        self.transformers = t
        for v in vars(d).values():
            if isinstance(v, type) and issubclass(v, Pipeline):
                v.lib = self
        self.offloaded = []      # modules passed to offload_module
        self.free_calls = 0

    def offload_module(self, module, device):
        module.hooks += 1
        self.offloaded.append(module)

    def image_from_rgb(self, rgb):
        return rgb

    def gray_image(self, level, width, height, mode="RGB"):
        return RGBImage(width, height, bytes([level]) * (width * height * 3))

    def frames_from_output(self, out, kind):
        return out.frames[0] if kind == "video" else out.images[0]

    def free_memory(self):
        self.free_calls += 1
        gc.collect()
        self.torch.cuda.empty_cache()


def enabled(environ=None):
    environ = os.environ if environ is None else environ
    return environ.get(ENV_STANDIN, "") == "1"

