import os
import tempfile
import unittest

from helpers import MODELS
from gooni_diffusers import params
from gooni_diffusers.errors import RunnerError


def msg(model, mode, kind="image", inputs=None, fmt="", **p):
    out = tempfile.mkdtemp()
    base = {"prompt": "a fox", "seed": 42, "width": 512, "height": 512}
    base.update(p)
    return {"type": "generate", "id": "t1", "model": model, "kind": kind, "mode": mode, "params": base,
            "inputs": inputs or [], "output_dir": out, "output_format": fmt}


def plan(m):
    return params.plan(MODELS[m["model"]], params.parse_generate(m))


def inp(field, frame_index=-1, strength=0.0):
    return {"field": field, "path": "/in/" + field.replace("[", "_").replace("]", ""), "mime": "image/png",
            "frame_index": frame_index, "strength": strength}


class Invalid(unittest.TestCase):
    def assertInvalid(self, m, code="invalid_input", text=""):
        with self.assertRaises(RunnerError) as cm:
            plan(m)
        self.assertEqual(cm.exception.code, code, cm.exception.message)
        self.assertIn(text, cm.exception.message)
        self.assertFalse(cm.exception.retryable)


class PonyTest(Invalid):
    def test_txt2img_defaults(self):
        p = plan(msg("pony", "txt2img"))
        self.assertEqual(p.pipeline, "txt2img")
        self.assertEqual(p.kwargs, {"prompt": "a fox", "negative_prompt": None, "width": 512, "height": 512,
                                    "num_inference_steps": 25, "guidance_scale": 7.0, "clip_skip": None,
                                    "output_type": "np"})
        self.assertEqual(p.scheduler, ("EulerAncestralDiscreteScheduler", {}))
        self.assertEqual((p.seed, p.total, p.format, p.mime), (42, 25, "png", "image/png"))

    def test_samplers(self):
        self.assertEqual(plan(msg("pony", "txt2img", sampler="DPM++ 2M Karras")).scheduler,
                         ("DPMSolverMultistepScheduler", {"use_karras_sigmas": True, "algorithm_type": "dpmsolver++",
                                                          "solver_order": 2}))
        self.assertEqual(plan(msg("pony", "txt2img", sampler="DPM++ SDE Karras")).scheduler,
                         ("DPMSolverSDEScheduler", {"use_karras_sigmas": True}))
        self.assertInvalid(msg("pony", "txt2img", sampler="DDIM"), text="sampler 'DDIM'")

    def test_clip_skip(self):
        got = {cs: plan(msg("pony", "txt2img", clip_skip=cs)).kwargs["clip_skip"] for cs in (1, 2, 3, 4)}
        self.assertEqual(got, {1: -1, 2: None, 3: 1, 4: 2})
        self.assertInvalid(msg("pony", "txt2img", clip_skip=2.5), text="whole number")

    def test_img2img(self):
        p = plan(msg("pony", "img2img", inputs=[inp("reference_image")], steps=30, denoising_strength=0.5, cfg_scale=5.5))
        self.assertEqual(p.pipeline, "img2img")
        self.assertNotIn("width", p.kwargs)
        self.assertEqual((p.kwargs["strength"], p.total, p.kwargs["guidance_scale"]), (0.5, 15, 5.5))
        self.assertEqual(p.images["image"].field, "reference_image")
        self.assertInvalid(msg("pony", "img2img"), text="reference_image")
        self.assertInvalid(msg("pony", "img2img", inputs=[inp("reference_image")], denoising_strength=0.0),
                           text="no step")

    def test_invalid_values(self):
        self.assertInvalid(msg("pony", "txt2img", steps=0), text="steps")
        self.assertInvalid(msg("pony", "txt2img", steps="many"), text="steps must be a number")
        self.assertInvalid(msg("pony", "txt2img", width=513), text="multiple of 8")
        self.assertInvalid(msg("pony", "txt2img", seed=-5), text="seed")
        self.assertInvalid(msg("pony", "txt2img", fmt="gif"), text="output_format")
        self.assertInvalid(msg("pony", "t2v", kind="video"), text="makes images")
        self.assertInvalid(msg("pony", "inpaint"), code="not_supported_yet")

    def test_unknown_params_are_ignored_and_big_seeds_exact(self):
        p = plan(msg("pony", "txt2img", lora="x", seed=2 ** 60 + 1))
        self.assertEqual(p.seed, 2 ** 60 + 1)
        self.assertEqual(plan(msg("pony", "txt2img", fmt="jpeg")).mime, "image/jpeg")

    def test_attempts_bounded(self):
        p = plan(msg("pony", "txt2img", steps=20, cfg_scale=11, sampler="DPM++ SDE Karras", clip_skip=4))
        a = params.attempts(p, MODELS["pony"])
        self.assertEqual([x.label for x in a], ["requested", "new seed", "safe preset"])
        self.assertEqual(a[1].seed, 42 + 1000003)
        self.assertEqual(a[1].kwargs, p.kwargs)
        safe = a[2]
        self.assertEqual(safe.scheduler, ("EulerAncestralDiscreteScheduler", {}))
        self.assertEqual((safe.kwargs["guidance_scale"], safe.kwargs["clip_skip"], safe.steps, safe.seed, safe.vae_fp32),
                         (6.0, None, 25, 42 + 1000003, True))
        self.assertEqual(len(params.attempts(plan(msg("flux", "txt2img")), MODELS["flux"])), 1)


