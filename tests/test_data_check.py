"""Start-up data checks: each kind of bad data gives a DataCheckError naming
the file (or folder) and the value, before any training step."""
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from helpers import ROOT, TOOLS, make_seg_folder, tiny_train_config, tool_env
from upernet_mm.datasets.checks import DataCheckError
from upernet_mm.engine.data_startup_check import check_data


@pytest.fixture
def data(tmp_path):
    root = make_seg_folder(tmp_path / 'data', num_images=4)
    make_seg_folder(root, num_images=2, split='validation', seed=1)
    return root


def _cfg(tmp_path, data_root, **model_changes):
    cfg = tiny_train_config(data_root=data_root)
    cfg['model']['decode_head'].update(model_changes)
    path = str(tmp_path / 'cfg.py')
    Config(cfg).dump(path)
    return Config.fromfile(path)


def _ann(root, i=1, split='training'):
    return str(root / 'annotations' / split / f'{i:04d}.png')


def _img(root, i=1, split='training'):
    return str(root / 'images' / split / f'{i:04d}.png')


def _raises(cfg, *needles, check_files=True):
    with pytest.raises(DataCheckError) as info:
        check_data(cfg, check_files=check_files)
    msg = str(info.value)
    for needle in needles:
        assert str(needle) in msg, msg
    return msg


def test_good_data_passes(tmp_path, data):
    # 255 (the ignore index) is allowed next to the classes 0..3
    label = cv2.imread(_ann(data), cv2.IMREAD_UNCHANGED)
    label[:2] = 255
    cv2.imwrite(_ann(data), label)
    sizes = check_data(_cfg(tmp_path, data), check_files=True)
    assert sizes == {
        'train_dataloader.dataset': 4,
        'val_dataloader.dataset': 2
    }


def test_label_value_not_below_num_classes(tmp_path, data):
    label = cv2.imread(_ann(data), cv2.IMREAD_UNCHANGED)
    label[3:5, 7:10] = 7  # 6 pixels of a class the 4-class model lacks
    cv2.imwrite(_ann(data), label)
    cfg = _cfg(tmp_path, data)
    check_data(cfg)  # the cheap checks do not decode the files
    _raises(cfg, _ann(data), '7 (6 pixels)', 'num_classes=4',
            'ignore index 255')


def test_label_checked_after_reduce_zero_label(tmp_path, data):
    cfg = _cfg(tmp_path, data)
    for loader in ('train_dataloader', 'val_dataloader'):
        cfg[loader].dataset.reduce_zero_label = True
    label = cv2.imread(_ann(data), cv2.IMREAD_UNCHANGED)
    label[0, 0] = 5  # 5 - 1 = 4 >= 4 classes; 0 becomes 255 and is fine
    cv2.imwrite(_ann(data), label)
    _raises(cfg, _ann(data), '4 (1 pixels) after reduce_zero_label')


