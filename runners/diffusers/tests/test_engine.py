"""generate(): progress, cancel, OOM, output checks with the bounded retry, outputs."""

import os
import shutil
import subprocess
import tempfile
import threading
import unittest

from helpers import Recorder, read_png_pixels, read_png_size, standin_backend, write_png
from gooni_diffusers import engine


def run(be, env, model="pony", mode="txt2img", kind="image", inputs=None, fmt="", cancel=None, **p):
    out = tempfile.mkdtemp()
    base = {"prompt": "a fox", "seed": 42, "width": 256, "height": 256}
    base.update(p)
    m = {"type": "generate", "id": "t1", "model": model, "kind": kind, "mode": mode, "params": base,
         "inputs": inputs or [], "output_dir": out, "output_format": fmt}
    rec = Recorder()
    job = engine.Job("t1", rec.send, cancel or threading.Event(), lambda line: None)
    final = engine.generate(be, m, job, env)
    return final, rec, out


class ImageTest(unittest.TestCase):
    def test_txt2img_progress_per_step_and_png(self):
        be, env = standin_backend()
        final, rec, out = run(be, env, steps=20)
        self.assertEqual(final["type"], "result", final)
        self.assertEqual([m["stage"] for m in rec.of("progress", "loading_model")], ["loading_model"] * 2)
        steps = rec.of("progress", "inference")
        self.assertEqual([(m["step"], m["total"]) for m in steps], [(i, 20) for i in range(1, 21)])
        self.assertEqual((final["path"], final["mime"], final["width"], final["height"]),
                         (os.path.join(out, "result.png"), "image/png", 256, 256))
        self.assertEqual(read_png_size(final["path"]), (256, 256))
        self.assertEqual(os.listdir(out), ["result.png"])
        # Warm: the second request does not load again.
        final, rec, _ = run(be, env, steps=20, seed=7)
        self.assertEqual(rec.of("progress", "loading_model"), [])
        call = be.pipeline("txt2img").calls[-1]
        self.assertEqual((call["generator"].seed, call["clip_skip"], call["output_type"]), (7, None, "np"))

    def test_img2img_uses_reference_and_total_by_strength(self):
        if not shutil.which("ffmpeg"):
            self.skipTest("ffmpeg missing")
        be, env = standin_backend()
        ref = os.path.join(tempfile.mkdtemp(), "ref.png")
        write_png(ref, 64, 32, (250, 10, 10))
        final, rec, _ = run(be, env, mode="img2img", steps=20, denoising_strength=0.25,
                            inputs=[{"field": "reference_image", "path": ref, "mime": "image/png", "frame_index": -1, "strength": 0}])
        self.assertEqual(final["type"], "result", final)
        self.assertEqual([m["total"] for m in rec.of("progress", "inference")], [5] * 5)
        w, h, px = read_png_pixels(final["path"])
        self.assertEqual((w, h), (256, 256))
        self.assertGreater(px[0], 150)  # mostly the red reference
        self.assertEqual(type(be.pipeline("img2img").calls[-1]["image"]).__name__, "RGBImage")

    def test_jpeg(self):
        if not shutil.which("ffmpeg"):
            self.skipTest("ffmpeg missing")
        be, env = standin_backend()
        final, _, _ = run(be, env, model="flux", fmt="jpeg", steps=15)
        self.assertEqual((final["mime"], final["path"][-4:]), ("image/jpeg", ".jpg"))
        with open(final["path"], "rb") as f:
            self.assertEqual(f.read(2), b"\xff\xd8")

    def test_cancel_between_steps(self):
        be, env = standin_backend()
        cancel = threading.Event()

        class CancelAtStep3(Recorder):
            def send(self, m):
                super().send(m)
                if m.get("stage") == "inference" and m["step"] == 3:
                    cancel.set()  # as the server does when a cancel line arrives
        rec = CancelAtStep3()
        out = tempfile.mkdtemp()
        m = {"type": "generate", "id": "t1", "model": "pony", "kind": "image", "mode": "txt2img",
             "params": {"prompt": "x", "seed": 1, "width": 256, "height": 256, "steps": 30}, "output_dir": out}
        final = engine.generate(be, m, engine.Job("t1", rec.send, cancel, lambda line: None), env)
        self.assertEqual(final, {"type": "cancelled", "id": "t1"})
        self.assertEqual(max(p["step"] for p in rec.of("progress", "inference")), 3)
        self.assertEqual(os.listdir(out), [])
        self.assertEqual(len(be.pipeline("txt2img").calls), 1)

    def test_oom_is_gpu_memory_exceeded_and_frees_memory(self):
        be, env = standin_backend()
        final, rec, out = run(be, env, prompt="big [standin:oom-at=2]", steps=20)
        self.assertEqual(final, {"type": "error", "id": "t1", "code": "gpu_memory_exceeded", "retryable": False,
                                 "message": "the request does not fit in GPU memory: reduce resolution, frames or steps"})
        self.assertEqual(be.lib.free_calls, 1)
        self.assertEqual(be.lib.torch.cuda.empty_cache_calls, 1)
        self.assertEqual(os.listdir(out), [])
        final, _, _ = run(be, env, steps=20)  # still serves
        self.assertEqual(final["type"], "result")

    def test_invalid_input(self):
        be, env = standin_backend()
        final, rec, _ = run(be, env, sampler="LMS")
        self.assertEqual((final["type"], final["code"], final["retryable"]), ("error", "invalid_input", False))
        self.assertEqual(rec.msgs, [])

    def test_nan_retried_with_new_seed(self):
        be, env = standin_backend()
        final, rec, _ = run(be, env, prompt="[standin:nan-seeds=42]", steps=20)
        self.assertEqual(final["type"], "result", final)
        calls = be.pipeline("txt2img").calls
        self.assertEqual([c["generator"].seed for c in calls], [42, 42 + 1000003])

    def test_collapse_retried_with_safe_preset(self):
        be, env = standin_backend()
        final, rec, _ = run(be, env, prompt="[standin:uniform-cfg-above=6.5]", steps=20, cfg_scale=9, sampler="DPM++ SDE Karras")
        self.assertEqual(final["type"], "result", final)
        calls = be.pipeline("txt2img").calls
        self.assertEqual([c["guidance_scale"] for c in calls], [9.0, 9.0, 6.0])
        self.assertEqual(calls[-1]["num_inference_steps"], 25)
        self.assertEqual(type(be.pipeline("txt2img").scheduler).__name__, "EulerAncestralDiscreteScheduler")
        self.assertFalse(be.pipeline("txt2img").vae.config["force_upcast"])  # restored after the run
        _, _, px = read_png_pixels(final["path"])
        self.assertGreater(len(set(px)), 10)

    def test_always_bad_fails_clearly_after_three_attempts(self):
        be, env = standin_backend()
        final, _, out = run(be, env, prompt="[standin:uniform-seeds=all]", steps=20)
        self.assertEqual((final["type"], final["code"], final["retryable"]), ("error", "internal_error", False))
        self.assertIn("unusable picture 3 time(s)", final["message"])
        self.assertIn("safe preset", final["message"])
        self.assertEqual(len(be.pipeline("txt2img").calls), 3)
        self.assertEqual(os.listdir(out), [])

    def test_flux_nan_not_retried(self):
        be, env = standin_backend()
        final, _, _ = run(be, env, model="flux", prompt="[standin:nan-seeds=all]", steps=15)
        self.assertEqual(final["code"], "internal_error")
        self.assertEqual(len(be.pipeline("txt2img").calls), 1)


