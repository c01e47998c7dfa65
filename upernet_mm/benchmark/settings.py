"""Sizes of the benchmark's sections: the full run and the ``--quick`` one
(small sizes, for the test)."""
import os.path as osp

from .candidates import REPO_CONFIGS

SECTIONS = ('head', 'model', 'layers', 'train', 'slide', 'accuracy')
QUICK_START = osp.join(REPO_CONFIGS, 'upernet_convnext.py')

FULL = dict(
    head=dict(image=(512, 512), channels=512, classes=150, batch=2),
    model=dict(arch='tiny', image=(512, 512), channels=512, classes=150),
    layers=dict(arch='tiny', image=(512, 512), channels=512, classes=150),
    accuracy=dict(),
    train=dict(steps=3),
    slide=dict(
        arch='tiny',
        image=(1024, 2048),
        crop=(512, 512),
        stride=(341, 341),
        batch_size=6,
        reps=2),
    conv=dict(channels=512, size=128),
)
QUICK = dict(
    head=dict(image=(64, 64), channels=32, classes=5, batch=2),
    model=dict(arch='atto', image=(64, 64), channels=32, classes=5),
    layers=dict(arch='atto', image=(64, 64), channels=32, classes=5),
    accuracy=dict(),
    train=dict(steps=1, batch=2, crop=(64, 64)),
    slide=dict(
        arch='atto',
        image=(96, 128),
        crop=(64, 64),
        stride=(48, 48),
        batch_size=3,
        reps=1),
    conv=dict(channels=64, size=32),
)
