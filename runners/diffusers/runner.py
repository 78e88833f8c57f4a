#!/usr/bin/env python3
"""Starts the diffusers runner: python3 runners/diffusers/runner.py (same as
python3 -m gooni_diffusers with runners/diffusers on PYTHONPATH)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gooni_diffusers.__main__ import main  # noqa: E402

if __name__ == "__main__":
    main()