class FluxTest(Invalid):
    def test_txt2img(self):
        p = plan(msg("flux", "txt2img", distilled_cfg=4.0, negative_prompt="blur"))
        self.assertEqual(p.kwargs, {"prompt": "a fox", "width": 512, "height": 512, "num_inference_steps": 20,
                                    "guidance_scale": 4.0, "max_sequence_length": 512, "output_type": "np"})
        self.assertIsNone(p.scheduler)

    def test_true_cfg(self):
        p = plan(msg("flux", "txt2img", guidance_scale=3.0, negative_prompt="blur"))
        self.assertEqual((p.kwargs["true_cfg_scale"], p.kwargs["negative_prompt"], p.kwargs["guidance_scale"]), (3.0, "blur", 3.5))

    def test_img2img_and_limits(self):
        p = plan(msg("flux", "img2img", inputs=[inp("reference_image")], steps=20, denoising_strength=0.6))
        self.assertEqual((p.pipeline, p.kwargs["strength"], p.total, p.kwargs["width"]), ("img2img", 0.6, 12, 512))
        self.assertInvalid(msg("flux", "txt2img", width=520), text="multiple of 16")
        self.assertInvalid(msg("flux", "txt2img", sampler="Euler a"), text="sampler")


class AnisoraTest(Invalid):
    def vid(self, mode, **kw):
        kw.setdefault("num_frames", 49)
        return msg("anisora", mode, kind="video", **kw)

    def test_t2v(self):
        p = plan(self.vid("t2v", motion_score=2.5, guidance_scale=2.0))
        self.assertEqual(p.pipeline, "t2v")
        self.assertEqual(p.kwargs["prompt"], "a fox aesthetic score: 5.0. motion score: 2.5.")
        self.assertEqual((p.kwargs["num_inference_steps"], p.total, p.kwargs["num_frames"], p.kwargs["guidance_scale"]),
                         (8, 8, 49, 2.0))
        self.assertEqual((p.format, p.mime, p.fps), ("mp4", "video/mp4", 16))

    def test_steps_fixed(self):
        self.assertEqual(plan(self.vid("t2v", steps=8)).steps, 8)
        self.assertInvalid(self.vid("t2v", steps=20), text="steps is fixed at 8")
        self.assertInvalid(self.vid("t2v", num_frames=50), text="4k+1")

    def test_i2v_and_first_last(self):
        p = plan(self.vid("i2v", inputs=[inp("reference_image")]))
        self.assertEqual((p.pipeline, list(p.images)), ("i2v", ["image"]))
        p = plan(self.vid("first_last_frame", inputs=[inp("last_frame_image"), inp("first_frame_image")], fmt="webm"))
        self.assertEqual(p.images["image"].field, "first_frame_image")
        self.assertEqual(p.images["last_image"].field, "last_frame_image")
        self.assertEqual(p.mime, "video/webm")
        self.assertInvalid(self.vid("first_last_frame", inputs=[inp("first_frame_image")]), text="last_frame_image")

    def test_arbitrary_frame_keyframes_ordered(self):
        ins = [inp("arbitrary_frames[0].image", 40, 0.9), inp("arbitrary_frames[1].image", 0),
               inp("arbitrary_frames[2].image", 12, 0.5), inp("reference_image")]
        p = plan(self.vid("arbitrary_frame", inputs=ins))
        self.assertEqual(p.pipeline, "vace")
        self.assertEqual([(fi, st, i.field) for fi, st, i in p.keyframes],
                         [(0, 0.85, "arbitrary_frames[1].image"), (12, 0.5, "arbitrary_frames[2].image"),
                          (40, 0.9, "arbitrary_frames[0].image")])
        self.assertEqual(p.images["reference_images"].field, "reference_image")
        frames, levels = params.keyframe_conditioning([(fi, st, "img%d" % fi) for fi, st, _ in p.keyframes], 49, 8, 8)
        self.assertEqual((frames[0], frames[12], frames[40], frames[1]), ("img0", "img12", "img40", None))
        self.assertEqual((levels[0], levels[12], levels[40], levels[5]), (38, 128, 25, 255))
        self.assertInvalid(self.vid("arbitrary_frame", inputs=[inp("arbitrary_frames[0].image", 49)]), text="outside")
        self.assertInvalid(self.vid("arbitrary_frame", inputs=[inp("arbitrary_frames[0].image", 3),
                                                               inp("arbitrary_frames[1].image", 3)]), text="two keyframes")
        self.assertInvalid(self.vid("arbitrary_frame"), text="arbitrary_frames")


