"""Gooni's diffusers runner: a runner process (see runners/PROTOCOL.md, version 1) that serves
one catalogue model with Hugging Face diffusers on a GPU.

torch and diffusers are imported only by :mod:`gooni_diffusers.backend` when a model is loaded,
so the protocol loop, the parameter mapping, cancellation, error mapping and the output checks
import and run without them (the tests drive them with the stand-in pipelines of
:mod:`gooni_diffusers.standin`).
"""

RUNNER_NAME = "diffusers"
RUNNER_VERSION = "1"
PROTOCOL_VERSION = 1
