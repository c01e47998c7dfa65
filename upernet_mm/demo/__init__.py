"""A local web page to look at a model's predictions (``tools/demo.py``):
:class:`DemoApp` (decode, segment, describe) behind :class:`DemoServer`
(Python's ``http.server``, one plain page, no outside resources)."""
from .app import (DemoApp, DemoInputError, decode_image,
                  synthetic_scenes_examples)
from .server import DemoServer

__all__ = [
    'DemoApp', 'DemoInputError', 'DemoServer', 'decode_image',
    'synthetic_scenes_examples'
]
