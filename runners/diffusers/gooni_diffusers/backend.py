"""Loading the models and building their pipelines.

:class:`Backend` holds the logic (which classes, dtypes, quantization, offload, VAE handling,
pipelines derived from shared components) and reaches torch, diffusers, transformers, accelerate,
Pillow and numpy only through a library object: :class:`Library` imports the real ones on first
use (inside model loading), and the tests pass :class:`gooni_diffusers.standin.StandinLibrary`,
whose classes have the same call signatures, so this code runs here without them.
"""

import gc
import inspect
import os

from . import modelmap
from .errors import RunnerError, INTERNAL, NOT_SUPPORTED_YET

ENV_DEVICE = "GOONI_DIFFUSERS_DEVICE"
ENV_ALLOW_DOWNLOAD = "GOONI_DIFFUSERS_ALLOW_DOWNLOAD"


class Library:
    """The real libraries, imported on first use."""

    name = "diffusers"

    def __init__(self):
        self._loaded = False

    def _import(self):
        if self._loaded:
            return
        try:
            import torch  # noqa: F401
            import diffusers
            import transformers
            import accelerate
            import numpy
            from PIL import Image
        except ImportError as e:
            raise RunnerError(INTERNAL, "the diffusers runner needs its Python packages (%s): "
                              "pip install -r runners/diffusers/requirements.txt" % e)
        self._torch, self._diffusers, self._transformers = torch, diffusers, transformers
        self._accelerate, self._np, self._Image = accelerate, numpy, Image
        self._loaded = True

    @property
    def torch(self):
        self._import()
        return self._torch

    @property
    def diffusers(self):
        self._import()
        return self._diffusers

    @property
    def transformers(self):
        self._import()
        return self._transformers

    def offload_module(self, module, device):
        """Offloads one module that joins already-offloaded shared components (an image encoder,
        a second transformer) without hooking the shared ones again."""
        self._import()
        self._accelerate.cpu_offload(module, execution_device=device)

    def image_from_rgb(self, rgb):
        self._import()
        return self._Image.frombytes("RGB", (rgb.width, rgb.height), rgb.data)

    def gray_image(self, level, width, height, mode="RGB"):
        self._import()
        return self._Image.new(mode, (width, height), (level, level, level) if mode == "RGB" else level)

    def frames_from_output(self, out, kind):
        """The frames of a pipeline output made with output_type="np": images (B, H, W, 3) or
        videos (B, F, H, W, 3), floats in 0..1."""
        self._import()
        arr = out.frames[0] if kind == "video" else out.images[0]
        arr = self._np.asarray(arr)
        if arr.ndim == 3:
            arr = arr[None]
        return NumpyFrames(self._np, arr)

    def free_memory(self):
        gc.collect()
        if not self._loaded:
            return
        if self._torch.cuda.is_available():
            self._torch.cuda.empty_cache()
            self._torch.cuda.ipc_collect()


class NumpyFrames:
    """Frames (F, H, W, 3) of floats in 0..1: the interface of media.FloatFrames."""

    def __init__(self, np, arr):
        self.np, self.arr = np, arr
        self.count, self.height, self.width = arr.shape[0], arr.shape[1], arr.shape[2]

    def stats(self):
        np = self.np
        finite = bool(np.isfinite(self.arr).all())
        return finite, float(np.nan_to_num(self.arr.astype(np.float32)).std())

    def frame_bytes(self, i):
        np = self.np
        f = np.nan_to_num(self.arr[i].astype(np.float32))
        return (np.clip(f, 0.0, 1.0) * 255.0).round().astype(np.uint8).tobytes()


