"""The protocol loop (runners/PROTOCOL.md, version 1): ready, then load / generate / cancel /
shutdown lines from stdin, one request at a time in a worker thread, every answer one JSON line
on the protocol stream. Shutdown or the end of stdin cancels a running request and returns."""

import json
import threading
import time

from . import PROTOCOL_VERSION, RUNNER_NAME, RUNNER_VERSION, engine
from .errors import RunnerError, INVALID_INPUT, RUNNER_BUSY, INTERNAL, is_oom, oom_error

MAX_LINE = 1 << 20
# How long shutdown waits for a cancelled request to stop before returning anyway.
STOP_WAIT = 4.0


class Server:
    def __init__(self, backend, out, log, device, environ=None):
        self.backend, self.out, self.log, self.device = backend, out, log, device
        self.environ = environ
        self.lock = threading.Lock()
        self.cur = None  # (id, cancel event, thread, finished event)
        self.write_failed = False

    def send(self, m):
        line = json.dumps(m, separators=(",", ":")) + "\n"
        with self.lock:
            if self.write_failed:
                return
            try:
                self.out.write(line)
                self.out.flush()
            except (OSError, ValueError):
                self.write_failed = True

    def serve(self, stdin):
        """Serves lines from stdin (a binary stream) until shutdown or EOF."""
        self.send({"type": "ready", "protocol": PROTOCOL_VERSION, "runner": RUNNER_NAME, "version": RUNNER_VERSION,
                   "device": self.device})
        try:
            while True:
                raw = stdin.readline(MAX_LINE + 1)
                if not raw:
                    self.log("stopping: stdin closed")
                    return
                if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                    self.send(engine.error_message("", RunnerError(INVALID_INPUT, "line longer than 1 MiB")))
                    while raw and not raw.endswith(b"\n"):
                        raw = stdin.readline(MAX_LINE + 1)
                    continue
                if not raw.strip():
                    continue
                try:
                    m = json.loads(raw)
                    if not isinstance(m, dict) or not isinstance(m.get("type"), str):
                        raise ValueError("not an object with a type")
                except ValueError as e:
                    self.log("bad message from worker: %s" % e)
                    self.send(engine.error_message("", RunnerError(INVALID_INPUT, "bad message: %s" % e)))
                    continue
                if self.handle(m) == "stop":
                    return
        finally:
            self.stop()

    def busy(self):
        # finished is set just before the final message is written: from then on the next
        # request is accepted (the worker sends it only after reading that message).
        return self.cur is not None and not self.cur[3].is_set()

    def handle(self, m):
        t, rid = m["type"], m.get("id") if isinstance(m.get("id"), str) else ""
        if t in ("load", "generate"):
            if self.busy():
                self.send(engine.error_message(rid, RunnerError(RUNNER_BUSY, "another request is running", retryable=True)))
                return None
            cancel, finished = threading.Event(), threading.Event()
            work = self._load if t == "load" else self._generate

            def run():
                final = work(m, cancel)
                finished.set()
                self.send(final)
            th = threading.Thread(target=run, name="gooni-" + t, daemon=True)
            self.cur = (rid, cancel, th, finished)
            th.start()
        elif t == "cancel":
            if self.busy() and rid and self.cur[0] == rid:
                self.cur[1].set()
        elif t == "shutdown":
            self.log("stopping: shutdown requested")
            return "stop"
        else:
            self.send(engine.error_message(rid, RunnerError(INVALID_INPUT, "unknown message type %r" % t)))
        return None

    def stop(self):
        """Cancels a running request and waits (bounded) for it, then frees the device."""
        if self.cur is not None:
            _, cancel, th, _ = self.cur
            cancel.set()
            th.join(STOP_WAIT)
            if th.is_alive():
                self.log("the running request did not stop within %.0fs; exiting anyway" % STOP_WAIT)
        try:
            self.backend.unload()
        except Exception as e:  # noqa: BLE001
            self.log("unload: %s" % e)

    def _load(self, m, cancel):
        model = m.get("model")
        start = time.monotonic()
        try:
            if not isinstance(model, str) or not model:
                raise RunnerError(INVALID_INPUT, "load: model is empty")
            spec = self.backend.model_spec(model)
            self.backend.load(model, self.backend.default_variant(spec))
        except RunnerError as e:
            self.log("load %s failed: %s: %s" % (model, e.code, e.message))
            return engine.error_message("", e)
        except Exception as e:  # noqa: BLE001
            oom = is_oom(e)
            self.log("load %s failed: %s: %s" % (model, type(e).__name__, str(e)[:500]))
            err = oom_error() if oom else RunnerError(INTERNAL, "load %s: %s: %s" % (model, type(e).__name__, str(e)[:300]))
            del e
            if oom:
                self.backend.free_memory()
            return engine.error_message("", err)
        elapsed = int((time.monotonic() - start) * 1000)
        self.log("model %s loaded in %d ms" % (model, elapsed))
        return {"type": "loaded", "model": model, "elapsed_ms": elapsed}

    def _generate(self, m, cancel):
        rid = m.get("id") if isinstance(m.get("id"), str) else ""
        job = engine.Job(rid, self.send, cancel, self.log)
        return engine.generate(self.backend, m, job, self.environ)
