"""Entry point: python3 -m gooni_diffusers (or runners/diffusers/runner.py).

stdout is the protocol only: the real stdout is kept for it and file descriptor 1 (and
sys.stdout) are pointed at stderr, so that a library's print or banner cannot break the
protocol. Logs go to stderr and never carry prompts."""

import os
import sys


def main():
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", newline="\n")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    from . import backend, modelmap, server, standin
    from .errors import RunnerError

    def log(line):
        sys.stderr.write("gooni-diffusers: %s\n" % line)
        sys.stderr.flush()

    if standin.enabled():
        lib, device = standin.StandinLibrary(), "standin"
        log("TEST MODE: %s=1, stand-in pipelines (procedural pictures, not a model)" % standin.ENV_STANDIN)
    else:
        lib = backend.Library()
        device = os.environ.get(backend.ENV_DEVICE, "").strip() or "cuda"
    try:
        models = modelmap.load_map()
    except RunnerError as e:
        log(e.message)
        models = {}
    be = backend.Backend(lib, models, log=log)
    srv = server.Server(be, proto, log, device)
    srv.serve(sys.stdin.buffer)
    proto.flush()
    # A request that did not stop within the grace period runs in a daemon thread: leave now.
    os._exit(1 if srv.write_failed else 0)


if __name__ == "__main__":
    main()
