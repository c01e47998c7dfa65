"""Where the shared CamVid copy is, and the mark for tests that need it.

The real data (research-only licence) stays in ``../shared/data`` beside
the repository and is never copied into it; CI has it.
"""
import os.path as osp

import pytest

from . import ROOT

SHARED_DATA = osp.join(osp.dirname(ROOT), 'shared', 'data')
CAMVID = osp.join(SHARED_DATA, 'camvid')
CAMVID_CLASSES = ('sky', 'building', 'pole', 'road', 'pavement', 'tree',
                  'sign_symbol', 'fence', 'car', 'pedestrian', 'bicyclist')

needs_camvid = pytest.mark.skipif(
    not osp.isdir(osp.join(CAMVID, 'trainannot')),
    reason=f'the shared CamVid copy is not at {CAMVID} (../shared/data/camvid '
    'beside the repository; CI has it)')
