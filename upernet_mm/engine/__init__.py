"""Training and testing with mmengine's Runner: hooks, optimizer wrappers,
AMP and distributed set-up on CPU, and what tools/train.py and tools/test.py
share (``runner_setup``)."""
from .hooks import *  # noqa: F401,F403