@unittest.skipUnless(shutil.which("ffmpeg") and shutil.which("ffprobe"), "ffmpeg/ffprobe missing")
class VideoTest(unittest.TestCase):
    def probe(self, path):
        out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                              "stream=codec_name,pix_fmt,width,height,nb_read_frames", "-of", "default=noprint_wrappers=1", path],
                             capture_output=True, text=True, check=True).stdout
        return dict(line.split("=", 1) for line in out.split())

    def test_anisora_t2v_mp4_with_poster(self):
        be, env = standin_backend()
        final, rec, out = run(be, env, model="anisora", mode="t2v", kind="video", num_frames=9, fps=8)
        self.assertEqual(final["type"], "result", final)
        self.assertEqual([m["step"] for m in rec.of("progress", "inference")], list(range(1, 9)))
        self.assertEqual([m["step"] for m in rec.of("progress", "encoding")], list(range(1, 10)))
        self.assertEqual(self.probe(final["path"]),
                         {"codec_name": "h264", "pix_fmt": "yuv420p", "width": "256", "height": "256", "nb_read_frames": "9"})
        self.assertEqual(read_png_size(final["poster"]), (256, 256))
        self.assertEqual(sorted(os.listdir(out)), ["poster.png", "result.mp4"])

    def test_anisora_arbitrary_frame_keyframes_by_index(self):
        be, env = standin_backend()
        d = tempfile.mkdtemp()
        red, blue = os.path.join(d, "r.png"), os.path.join(d, "b.png")
        write_png(red, 16, 16, (255, 0, 0))
        write_png(blue, 16, 16, (0, 0, 255))
        ins = [{"field": "arbitrary_frames[0].image", "path": blue, "frame_index": 8, "strength": 1.0},
               {"field": "arbitrary_frames[1].image", "path": red, "frame_index": 0, "strength": 0.5}]
        final, _, _ = run(be, env, model="anisora", mode="arbitrary_frame", kind="video", num_frames=9, fps=8, inputs=ins,
                          fmt="webm")
        self.assertEqual(final["type"], "result", final)
        call = be.pipeline("vace").calls[-1]
        self.assertEqual(call["video"][0].data[:3], b"\xff\x00\x00")
        self.assertEqual(call["video"][8].data[:3], b"\x00\x00\xff")
        self.assertEqual(call["video"][4].data[:3], b"\x80\x80\x80")
        self.assertEqual([m.data[0] for m in call["mask"]], [128, 255, 255, 255, 255, 255, 255, 255, 0])
        self.assertEqual(self.probe(final["path"])["codec_name"], "vp9")

    def test_phr00t_first_last_and_variant_switch(self):
        be, env = standin_backend()
        d = tempfile.mkdtemp()
        a, b = os.path.join(d, "a.png"), os.path.join(d, "b.png")
        write_png(a, 8, 8, (0, 255, 0))
        write_png(b, 8, 8, (255, 255, 0))
        ins = [{"field": "first_frame_image", "path": a}, {"field": "last_frame_image", "path": b}]
        final, rec, _ = run(be, env, model="phr00t", mode="first_last_frame", kind="video", num_frames=5, fps=8, inputs=ins)
        self.assertEqual(final["type"], "result", final)
        call = be.pipeline("i2v").calls[-1]
        self.assertEqual((call["num_inference_steps"], call["guidance_scale"]), (4, 1.0))
        self.assertEqual((call["image"].data[:3], call["last_image"].data[:3]), (b"\x00\xff\x00", b"\xff\xff\x00"))
        final, rec, _ = run(be, env, model="phr00t", mode="t2v", kind="video", num_frames=5, fps=8, lighting_variant="high_noise")
        self.assertEqual(final["type"], "result", final)
        self.assertEqual(len(rec.of("progress", "loading_model")), 2)
        self.assertIn("high-noise", be.pipeline("t2v").transformer.source)

    def test_encoder_unavailable_before_any_step(self):
        be, env = standin_backend()
        env["GOONI_FFMPEG"] = "/nonexistent/ffmpeg"
        final, rec, _ = run(be, env, model="anisora", mode="t2v", kind="video", num_frames=9)
        self.assertEqual(final["code"], "encoder_unavailable")
        self.assertEqual(rec.msgs, [])


if __name__ == "__main__":
    unittest.main()