class Phr00tTest(Invalid):
    def vid(self, mode, **kw):
        kw.setdefault("num_frames", 49)
        return msg("phr00t", mode, kind="video", **kw)

    def test_fixed_steps_cfg_and_variant(self):
        p = plan(self.vid("t2v"))
        self.assertEqual((p.kwargs["num_inference_steps"], p.kwargs["guidance_scale"], p.variant), (4, 1.0, "low_noise"))
        self.assertEqual(p.kwargs["prompt"], "a fox")
        self.assertEqual(plan(self.vid("t2v", lighting_variant="high_noise")).variant, "high_noise")
        self.assertInvalid(self.vid("t2v", lighting_variant="bright"), text="lighting_variant")
        self.assertInvalid(self.vid("t2v", cfg_scale=2.0), text="cfg_scale is fixed at 1.0")
        self.assertInvalid(self.vid("t2v", steps=8), text="steps is fixed at 4")
        self.assertInvalid(self.vid("arbitrary_frame"), code="not_supported_yet")

    def test_i2v_modes(self):
        self.assertEqual(plan(self.vid("i2v", inputs=[inp("reference_image")])).pipeline, "i2v")
        p = plan(self.vid("first_last_frame", inputs=[inp("first_frame_image"), inp("last_frame_image")]))
        self.assertEqual(sorted(p.images), ["image", "last_image"])


class MessageTest(Invalid):
    def test_bad_messages(self):
        for bad, text in [({"output_dir": "rel"}, "absolute"), ({"output_dir": "/nonexistent-dir"}, "not a directory"),
                          ({"params": [1]}, "JSON object"), ({"kind": "audio"}, "kind"), ({"model": ""}, "model"),
                          ({"inputs": [{"field": "reference_image", "path": "x"}]}, "not absolute")]:
            m = msg("pony", "txt2img")
            m.update(bad)
            with self.assertRaises(RunnerError) as cm:
                params.parse_generate(m)
            self.assertEqual(cm.exception.code, "invalid_input")
            self.assertIn(text, cm.exception.message)
        os.rmdir(msg("pony", "txt2img")["output_dir"])


if __name__ == "__main__":
    unittest.main()
