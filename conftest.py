"""Every test in this repository, the plugins' under plugins/ included, runs with no
network but loopback (tests/netguard.py)."""

from tests import netguard

netguard.install()
