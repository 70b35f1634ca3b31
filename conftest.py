"""Tests load only the bundled plugins, never whatever else happens to be installed."""

import os

os.environ["C2M_LOAD_PLUGINS"] = "c2m.tv,c2m.fridge,c2m.toilet_seat"
