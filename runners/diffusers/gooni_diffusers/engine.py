"""One generate request, from the message to its final message: plan, load when needed, decode
inputs, run the pipeline with a step callback that reports progress and stops on cancel, check
the output with the bounded retry, write the result. Device out-of-memory becomes
gpu_memory_exceeded and the memory is freed afterwards."""

import inspect
import time

from . import media, params
from .errors import Cancelled, RunnerError, INTERNAL, is_oom, oom_error

# Keyword arguments a pipeline version may not accept: dropped (with a log line) rather than
# failing the request. Anything else a pipeline refuses is a bug and fails loudly.
OPTIONAL_KWARGS = ("true_cfg_scale", "clip_skip", "max_sequence_length")


def fit_kwargs(pipe, kwargs, log):
    """kwargs without the optional ones pipe's __call__ does not take."""
    try:
        sig = inspect.signature(pipe.__call__)
    except (TypeError, ValueError):
        return kwargs
    if any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
        return kwargs
    out = {}
    for k, v in kwargs.items():
        if k in OPTIONAL_KWARGS and k not in sig.parameters:
            log("pipeline %s does not take %s: not applied" % (type(pipe).__name__, k))
            continue
        out[k] = v
    return out


class Job:
    """What a request needs from the server: its id, how to send, whether it was cancelled."""

    def __init__(self, rid, send, cancel_event, log):
        self.id, self.send, self.cancel_event, self.log = rid, send, cancel_event, log

    def cancelled(self):
        return self.cancel_event.is_set()

    def progress(self, step, total, stage):
        self.send({"type": "progress", "id": self.id, "step": step, "total": total, "stage": stage})


def error_message(rid, e):
    m = {"type": "error", "code": e.code, "message": e.message, "retryable": bool(e.retryable)}
    if rid:
        m["id"] = rid
    return m


def generate(backend, msg, job, environ=None):
    """Serves one generate message; returns its final message (result, error or cancelled)."""
    start = time.monotonic()
    rid = msg.get("id") or ""
    oom = False
    try:
        try:
            return _generate(backend, msg, job, environ, start)
        except Cancelled:
            job.log("request %s cancelled after %.2fs" % (rid, time.monotonic() - start))
            return {"type": "cancelled", "id": rid}
        except RunnerError as e:
            job.log("request %s failed: %s: %s" % (rid, e.code, e.message))
            return error_message(rid, e)
        except Exception as e:  # noqa: BLE001: every failure is answered
            if is_oom(e):
                oom = True
                job.log("request %s: device out of memory" % rid)
                return error_message(rid, oom_error())
            job.log("request %s failed: %s: %s" % (rid, type(e).__name__, str(e)[:500]))
            return error_message(rid, RunnerError(INTERNAL, "%s: %s" % (type(e).__name__, str(e)[:300]), retryable=True))
    finally:
        # Outside the except blocks, so the traceback (which holds the tensors) is gone.
        if oom:
            backend.free_memory()


def _generate(backend, msg, job, environ, start):
    req = params.parse_generate(msg)
    spec = backend.model_spec(req.model)
    plan = params.plan(spec, req)
    ffmpeg = None
    if plan.kind == "video" or plan.images or plan.keyframes or plan.format == "jpeg":
        ffmpeg = media.find_ffmpeg(environ)  # before any step: nothing can come of it without
    job.log("request %s: %s %s %dx%d steps=%d frames=%d" % (req.id, req.model, req.mode, plan.width, plan.height,
                                                           plan.steps, plan.num_frames))
    if job.cancelled():
        raise Cancelled()
    if not backend.is_loaded(req.model, plan.variant):
        job.progress(0, 1, "loading_model")
        t = time.monotonic()
        backend.load(req.model, plan.variant)
        job.log("loaded %s (variant %s) in %.1fs" % (req.model, plan.variant, time.monotonic() - t))
        job.progress(1, 1, "loading_model")
    if job.cancelled():
        raise Cancelled()

    images = {}
    lib = backend.lib
    for kw, inp in plan.images.items():
        img = lib.image_from_rgb(media.decode_image(ffmpeg, inp.path, plan.width, plan.height))
        images[kw] = [img] if kw == "reference_images" else img
    if plan.keyframes:
        decoded = [(fi, st, media.decode_image(ffmpeg, inp.path, plan.width, plan.height)) for fi, st, inp in plan.keyframes]
        frames, levels = params.keyframe_conditioning(decoded, plan.num_frames, plan.width, plan.height)
        images["video"] = [lib.image_from_rgb(f) if f is not None else lib.gray_image(128, plan.width, plan.height)
                           for f in frames]
        images["mask"] = [lib.gray_image(level, plan.width, plan.height) for level in levels]

    frames_out, tried = None, []
    for attempt in params.attempts(plan, spec):
        if job.cancelled():
            raise Cancelled()
        pipe = backend.pipeline(attempt.pipeline)
        undo = backend.prepare(pipe, attempt)

        def on_step_end(p, step_index, timestep, callback_kwargs, attempt=attempt):
            if job.cancelled():
                raise Cancelled()
            total = getattr(p, "num_timesteps", None) or attempt.total
            job.progress(min(step_index + 1, total), total, "inference")
            return callback_kwargs

        kwargs = fit_kwargs(pipe, dict(attempt.kwargs), job.log)
        kwargs.update(images)
        kwargs["generator"] = backend.generator(attempt.seed)
        kwargs["callback_on_step_end"] = on_step_end
        kwargs["callback_on_step_end_tensor_inputs"] = ["latents"]
        try:
            out = pipe(**kwargs)
        finally:
            undo()
        frames = backend.frames(out, plan.kind)
        why = media.check_output(frames, attempt.check, plan.kind)
        if why is None:
            frames_out = frames
            break
        tried.append("%s: %s" % (attempt.label, why))
        job.log("request %s: output rejected (%s, seed %d)" % (req.id, why, attempt.seed))
        del out, frames
    if frames_out is None:
        raise RunnerError(INTERNAL, "the model produced an unusable picture %d time(s) (%s): try another prompt, sampler "
                          "or size" % (len(tried), "; ".join(tried)), retryable=False)
    if job.cancelled():
        raise Cancelled()
    return _write(frames_out, plan, req, job, ffmpeg, start)


def _write(frames, plan, req, job, ffmpeg, start):
    w, h = frames.width, frames.height
    if plan.kind == "image":
        job.progress(0, 1, "encoding")
        data = frames.frame_bytes(0)
        if plan.format == "jpeg":
            path = media.write_jpeg(ffmpeg, req.output_dir, "result.jpg", w, h, data)
        else:
            path = media.write_png(req.output_dir, "result.png", w, h, data)
        job.log("request %s done in %.2fs" % (req.id, time.monotonic() - start))
        return {"type": "result", "id": req.id, "path": path, "mime": plan.mime, "width": w, "height": h}
    got = media.encode_video(ffmpeg, req.output_dir, plan.format, frames, plan.fps,
                             lambda i: job.progress(i, frames.count, "encoding"), job.cancelled, job.log)
    if got is None:
        raise Cancelled()
    path, poster = got
    job.progress(frames.count, frames.count, "encoding")
    job.log("request %s done in %.2fs" % (req.id, time.monotonic() - start))
    return {"type": "result", "id": req.id, "path": path, "mime": plan.mime, "width": w, "height": h, "poster": poster}
