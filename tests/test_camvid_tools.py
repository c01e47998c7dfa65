"""CamVid through the generic tools: tools/train.py --check-data (the data
check keeps void, 11, as CamVidDataset maps it, and names a file with a
label outside the classes) and tools/analysis_tools/browse_dataset.py on
the CPU recipe with the shared copy."""
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config

from helpers import ROOT, run_tool
from helpers.camvid import CAMVID, needs_camvid, write_segnet_layout
from upernet_mm.engine.data_startup_check import DataCheckError, check_data
from upernet_mm.utils import register_all_modules

RECIPE = osp.join(ROOT, 'configs', 'camvid',
                  'upernet_convnext-atto_1xb8-3k_camvid-256x256.py')

register_all_modules(init_default_scope=False)


def _labels(bad_value=None):
    label = np.zeros((24, 32), np.uint8)
    label[:, 16:] = 11  # void
    label[12:, :8] = 10
    maps = [label, label.copy()]
    if bad_value is not None:
        maps[1][:2, :3] = bad_value
    return maps


def _config(root):
    cfg = Config.fromfile(RECIPE)
    for loader in ('train_dataloader', 'val_dataloader'):
        cfg[loader].dataset.data_root = str(root)
        cfg[loader].dataset.data_prefix = dict(
            img_path='train', seg_map_path='trainannot')
    return cfg


def test_check_data_accepts_void_and_names_a_bad_label(tmp_path):
    write_segnet_layout(tmp_path / 'ok', _labels())
    sizes = check_data(_config(tmp_path / 'ok'), check_files=True)
    assert set(sizes.values()) == {2}
    write_segnet_layout(tmp_path / 'bad', _labels(bad_value=12))
    with pytest.raises(DataCheckError) as info:
        check_data(_config(tmp_path / 'bad'), check_files=True)
    message = str(info.value)
    assert osp.join(str(tmp_path / 'bad'), 'trainannot', '0001.png') in \
        message and '12 (6 pixels)' in message and 'outside 0..10' in message


@needs_camvid
def test_check_data_on_the_shared_val_split():
    cfg = Config.fromfile(RECIPE)
    cfg.val_dataloader.dataset.data_root = CAMVID
    sizes = check_data(cfg, check_files=True, loaders=('val_dataloader', ))
    assert sizes == {'val_dataloader.dataset': 101}


@pytest.mark.slow
def test_train_check_data_stops_on_a_bad_label(tmp_path):
    root = write_segnet_layout(tmp_path / 'bad', _labels(bad_value=12))
    out = run_tool(
        'train.py',
        RECIPE,
        '--check-data',
        '--work-dir',
        tmp_path / 'work',
        '--cfg-options',
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        'val_dataloader.dataset.data_prefix.img_path=train',
        'val_dataloader.dataset.data_prefix.seg_map_path=trainannot',
        check=False,
        timeout=900)
    assert out.returncode != 0
    assert osp.join('trainannot', '0001.png') in out.stderr
    assert '12 (6 pixels)' in out.stderr
    assert not osp.exists(tmp_path / 'work' / 'iter_1.pth')


@pytest.mark.slow
@needs_camvid
def test_browse_dataset_on_shared_camvid(tmp_path):
    out_dir = tmp_path / 'browse'
    out = run_tool(
        'analysis_tools/browse_dataset.py',
        RECIPE,
        '--out-dir',
        out_dir,
        '-n',
        '2',
        '--cfg-options',
        f'train_dataloader.dataset.data_root={CAMVID}',
        timeout=900)
    files = sorted(os.listdir(out_dir))
    assert len(files) == 2 and files[0].startswith('0000_0001TP_'), files
    assert 'wrote 2 samples of the train pipeline' in out.stdout
