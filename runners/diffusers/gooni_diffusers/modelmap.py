"""The model map: which weights each catalogue model uses and how they are loaded. It is data
(runners/diffusers/models.json, or the file named by GOONI_DIFFUSERS_MODELS); paths in it are
resolved against the model cache directory GOONI_MODEL_CACHE."""

import json
import os

from .errors import RunnerError, INTERNAL, INVALID_INPUT

ENV_MODELS = "GOONI_DIFFUSERS_MODELS"
ENV_CACHE = "GOONI_MODEL_CACHE"

DEFAULT_MAP = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models.json")

FAMILIES = {"sdxl", "flux", "wan"}


def map_path(environ=None):
    environ = os.environ if environ is None else environ
    return environ.get(ENV_MODELS, "").strip() or DEFAULT_MAP


def load_map(path=None, environ=None):
    """Reads and checks the model map; a broken file is an internal_error naming the file."""
    path = path or map_path(environ)
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except (OSError, ValueError) as e:
        raise RunnerError(INTERNAL, "model map %s: %s (set %s to a valid file)" % (path, e, ENV_MODELS))
    models = {}
    for model_id, spec in raw.items():
        if model_id.startswith("_"):
            continue
        if not isinstance(spec, dict) or spec.get("family") not in FAMILIES or spec.get("kind") not in ("image", "video"):
            raise RunnerError(INTERNAL, "model map %s: %s needs a family (%s) and a kind (image or video)"
                              % (path, model_id, ", ".join(sorted(FAMILIES))))
        spec = dict(spec)
        spec["id"] = model_id
        models[model_id] = spec
    return models


def spec_for(models, model_id):
    spec = models.get(model_id)
    if spec is None:
        raise RunnerError(INVALID_INPUT, "model %r is not in the diffusers runner's model map (known: %s)"
                          % (model_id, ", ".join(sorted(models))))
    return spec


def cache_dir(environ=None):
    environ = os.environ if environ is None else environ
    d = environ.get(ENV_CACHE, "").strip()
    if not d:
        raise RunnerError(INTERNAL, "%s is not set: point it at the directory holding the model weights" % ENV_CACHE)
    if not os.path.isdir(d):
        raise RunnerError(INTERNAL, "%s=%s is not a directory" % (ENV_CACHE, d))
    return d


def resolve(cache, rel):
    """Resolves a single-file path of the map: absolute as is, else inside the cache."""
    return rel if os.path.isabs(rel) else os.path.join(cache, rel)
