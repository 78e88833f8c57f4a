#!/usr/bin/env python3
"""Smoke test of the diffusers runner on a GPU host with the weights in GOONI_MODEL_CACHE: one
image per image model and one short video per video model, each through a fresh runner process
speaking the protocol, exactly as a GPU worker drives it.

    GOONI_MODEL_CACHE=/srv/models python3 runners/diffusers/smoke.py --out /tmp/gooni-smoke
    python3 runners/diffusers/smoke.py --models pony,anisora --out /tmp/gooni-smoke

It prints one line per model (load time, generation time, result file) and exits 1 when any
failed. --standin runs it with the test-mode stand-in pipelines (no GPU needed; not a model).
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

REQUESTS = {
    "pony": ("image", "txt2img", {"prompt": "score_9, a lighthouse at dusk, detailed", "width": 1024, "height": 1024,
                                  "steps": 25, "sampler": "DPM++ 2M Karras", "cfg_scale": 7.0, "clip_skip": 2, "seed": 1}),
    "flux": ("image", "txt2img", {"prompt": "a lighthouse at dusk, photograph", "width": 1024, "height": 1024, "steps": 20,
                                  "distilled_cfg": 3.5, "seed": 1}),
    "anisora": ("video", "t2v", {"prompt": "anime girl walking on a beach, waves", "width": 832, "height": 480,
                                 "num_frames": 49, "fps": 16, "seed": 1}),
    "phr00t": ("video", "t2v", {"prompt": "a cat walking through tall grass", "width": 832, "height": 480, "num_frames": 49,
                                "fps": 16, "lighting_variant": "low_noise", "seed": 1}),
}


def run_one(model, out_dir, env, size, timeout):
    kind, mode, params = REQUESTS[model]
    params = dict(params)
    if size:
        params["width"], params["height"] = size
    if kind == "video" and size:
        params["num_frames"] = 9
    rdir = os.path.join(out_dir, model)
    os.makedirs(rdir, exist_ok=True)
    p = subprocess.Popen([sys.executable, "-m", "gooni_diffusers"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                         text=True)

    def recv():
        line = p.stdout.readline()
        if not line:
            raise RuntimeError("runner exited (%s)" % p.poll())
        return json.loads(line)

    def send(m):
        p.stdin.write(json.dumps(m) + "\n")
        p.stdin.flush()

    try:
        ready = recv()
        t0 = time.time()
        send({"type": "load", "model": model})
        m = recv()
        if m["type"] != "loaded":
            return False, "load failed: %s: %s" % (m.get("code"), m.get("message"))
        load_s = time.time() - t0
        t0 = time.time()
        send({"type": "generate", "id": "smoke-" + model, "model": model, "kind": kind, "mode": mode, "params": params,
              "inputs": [], "output_dir": os.path.abspath(rdir), "output_format": ""})
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = recv()
            if m["type"] == "progress":
                continue
            if m["type"] == "result":
                return True, "device=%s load=%.1fs generate=%.1fs %s %dx%d%s" % (
                    ready.get("device"), load_s, time.time() - t0, m["path"], m["width"], m["height"],
                    " poster=" + m["poster"] if m.get("poster") else "")
            return False, "%s: %s" % (m.get("code"), m.get("message"))
        return False, "no result within %ds" % timeout
    finally:
        try:
            send({"type": "shutdown"})
            p.stdin.close()
            p.wait(30)
        except Exception:  # noqa: BLE001
            p.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="pony,flux,anisora,phr00t")
    ap.add_argument("--out", default="gooni-smoke")
    ap.add_argument("--size", default="", help="WxH override (and 9 frames for videos), e.g. 256x256")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per generation")
    ap.add_argument("--standin", action="store_true", help="test mode: stand-in pipelines, not the models")
    a = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if a.standin:
        env["GOONI_DIFFUSERS_STANDIN"] = "1"
    size = tuple(int(v) for v in a.size.split("x")) if a.size else None
    ok_all = True
    for model in a.models.split(","):
        ok, line = run_one(model, a.out, env, size, a.timeout)
        ok_all &= ok
        print("%-8s %s %s" % (model, "OK  " if ok else "FAIL", line), flush=True)
    sys.exit(0 if ok_all else 1)


if __name__ == "__main__":
    main()
