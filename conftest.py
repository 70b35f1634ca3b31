"""Settings for the whole suite, plugins' tests included.

Tests load only the bundled plugins, never whatever else happens to be installed. Property tests
never depend on how fast the machine is: the ``c2m`` hypothesis profile has no deadline and no
too-slow health check (set ``HYPOTHESIS_PROFILE`` to use another registered profile).
"""

import os

from hypothesis import HealthCheck, settings

os.environ["C2M_LOAD_PLUGINS"] = "c2m.tv,c2m.fridge,c2m.toilet_seat,c2m.sofa"

settings.register_profile("c2m", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "c2m"))
