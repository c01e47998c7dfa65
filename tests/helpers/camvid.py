"""Where the shared CamVid copy is, the mark for tests that need it, and
builders for the converter tests: small folders in the original release's
format (written here from the published colour table, independently of
upernet_mm's tables).

The real data (research-only licence) stays in ``../shared/data`` beside
the repository and is never copied into it; CI has it.
"""
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from . import ROOT

SHARED_DATA = osp.join(osp.dirname(ROOT), 'shared', 'data')
CAMVID = osp.join(SHARED_DATA, 'camvid')
CAMVID_CLASSES = ('sky', 'building', 'pole', 'road', 'pavement', 'tree',
                  'sign_symbol', 'fence', 'car', 'pedestrian', 'bicyclist')

needs_camvid = pytest.mark.skipif(
    not osp.isdir(osp.join(CAMVID, 'trainannot')),
    reason=f'the shared CamVid copy is not at {CAMVID} (../shared/data/camvid '
    'beside the repository; CI has it)')

#: The release's label_colors.txt, as published (R G B, tab, name).
LABEL_COLORS_TXT = """\
64 128 64\tAnimal
192 0 128\tArchway
0 128 192\tBicyclist
0 128 64\tBridge
128 0 0\tBuilding
64 0 128\tCar
64 0 192\tCartLuggagePram
192 128 64\tChild
192 192 128\tColumn_Pole
64 64 128\tFence
128 0 192\tLaneMkgsDriv
192 0 64\tLaneMkgsNonDriv
128 128 64\tMisc_Text
192 0 192\tMotorcycleScooter
128 64 64\tOtherMoving
64 192 128\tParkingBlock
64 64 0\tPedestrian
128 64 128\tRoad
128 128 192\tRoadShoulder
0 0 192\tSidewalk
192 128 128\tSignSymbol
128 128 128\tSky
64 128 192\tSUVPickupTruck
0 0 64\tTrafficCone
0 64 64\tTrafficLight
192 64 128\tTrain
128 128 0\tTree
192 128 192\tTruck_Bus
64 0 64\tTunnel
192 192 0\tVegetationMisc
0 0 0\tVoid
64 192 0\tWall
"""

#: The 32-to-11 grouping as SegNet / MATLAB's camvidPixelLabelIDs give it
#: (sky 0, building 1, pole 2, road 3, pavement 4, tree 5, sign_symbol 6,
#: fence 7, car 8, pedestrian 9, bicyclist 10, void 11).
EXPECTED_INDEX = {
    'Sky': 0,
    'Building': 1,
    'Wall': 1,
    'Bridge': 1,
    'Tunnel': 1,
    'Archway': 1,
    'Column_Pole': 2,
    'TrafficCone': 2,
    'Road': 3,
    'LaneMkgsDriv': 3,
    'LaneMkgsNonDriv': 3,
    'Sidewalk': 4,
    'ParkingBlock': 4,
    'RoadShoulder': 4,
    'Tree': 5,
    'VegetationMisc': 5,
    'SignSymbol': 6,
    'Misc_Text': 6,
    'TrafficLight': 6,
    'Fence': 7,
    'Car': 8,
    'SUVPickupTruck': 8,
    'Truck_Bus': 8,
    'Train': 8,
    'OtherMoving': 8,
    'Pedestrian': 9,
    'Child': 9,
    'CartLuggagePram': 9,
    'Animal': 9,
    'Bicyclist': 10,
    'MotorcycleScooter': 10,
    'Void': 11
}


def release_colours():
    """name -> (r, g, b) of :data:`LABEL_COLORS_TXT`."""
    colours = {}
    for line in LABEL_COLORS_TXT.splitlines():
        r, g, b, name = line.split()
        colours[name] = (int(r), int(g), int(b))
    return colours


def write_release(root, frames, seed=0, size=(960, 720), extra_colour=None):
    """Write ``frames`` of the original CamVid release under ``root``:
    ``701_StillsRaw_full/<frame>.png`` (smooth RGB), ``LabeledApproved_full/
    <frame>_L.png`` (blocks of 2x2-aligned colours of the 32 classes, every
    class in every frame) and ``label_colors.txt``.

    Args:
        extra_colour (tuple | None): Paint a 3x5 patch of this colour (not
            in the table) into the first frame's label.

    Returns:
        dict: frame -> expected SegNet label (uint8, half size).
    """
    root = str(root)
    rng = np.random.default_rng(seed)
    colours = release_colours()
    names = sorted(colours)
    w, h = size
    images = osp.join(root, '701_StillsRaw_full')
    labels = osp.join(root, 'LabeledApproved_full')
    for folder in (images, labels):
        os.makedirs(folder, exist_ok=True)
    with open(osp.join(root, 'label_colors.txt'), 'w') as f:
        f.write(LABEL_COLORS_TXT)
    expected = {}
    for k, frame in enumerate(frames):
        # class names on the half-size grid, then doubled
        small = np.arange(h // 2 * (w // 2)) % len(names)
        small = rng.permutation(small).reshape(h // 2, w // 2)
        small[:h // 4] = rng.integers(len(names))  # a big uniform area
        rgb = np.asarray([colours[n] for n in names], np.uint8)[small]
        big = rgb.repeat(2, axis=0).repeat(2, axis=1)
        if extra_colour is not None and k == 0:
            big[10:13, 20:25] = extra_colour
        Image.fromarray(big).save(osp.join(labels, frame + '_L.png'))
        expected[frame] = np.asarray([EXPECTED_INDEX[n] for n in names],
                                     np.uint8)[small]
        yy, xx = np.mgrid[0:h, 0:w]
        image = np.stack([(xx * 255 // w), (yy * 255 // h),
                          np.full_like(xx, 40 * k % 256)], -1)
        Image.fromarray(image.astype(np.uint8)).save(
            osp.join(images, frame + '.png'))
    return expected


def write_segnet_layout(root, labels, split='train'):
    """Write a small SegNet-layout split under ``root``: for each label map
    of ``labels`` (uint8 arrays, 0..10, void 11) a random RGB image
    ``<split>/000N.png`` and the map ``<split>annot/000N.png``."""
    rng = np.random.default_rng(0)
    for folder in (split, split + 'annot'):
        os.makedirs(osp.join(str(root), folder), exist_ok=True)
    for i, label in enumerate(labels):
        name = f'{i:04d}.png'
        Image.fromarray(np.asarray(label, np.uint8)).save(
            osp.join(str(root), split + 'annot', name))
        Image.fromarray(
            rng.integers(0, 255, label.shape + (3, ), dtype=np.uint8)).save(
                osp.join(str(root), split, name))
    return root
