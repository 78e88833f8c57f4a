"""Error codes of the runner protocol and the classification of exceptions into them."""

INVALID_INPUT = "invalid_input"
NOT_SUPPORTED_YET = "not_supported_yet"
ENCODER_UNAVAILABLE = "encoder_unavailable"
GPU_MEMORY_EXCEEDED = "gpu_memory_exceeded"
RUNNER_BUSY = "runner_busy"
INTERNAL = "internal_error"

OOM_MESSAGE = "the request does not fit in GPU memory: reduce resolution, frames or steps"


class RunnerError(Exception):
    """A failure reported to the worker as an ``error`` message."""

    def __init__(self, code, message, retryable=False):
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable

    def __repr__(self):
        return "RunnerError(%r, %r, retryable=%r)" % (self.code, self.message, self.retryable)


class Cancelled(Exception):
    """Raised from the step callback when the request was cancelled: stops the pipeline
    between two steps."""


def invalid(fmt, *args):
    return RunnerError(INVALID_INPUT, fmt % args if args else fmt)


def is_oom(exc):
    """Reports whether exc (or an exception it was raised from) is a device out-of-memory error:
    torch.cuda.OutOfMemoryError (any class named OutOfMemoryError in the MRO, so torch need
    not be imported to classify it) or a RuntimeError with CUDA's out-of-memory text."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        for cls in type(exc).__mro__:
            if cls.__name__ == "OutOfMemoryError":
                return True
        text = str(exc)
        if "CUDA out of memory" in text or "CUDA error: out of memory" in text:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def oom_error():
    return RunnerError(GPU_MEMORY_EXCEEDED, OOM_MESSAGE, retryable=False)