@pytest.mark.parametrize('which', ['image', 'annotation'])
def test_truncated_png(tmp_path, data, which):
    path = _img(data) if which == 'image' else _ann(data)
    with open(path, 'rb') as f:
        content = f.read()
    with open(path, 'wb') as f:
        f.write(content[:len(content) // 2])
    _raises(
        _cfg(tmp_path, data), f'{which} {path} cannot be decoded',
        'corrupt or truncated')


def test_truncated_jpeg_image(tmp_path, data):
    # OpenCV decodes a truncated JPEG with a grey bottom and a warning only
    cfg = _cfg(tmp_path, data)
    for loader in ('train_dataloader', 'val_dataloader'):
        cfg[loader].dataset.img_suffix = '.jpg'
    for split in ('training', 'validation'):
        folder = data / 'images' / split
        for name in os.listdir(folder):
            img = cv2.imread(str(folder / name))
            os.remove(folder / name)
            cv2.imwrite(str(folder / name.replace('.png', '.jpg')), img)
    path = str(data / 'images' / 'training' / '0002.jpg')
    with open(path, 'rb') as f:
        content = f.read()
    with open(path, 'wb') as f:
        f.write(content[:-200])
    assert cv2.imread(path) is not None
    _raises(cfg, f'image {path} cannot be decoded', 'truncated')


def test_garbage_annotation_and_empty_image(tmp_path, data):
    with open(_ann(data), 'wb') as f:
        f.write(b'not a png at all')
    _raises(_cfg(tmp_path, data), f'annotation {_ann(data)} cannot be decoded')
    open(_ann(data), 'wb').close()
    _raises(_cfg(tmp_path, data), f'annotation {_ann(data)} is an empty file')


def test_size_mismatch(tmp_path, data):
    label = cv2.imread(_ann(data), cv2.IMREAD_UNCHANGED)
    cv2.imwrite(_ann(data), label[:30])
    _raises(
        _cfg(tmp_path, data), f'image {_img(data)} is 32x40',
        f'annotation {_ann(data)} is 30x40')


def test_rgb_annotation(tmp_path, data):
    label = cv2.imread(_ann(data), cv2.IMREAD_UNCHANGED)
    cv2.imwrite(_ann(data), np.stack([label, label * 2, label], axis=-1))
    _raises(_cfg(tmp_path, data), f'annotation {_ann(data)} has 3 channels')


def test_image_without_annotation(tmp_path, data):
    os.remove(_ann(data))
    # found without decoding, so always checked
    _raises(
        _cfg(tmp_path, data),
        '1 image(s) without annotation',
        f'image {_img(data)} has no annotation: {_ann(data)}',
        check_files=False)


def test_empty_split_folder(tmp_path, data):
    folder = data / 'images' / 'validation'
    for name in os.listdir(folder):
        os.remove(folder / name)
    # found without decoding, so always checked
    _raises(
        _cfg(tmp_path, data),
        'is empty', f'{folder} has no file ending '
        "in '.png'",
        check_files=False)


def test_wrong_suffix_lists_what_is_there(tmp_path, data):
    cfg = _cfg(tmp_path, data)
    cfg.train_dataloader.dataset.img_suffix = '.jpg'
    _raises(
        cfg,
        "has no file ending in '.jpg'",
        'holds 0000.png',
        check_files=False)


def test_wrong_data_root(tmp_path, data):
    wrong = str(tmp_path / 'dta')
    _raises(
        _cfg(tmp_path, wrong),
        f"data_root '{wrong}' is not a folder",
        f'its parent {tmp_path} holds',
        'data',
        check_files=False)


def test_missing_split_folder(tmp_path, data):
    cfg = _cfg(tmp_path, data)
    cfg.val_dataloader.dataset.data_prefix.seg_map_path = 'annotations/val'
    _raises(
        cfg, 'data_prefix.seg_map_path folder '
        f'{data}/annotations/val does not exist',
        check_files=False)


def test_num_classes_disagrees_with_dataset(tmp_path, data):
    _raises(
        _cfg(tmp_path, data, num_classes=150),
        'model.decode_head.num_classes=150',
        'train_dataloader.dataset (BaseSegDataset',
        'has 4 classes',
        '(bg, a, b, c)',
        check_files=False)


@pytest.mark.slow
def test_train_tool_check_data_fails_before_training(tmp_path, data):
    label = cv2.imread(_ann(data, 0), cv2.IMREAD_UNCHANGED)
    label[0, 0] = 9
    cv2.imwrite(_ann(data, 0), label)
    cfg = str(tmp_path / 'tiny.py')
    Config(tiny_train_config(data_root=data)).dump(cfg)
    out = subprocess.run([
        sys.executable,
        osp.join(TOOLS, 'train.py'), cfg, '--work-dir',
        str(tmp_path / 'work'), '--check-data'
    ],
                         env=tool_env(),
                         capture_output=True,
                         text=True,
                         timeout=300,
                         cwd=ROOT)
    logs = out.stdout + out.stderr
    assert out.returncode != 0
    assert 'DataCheckError' in logs and _ann(data, 0) in logs
    assert '9 (1 pixels)' in logs
    assert 'Iter(train)' not in logs  # no training step was run


def test_16bit_annotation_values_above_255(tmp_path, data):
    label = cv2.imread(_ann(data), cv2.IMREAD_UNCHANGED).astype(np.uint16)
    label[0, 0] = 300  # LoadAnnotations would make it 44 silently
    cv2.imwrite(_ann(data), label)
    _raises(
        _cfg(tmp_path, data), f'annotation {_ann(data)} holds values '
        '[300] > 255')


def test_datasets_inside_wrappers_are_checked(tmp_path, data):
    cfg = _cfg(tmp_path, data)
    inner = cfg.train_dataloader.dataset
    cfg.train_dataloader.dataset = dict(
        type='ConcatDataset',
        datasets=[dict(type='RepeatDataset', times=2, dataset=inner), inner])
    sizes = check_data(cfg)
    assert sizes['train_dataloader.dataset.datasets[0].dataset'] == 4
    os.remove(_ann(data, 3))
    _raises(cfg, f'image {_img(data, 3)} has no annotation')


def test_other_dataset_types_are_skipped(tmp_path, data):
    cfg = _cfg(tmp_path, data)
    cfg.val_dataloader.dataset = dict(
        type='mmengine.BaseDataset', data_root='/nonexistent')
    assert check_data(cfg) == {'train_dataloader.dataset': 4}


def test_exif_rotated_image_against_unrotated_annotation(tmp_path, data):
    # OpenCV (training) turns a 32x40 JPEG with EXIF orientation 6 into
    # 40x32, while the annotation stays 32x40
    from PIL import Image
    cfg = _cfg(tmp_path, data)
    cfg.train_dataloader.dataset.img_suffix = '.jpg'
    folder = data / 'images' / 'training'
    for name in os.listdir(folder):
        img = Image.open(folder / name).convert('RGB')
        exif = img.getexif()
        if name == '0001.png':
            exif[0x0112] = 6
        img.save(folder / name.replace('.png', '.jpg'), exif=exif)
    _raises(
        cfg, f"image {folder / '0001.jpg'} is 40x32 (h x w) after the "
        'EXIF orientation that OpenCV applies', 'is 32x40')


# Decoding as the pipeline does; negative labels, decompression bombs, every
# head's ignore index, pad values, symlink loops and file names


def _warnings_of(fn):
    import logging

    from mmengine.logging import MMLogger
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        fn()
    finally:
        logger.removeHandler(handler)
    return '\n'.join(r.getMessage() for r in records
                     if r.levelno == logging.WARNING)


def test_image_pillow_reads_but_the_pipelines_opencv_does_not(tmp_path, data):
    from PIL import Image

    # a TGA file under a .png name: Pillow decodes it (the old check passed
    # it), OpenCV, which LoadImageFromFile uses, does not
    Image.open(_img(data)).save(_img(data), format='TGA')
    assert cv2.imread(_img(data)) is None
    _raises(
        _cfg(tmp_path, data), f'image {_img(data)} cannot be decoded',
        "('cv2', the imdecode_backend of the pipeline's "
        'LoadImageFromFile)')
    # with imdecode_backend='pillow' in the pipeline it is fine
    cfg = _cfg(tmp_path, data)
    for loader in ('train_dataloader', 'val_dataloader'):
        cfg[loader].dataset.pipeline[0]['imdecode_backend'] = 'pillow'
    check_data(cfg, check_files=True)


def test_negative_values_in_a_32bit_annotation(tmp_path, data):
    from PIL import Image
    cfg = _cfg(tmp_path, data)
    for loader in ('train_dataloader', 'val_dataloader'):
        cfg[loader].dataset.seg_map_suffix = '.tif'
    for split in ('training', 'validation'):
        folder = data / 'annotations' / split
        for name in os.listdir(folder):
            label = cv2.imread(str(folder / name), cv2.IMREAD_UNCHANGED)
            label = label.astype(np.int32)
            if (split, name) == ('training', '0001.png'):
                label[0, :3] = -1
            Image.fromarray(
                label, mode='I').save(folder / name.replace('.png', '.tif'))
            os.remove(folder / name)
    bad = str(data / 'annotations' / 'training' / '0001.tif')
    _raises(cfg, f'annotation {bad} holds negative values [-1]',
            '-1 becomes 255')


def test_decompression_bomb_is_refused_before_decoding(tmp_path, data,
                                                       monkeypatch):
    from PIL import Image
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 1000)  # 32x40 = 1280
    _raises(
        _cfg(tmp_path, data), f'image {_img(data, 0)} is 32x40 (h x w)',
        'decompression-bomb check')


def test_every_heads_ignore_index_is_checked(tmp_path, data):
    # the decode head ignores 255 (the pad value), the auxiliary head does
    # not: found although the first head agrees
    cfg = _cfg(tmp_path, data)
    cfg.model.auxiliary_head = dict(
        type='FCNHead',
        in_channels=32,
        in_index=2,
        channels=8,
        num_convs=1,
        num_classes=4,
        ignore_index=3,
        norm_cfg=cfg.model.decode_head.norm_cfg)
    _raises(
        cfg, 'model.data_preprocessor.seg_pad_val=255 but '
        'model.auxiliary_head.ignore_index=3',
        check_files=False)
    # label values against each head's num_classes and ignore index
    cfg.model.data_preprocessor.seg_pad_val = 3
    cfg.model.decode_head.ignore_index = 3
    label = cv2.imread(_ann(data), cv2.IMREAD_UNCHANGED)
    label[0, 0] = 255
    cv2.imwrite(_ann(data), label)
    _raises(cfg, f'annotation {_ann(data)} has label value(s) 255 (1 pixels)',
            'model.decode_head.num_classes=4', 'not the ignore index 3')


def test_seg_pad_val_against_the_heads_ignore_index(tmp_path, data):
    cfg = _cfg(tmp_path, data)
    cfg.model.data_preprocessor.seg_pad_val = 0
    _raises(
        cfg, 'model.data_preprocessor.seg_pad_val=0 but '
        'model.decode_head.ignore_index=255',
        'trained as class 0',
        check_files=False)
    cfg = _cfg(tmp_path, data)
    cfg.train_dataloader.dataset.pipeline.insert(
        2, dict(type='Pad', size=(64, 64), seg_pad_val=7))
    _raises(
        cfg,
        'train_dataloader.dataset.pipeline[2] (Pad).seg_pad_val=7',
        'outside the classes',
        check_files=False)


def test_folder_symlink_loop_and_undecodable_names(tmp_path, data):
    folder = data / 'images' / 'training'
    os.symlink(folder, folder / 'again')
    _raises(
        _cfg(tmp_path, data),
        f'folder {folder / "again"} is a symlink',
        'which contains it',
        check_files=False)
    os.remove(folder / 'again')
    raw = os.fsencode(str(folder)) + b'/\xff.png'
    with open(raw, 'wb') as f:
        f.write(b'x')
    _raises(
        _cfg(tmp_path, data),
        'not valid UTF-8',
        "\\udcff.png",
        check_files=False)


def test_warnings_for_case_broken_links_and_annotations_without_image(
        tmp_path, data):
    images = data / 'images' / 'training'
    os.rename(images / '0002.png', images / '0002.PNG')
    os.symlink(images / 'nothing.png', images / 'dangling.png')
    cfg = _cfg(tmp_path, data)
    logs = _warnings_of(lambda: check_data(cfg))
    assert 'end in another case of \'.png\' and are not used' in logs
    assert str(images / '0002.PNG') in logs
    assert f'broken symlink(s) or symlink loop(s) in {images}' in logs
    assert '1 annotation file(s) in' in logs
    assert str(data / 'annotations' / 'training' / '0002.png') in logs
    # an image whose annotation differs in the case of its suffix
    os.rename(images / '0002.PNG', images / '0002.png')
    anns = data / 'annotations' / 'training'
    os.rename(anns / '0003.png', anns / '0003.PNG')
    os.remove(images / 'dangling.png')
    _raises(
        _cfg(tmp_path, data), '0003.PNG exists: suffixes are '
        'case-sensitive',
        check_files=False)
