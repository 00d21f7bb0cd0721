"""Settings for the catalogue benchmark: the real settings plus a bare view.

Used only by `tests/perf/bench_catalogue.py` (DJANGO_SETTINGS_MODULE=tests.perf.settings);
everything else is read from the environment exactly as in production.
"""

import os
from pathlib import Path

from config.settings import *  # noqa: F403
from config.settings import TEMPLATES

PERF_DIR = Path(__file__).resolve().parent

ROOT_URLCONF = "tests.perf.urls"

TEMPLATES = [
    {**TEMPLATES[0], "DIRS": [*TEMPLATES[0]["DIRS"], PERF_DIR / "templates"]},
    *TEMPLATES[1:],
]

# The benchmark collects static files into a temporary directory of its own.
if os.environ.get("BENCH_STATIC_ROOT"):
    STATIC_ROOT = Path(os.environ["BENCH_STATIC_ROOT"])
