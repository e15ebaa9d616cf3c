"""Test-wide settings.

Under CI (the CI variable set) the property tests run derandomized: the same examples every run,
so a landing is judged on the code, not on which random cases a run happened to draw. Locally
they stay random, which is how new counterexamples are found."""
from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
