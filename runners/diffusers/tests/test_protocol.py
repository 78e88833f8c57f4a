"""The runner as a child process over pipes, in stand-in test mode: the protocol end to end."""

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from helpers import ROOT, model_cache, read_png_size


class Runner:
    def __init__(self, step_ms=0, extra_env=None):
        env = dict(os.environ, GOONI_DIFFUSERS_STANDIN="1", GOONI_MODEL_CACHE=model_cache(),
                   GOONI_DIFFUSERS_STANDIN_STEP_DELAY=str(step_ms), PYTHONPATH=ROOT)
        env.update(extra_env or {})
        self.p = subprocess.Popen([sys.executable, "-m", "gooni_diffusers"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env)
        self.lines = queue.Queue()
        self.stderr = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self.stderr.extend(self.p.stderr), daemon=True).start()

    def _read(self):
        for raw in self.p.stdout:
            self.lines.put(raw)
        self.lines.put(None)

    def send(self, m):
        self.p.stdin.write((m if isinstance(m, str) else json.dumps(m)).encode() + b"\n")
        self.p.stdin.flush()

    def recv(self, timeout=20):
        raw = self.lines.get(timeout=timeout)
        if raw is None:
            return None
        return json.loads(raw)  # every stdout line must be JSON

    def until(self, typ, timeout=30):
        seen = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = self.recv(deadline - time.time())
            if m is None:
                raise AssertionError("stdout closed; saw %s" % seen)
            seen.append(m)
            if m["type"] == typ:
                return m, seen
        raise AssertionError("no %s within %ss: %s" % (typ, timeout, seen))

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        for f in (self.p.stdin, self.p.stdout, self.p.stderr):
            try:
                f.close()
            except OSError:
                pass


def gen(rid, out, prompt="a fox", **p):
    params = {"prompt": prompt, "seed": 42, "width": 256, "height": 256, "steps": 20}
    params.update(p)
    return {"type": "generate", "id": rid, "model": "pony", "kind": "image", "mode": "txt2img", "params": params,
            "inputs": [], "output_dir": out, "output_format": "png"}


class ProtocolTest(unittest.TestCase):
    def setUp(self):
        self.r = None

    def tearDown(self):
        if self.r:
            self.r.close()

    def test_session_ready_load_generate_cancel_busy_shutdown(self):
        r = self.r = Runner(step_ms=30)
        self.assertEqual(r.recv(), {"type": "ready", "protocol": 1, "runner": "diffusers", "version": "1", "device": "standin"})
        r.send({"type": "load", "model": "pony"})
        loaded, _ = r.until("loaded")
        self.assertEqual(loaded["model"], "pony")
        self.assertIsInstance(loaded["elapsed_ms"], int)

        out = tempfile.mkdtemp()
        r.send(gen("t1", out))
        res, seen = r.until("result")
        self.assertEqual([(m["step"], m["total"]) for m in seen if m.get("stage") == "inference"], [(i, 20) for i in range(1, 21)])
        self.assertTrue(all(m.get("id") == "t1" for m in seen))
        self.assertEqual((res["path"], res["mime"], res["width"], res["height"]), (os.path.join(out, "result.png"), "image/png", 256, 256))
        self.assertEqual(read_png_size(res["path"]), (256, 256))

        # cancel mid-steps; a generate while one runs is runner_busy
        out2 = tempfile.mkdtemp()
        r.send(gen("t2", out2, steps=60))
        m = r.recv()
        while m.get("stage") != "inference" or m["step"] < 3:
            m = r.recv()
        r.send(gen("t3", tempfile.mkdtemp()))
        busy, _ = r.until("error")
        self.assertEqual((busy["id"], busy["code"], busy["retryable"]), ("t3", "runner_busy", True))
        r.send({"type": "cancel", "id": "nope"})  # ignored
        t0 = time.time()
        r.send({"type": "cancel", "id": "t2"})
        c, seen = r.until("cancelled")
        self.assertEqual(c, {"type": "cancelled", "id": "t2"})
        self.assertLess(time.time() - t0, 1.0)
        self.assertEqual(os.listdir(out2), [])

        # bad lines
        r.send("{not json")
        e, _ = r.until("error")
        self.assertNotIn("id", e)
        self.assertEqual(e["code"], "invalid_input")
        r.send({"type": "frobnicate", "id": "x"})
        e, _ = r.until("error")
        self.assertEqual((e["id"], e["code"]), ("x", "invalid_input"))

        # OOM, then the runner still serves
        r.send(gen("t4", tempfile.mkdtemp(), prompt="[standin:oom-at=2]"))
        e, _ = r.until("error")
        self.assertEqual((e["id"], e["code"], e["retryable"]), ("t4", "gpu_memory_exceeded", False))
        self.assertIn("reduce resolution, frames or steps", e["message"])
        r.send(gen("t5", tempfile.mkdtemp(), steps=20))
        res, _ = r.until("result")
        self.assertEqual(res["id"], "t5")

        r.send({"type": "shutdown"})
        self.assertIsNone(r.recv())
        self.assertEqual(r.p.wait(10), 0)
        log = b"".join(r.stderr).decode()
        self.assertIn("TEST MODE", log)
        self.assertNotIn("a fox", log)  # prompts are never logged

    def test_eof_during_a_request_exits_zero(self):
        r = self.r = Runner(step_ms=50)
        r.recv()
        r.send(gen("t1", tempfile.mkdtemp(), steps=100))
        r.until("progress")
        r.p.stdin.close()
        self.assertEqual(r.p.wait(10), 0)

    def test_load_failure_is_an_error_without_id(self):
        r = self.r = Runner(extra_env={"GOONI_MODEL_CACHE": tempfile.mkdtemp()})
        r.recv()
        r.send({"type": "load", "model": "pony"})
        e, _ = r.until("error")
        self.assertNotIn("id", e)
        self.assertEqual(e["code"], "internal_error")
        self.assertIn("weights not found", e["message"])
        r.send({"type": "load", "model": "nosuch"})
        e, _ = r.until("error")
        self.assertEqual(e["code"], "invalid_input")

    def test_bad_output_dir_is_invalid_input(self):
        r = self.r = Runner()
        r.recv()
        r.send({"type": "generate", "id": "p", "model": "pony", "kind": "image", "mode": "txt2img",
                "params": {"prompt": "x", "seed": 1, "width": 256, "height": 256, "steps": 20}, "output_dir": "/nonexistent"})
        e, _ = r.until("error")
        self.assertEqual(e["code"], "invalid_input")


class StdoutRedirectTest(unittest.TestCase):
    def test_print_goes_to_stderr(self):
        code = ("import os, sys; sys.argv=['x']; import gooni_diffusers.__main__ as m;"
                "import gooni_diffusers.server as s; orig=s.Server.serve\n"
                "def serve(self, stdin):\n print('library banner'); os.write(1, b'fd1 noise\\n'); return orig(self, stdin)\n"
                "s.Server.serve=serve; m.main()")
        env = dict(os.environ, GOONI_DIFFUSERS_STANDIN="1", PYTHONPATH=ROOT)
        p = subprocess.run([sys.executable, "-c", code], input=b"", capture_output=True, env=env, timeout=20)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.decode().splitlines()
        self.assertEqual([json.loads(x)["type"] for x in lines], ["ready"])
        self.assertIn(b"library banner", p.stderr)
        self.assertIn(b"fd1 noise", p.stderr)


if __name__ == "__main__":
    unittest.main()
