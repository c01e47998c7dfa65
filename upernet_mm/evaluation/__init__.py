"""Evaluation: metrics registered in upernet_mm's METRICS."""
from .metrics import *  # noqa: F401,F403
