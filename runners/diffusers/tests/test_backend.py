"""The real loading code (backend.Backend) against the stand-in libraries."""

import os
import unittest

from helpers import standin_backend
from gooni_diffusers.errors import RunnerError


class LoadTest(unittest.TestCase):
    def test_pony_single_file_fp16_vae_fix_and_img2img_from_same_components(self):
        be, env = standin_backend()
        be.load("pony")
        t2i = be.pipeline("txt2img")
        self.assertEqual(type(t2i).__name__, "StableDiffusionXLPipeline")
        self.assertTrue(t2i.unet.source.endswith("ponyDiffusionV6XL_v6StartWithThisOne.safetensors"))
        self.assertEqual(t2i.unet.dtype, "float16")
        self.assertEqual((t2i.vae.source, t2i.vae.dtype), ("madebyollin/sdxl-vae-fp16-fix", "float16"))
        self.assertEqual(t2i.device, "cuda")
        i2i = be.pipeline("img2img")
        self.assertEqual(type(i2i).__name__, "StableDiffusionXLImg2ImgPipeline")
        for name in ("unet", "vae", "text_encoder", "text_encoder_2", "scheduler"):
            self.assertIs(getattr(i2i, name), getattr(t2i, name), name)
        self.assertIs(be.pipeline("img2img"), i2i)

    def test_pony_vae_fp32_without_the_fix(self):
        be, env = standin_backend()
        be.models = dict(be.models)
        be.models["pony"] = dict(be.models["pony"], vae={})
        be.load("pony")
        self.assertEqual(be.pipeline("txt2img").vae.dtype, "float32")

    def test_missing_weights_and_cache(self):
        be, env = standin_backend()
        os.remove(os.path.join(env["GOONI_MODEL_CACHE"], "checkpoints/ponyDiffusionV6XL_v6StartWithThisOne.safetensors"))
        with self.assertRaises(RunnerError) as cm:
            be.load("pony")
        self.assertIn("weights not found", cm.exception.message)
        del env["GOONI_MODEL_CACHE"]
        with self.assertRaises(RunnerError) as cm:
            be.load("flux")
        self.assertIn("GOONI_MODEL_CACHE is not set", cm.exception.message)
        with self.assertRaises(RunnerError) as cm:
            be.load("sd15")
        self.assertEqual(cm.exception.code, "invalid_input")

    def test_flux_nf4_bf16_and_img2img_sharing(self):
        be, _ = standin_backend()
        be.load("flux")
        p = be.pipeline("txt2img")
        self.assertEqual(p.transformer.source, "black-forest-labs/FLUX.1-dev")
        for mod in (p.transformer, p.text_encoder_2):
            q = mod.kwargs["quantization_config"].kwargs
            self.assertEqual(q, {"load_in_4bit": True, "bnb_4bit_quant_type": "nf4", "bnb_4bit_compute_dtype": "bfloat16"})
            self.assertEqual(mod.dtype, "bfloat16")
        self.assertEqual(p.offload_calls, 1)
        i2i = be.pipeline("img2img")
        self.assertIs(i2i.transformer, p.transformer)
        self.assertEqual(p.transformer.hooks, 1)
        self.assertEqual(be.lib.offloaded, [])

    def test_anisora_offload_once_vae_slicing_tiling_and_i2v_from_same_components(self):
        be, _ = standin_backend()
        be.load("anisora")
        t2v = be.pipeline("t2v")
        self.assertEqual(t2v.offload_calls, 1)
        self.assertTrue(t2v.transformer.source.endswith("wan2.1-14b-anisora-v3.2.safetensors"))
        self.assertEqual((t2v.transformer.dtype, t2v.vae.dtype), ("bfloat16", "float32"))
        self.assertTrue(t2v.vae.slicing and t2v.vae.tiling)
        self.assertEqual(t2v.scheduler.config["flow_shift"], 5.0)
        i2v = be.pipeline("i2v")
        self.assertEqual(type(i2v).__name__, "WanImageToVideoPipeline")
        self.assertIs(i2v.transformer, t2v.transformer)
        self.assertIs(i2v.vae, t2v.vae)
        self.assertEqual(i2v.offload_calls, 0)
        for mod in (t2v.transformer, t2v.vae, t2v.text_encoder):
            self.assertEqual(mod.hooks, 1, "offload applied twice")
        self.assertEqual(be.lib.offloaded, [i2v.image_encoder])
        self.assertEqual(i2v.image_encoder.hooks, 1)
        vace = be.pipeline("vace")
        self.assertEqual(type(vace).__name__, "WanVACEPipeline")
        self.assertEqual(vace.transformer.source, "Wan-AI/Wan2.1-VACE-14B-diffusers")
        self.assertIs(vace.text_encoder, t2v.text_encoder)
        self.assertEqual(t2v.text_encoder.hooks, 1)

    def test_phr00t_variants_load_their_own_transformer(self):
        be, _ = standin_backend()
        be.load("phr00t")
        self.assertTrue(be.is_loaded("phr00t", "low_noise"))
        low = be.pipeline("t2v")
        self.assertIn("low-noise", low.transformer.source)
        self.assertEqual(low.scheduler.config["flow_shift"], 5.0)
        be.load("phr00t", "high_noise")
        high = be.pipeline("t2v")
        self.assertIn("high-noise", high.transformer.source)
        self.assertEqual(high.scheduler.config["flow_shift"], 8.0)
        self.assertEqual(be.lib.free_calls, 1)  # the previous variant was unloaded first

    def test_scheduler_per_request_does_not_leak(self):
        from gooni_diffusers import params
        be, _ = standin_backend()
        be.load("pony")
        pipe = be.pipeline("txt2img")
        plan = params.Plan(pipeline="txt2img", kwargs={}, scheduler=params.SDXL_SAMPLERS["DPM++ 2M Karras"], seed=1, steps=20,
                           total=20, width=256, height=256, kind="image", format="png", mime="image/png", vae_fp32=True)
        undo = be.prepare(pipe, plan)
        self.assertEqual(type(pipe.scheduler).__name__, "DPMSolverMultistepScheduler")
        self.assertTrue(pipe.scheduler.config["use_karras_sigmas"])
        self.assertTrue(pipe.vae.config["force_upcast"])
        undo()
        self.assertFalse(pipe.vae.config["force_upcast"])
        be.prepare(pipe, plan.copy(scheduler=params.SDXL_SAMPLERS["Euler a"]))
        self.assertEqual(type(pipe.scheduler).__name__, "EulerAncestralDiscreteScheduler")
        self.assertNotIn("use_karras_sigmas", pipe.scheduler.config)


if __name__ == "__main__":
    unittest.main()