class Backend:
    """One model's pipelines in one runner process. Weights are loaded once (per lighting variant
    where the model has variants); the other modes' pipelines are built on first use from the
    loaded components."""

    def __init__(self, lib, models, environ=None, log=None):
        self.lib = lib
        self.models = models
        self.environ = os.environ if environ is None else environ
        self.log = log or (lambda *a: None)
        self.device = self.environ.get(ENV_DEVICE, "").strip() or "cuda"
        self.loaded = None      # (model id, variant)
        self.spec = None
        self.pipes = {}
        self.base_scheduler = None
        self.offloaded = set()  # ids of modules under an offload hook

    # --- loading -------------------------------------------------------------------------------

    def model_spec(self, model_id):
        return modelmap.spec_for(self.models, model_id)

    def default_variant(self, spec):
        return spec.get("default_variant") if "variants" in spec else None

    def is_loaded(self, model_id, variant):
        return self.loaded == (model_id, variant)

    def hub(self):
        return {"cache_dir": self.cache, "local_files_only": self.environ.get(ENV_ALLOW_DOWNLOAD, "") != "1"}

    def weight_file(self, rel, what):
        path = modelmap.resolve(self.cache, rel)
        if not os.path.isfile(path):
            raise RunnerError(INTERNAL, "%s weights not found at %s: download the checkpoint there, or change %s in "
                              "the model map (%s)" % (what, path, what, modelmap.ENV_MODELS))
        return path

    def load(self, model_id, variant=None):
        spec = self.model_spec(model_id)
        if variant is None:
            variant = self.default_variant(spec)
        if self.loaded == (model_id, variant):
            return
        self.unload()
        self.cache = modelmap.cache_dir(self.environ)
        family = spec["family"]
        try:
            if family == "sdxl":
                pipe = self._load_sdxl(spec)
            elif family == "flux":
                pipe = self._load_flux(spec)
            else:
                pipe = self._load_wan(spec, variant)
        except RunnerError:
            self.unload()
            raise
        self.pipes = {"t2v" if family == "wan" else "txt2img": pipe}
        self.base_scheduler = pipe.scheduler
        self.spec, self.loaded = spec, (model_id, variant)

    def unload(self):
        had = bool(self.pipes)
        self.pipes, self.spec, self.loaded, self.base_scheduler = {}, None, None, None
        self.offloaded = set()
        if had:
            self.free_memory()

    def dtype(self, name):
        return getattr(self.lib.torch, name)

    def place(self, pipe, spec):
        """Puts a freshly loaded pipeline on the device: whole (offload "none") or with model CPU
        offload, applied exactly once per module."""
        if spec.get("offload", "none") == "model":
            pipe.enable_model_cpu_offload(device=self.device)
            for m in pipe.components.values():
                if m is not None:
                    self.offloaded.add(id(m))
        else:
            pipe.to(self.device)

    def _load_sdxl(self, spec):
        D = self.lib.diffusers
        dtype = self.dtype(spec["dtype"])
        path = self.weight_file(spec["single_file"], spec["id"])
        kw = dict(torch_dtype=dtype, **self.hub())
        if spec.get("config_repo"):
            kw["config"] = spec["config_repo"]
        pipe = D.StableDiffusionXLPipeline.from_single_file(path, **kw)
        vae = spec.get("vae") or {}
        if vae.get("repo_id"):
            # The fp16-fix VAE decodes in fp16 without the NaNs (black images) of the original.
            pipe.vae = D.AutoencoderKL.from_pretrained(vae["repo_id"], torch_dtype=self.dtype(vae.get("dtype", "float16")),
                                                       **self.hub())
        else:
            # The original SDXL VAE overflows in fp16: keep it in fp32.
            pipe.vae.to(dtype=self.lib.torch.float32)
        self.place(pipe, spec)
        return pipe

    def _load_flux(self, spec):
        D, T, torch = self.lib.diffusers, self.lib.transformers, self.lib.torch
        dtype = self.dtype(spec["dtype"])
        repo = spec["repo_id"]
        extra = {}
        q = spec.get("quantization")
        if q:
            if q.get("method") != "bitsandbytes":
                raise RunnerError(INTERNAL, "flux: quantization method %r is not supported" % q.get("method"))
            qkw = dict(load_in_4bit=True, bnb_4bit_quant_type=q.get("quant_type", "nf4"),
                       bnb_4bit_compute_dtype=getattr(torch, q.get("compute_dtype", "bfloat16")))
            comps = q.get("components", ["transformer"])
            if "transformer" in comps:
                extra["transformer"] = D.FluxTransformer2DModel.from_pretrained(
                    repo, subfolder="transformer", quantization_config=D.BitsAndBytesConfig(**qkw), torch_dtype=dtype, **self.hub())
            if "text_encoder_2" in comps:
                extra["text_encoder_2"] = T.T5EncoderModel.from_pretrained(
                    repo, subfolder="text_encoder_2", quantization_config=T.BitsAndBytesConfig(**qkw), torch_dtype=dtype, **self.hub())
        pipe = D.FluxPipeline.from_pretrained(repo, torch_dtype=dtype, **extra, **self.hub())
        self.place(pipe, spec)
        return pipe

    def _wan_transformer(self, ref, spec, dtype):
        D = self.lib.diffusers
        if ref.get("single_file"):
            # The architecture comes from the base repository's transformer config.
            return D.WanTransformer3DModel.from_single_file(self.weight_file(ref["single_file"], spec["id"]), torch_dtype=dtype,
                                                            config=spec["repo_id"], subfolder="transformer", **self.hub())
        return D.WanTransformer3DModel.from_pretrained(ref["repo_id"], subfolder=ref.get("subfolder", "transformer"),
                                                       torch_dtype=dtype, **self.hub())

    def _load_wan(self, spec, variant):
        D = self.lib.diffusers
        dtype = self.dtype(spec["dtype"])
        repo = spec["repo_id"]
        opts = dict(spec)
        if variant is not None:
            opts.update(spec["variants"][variant])
        # The Wan VAE stays in fp32 (its bf16 decode degrades colours); the rest is bf16.
        vae = D.AutoencoderKLWan.from_pretrained(repo, subfolder="vae", torch_dtype=self.dtype(spec.get("vae_dtype", "float32")),
                                                 **self.hub())
        extra = {"vae": vae}
        if opts.get("transformer_single_file"):
            extra["transformer"] = self._wan_transformer({"single_file": opts["transformer_single_file"]}, spec, dtype)
        pipe = D.WanPipeline.from_pretrained(repo, torch_dtype=dtype, **extra, **self.hub())
        if opts.get("flow_shift"):
            pipe.scheduler = D.UniPCMultistepScheduler.from_config(pipe.scheduler.config, flow_shift=opts["flow_shift"])
        if spec.get("vae_slicing"):
            pipe.vae.enable_slicing()
        if spec.get("vae_tiling"):
            pipe.vae.enable_tiling()
        self.place(pipe, spec)
        return pipe

    # --- pipelines per mode -------------------------------------------------------------------

    def pipeline(self, name):
        """The pipeline for a Plan's pipeline name, derived on first use from the loaded one."""
        if name in self.pipes:
            return self.pipes[name]
        spec, D, T = self.spec, self.lib.diffusers, self.lib.transformers
        family = spec["family"]
        base = next(iter(self.pipes.values()))
        extra = {}
        if family == "sdxl" and name == "img2img":
            cls = D.StableDiffusionXLImg2ImgPipeline
        elif family == "flux" and name == "img2img":
            cls = D.FluxImg2ImgPipeline
        elif family == "wan" and name == "i2v":
            cls = D.WanImageToVideoPipeline
            ie = spec.get("image_encoder")
            if ie:
                extra["image_encoder"] = T.CLIPVisionModel.from_pretrained(
                    ie["repo_id"], subfolder=ie.get("subfolder", "image_encoder"), torch_dtype=self.lib.torch.float32, **self.hub())
                extra["image_processor"] = T.CLIPImageProcessor.from_pretrained(
                    ie["repo_id"], subfolder=ie.get("processor_subfolder", "image_processor"), **self.hub())
            if spec.get("i2v_transformer"):
                extra["transformer"] = self._wan_transformer(spec["i2v_transformer"], spec, self.dtype(spec["dtype"]))
        elif family == "wan" and name == "vace":
            ref = spec.get("vace_transformer")
            if not ref:
                raise RunnerError(NOT_SUPPORTED_YET, "arbitrary_frame needs a VACE transformer: set vace_transformer for %s in "
                                  "the model map" % spec["id"])
            cls = D.WanVACEPipeline
            extra["transformer"] = D.WanVACETransformer3DModel.from_pretrained(
                ref["repo_id"], subfolder=ref.get("subfolder", "transformer"), torch_dtype=self.dtype(spec["dtype"]), **self.hub())
        else:
            raise RunnerError(NOT_SUPPORTED_YET, "%s has no %s pipeline" % (spec["id"], name))
        pipe = self.derive(base, cls, extra)
        self.pipes[name] = pipe
        return pipe

    def derive(self, base, cls, extra):
        """A pipeline of class cls over base's components (the same module objects, so no weights
        are loaded twice) plus extra ones. Offload is never applied twice: shared modules keep
        base's hooks, and only modules not yet offloaded get their own."""
        accepted = inspect.signature(cls.__init__).parameters
        comps = {k: v for k, v in base.components.items() if k in accepted}
        comps.update(extra)
        pipe = cls(**comps)
        offload = self.spec.get("offload", "none") == "model"
        for m in extra.values():
            if m is None or not hasattr(m, "to") or not hasattr(m, "parameters"):
                continue  # processors, not modules
            if offload:
                if id(m) not in self.offloaded:
                    self.lib.offload_module(m, self.device)
                    self.offloaded.add(id(m))
            else:
                m.to(self.device)
        return pipe

    # --- per run ------------------------------------------------------------------------------

    def prepare(self, pipe, plan):
        """Sets the plan's scheduler on pipe (built from the loaded scheduler's config, so one
        request's sampler never leaks into the next) and returns a function that undoes what is
        per run (the VAE upcast of the safe preset)."""
        if plan.scheduler is not None:
            name, overrides = plan.scheduler
            cls = getattr(self.lib.diffusers, name)
            pipe.scheduler = cls.from_config(self.base_scheduler.config, **overrides)
        elif self.base_scheduler is not None:
            pipe.scheduler = self.base_scheduler
        undo = lambda: None  # noqa: E731
        if plan.vae_fp32 and getattr(pipe, "vae", None) is not None:
            before = pipe.vae.config.get("force_upcast", False) if hasattr(pipe.vae.config, "get") else False
            pipe.vae.register_to_config(force_upcast=True)
            undo = lambda: pipe.vae.register_to_config(force_upcast=before)  # noqa: E731
        return undo

    def generator(self, seed):
        # On the CPU, so that a seed gives the same noise on every GPU model.
        return self.lib.torch.Generator("cpu").manual_seed(seed)

    def frames(self, out, kind):
        return self.lib.frames_from_output(out, kind)

    def free_memory(self):
        self.lib.free_memory()
