"""The CamVid CPU recipe, end to end on a few shared CamVid photographs:
tools/train.py with the real config (class-weighted losses with void
pixels, the fast path) lowers the loss, validates at full resolution and
tools/test.py prints the 11-class table."""
import json
import os.path as osp
import re

import pytest

from helpers import ROOT, run_tool
from helpers.camvid import CAMVID, CAMVID_CLASSES, needs_camvid

RECIPE = osp.join(ROOT, 'configs', 'camvid',
                  'upernet_convnext-atto_1xb8-3k_camvid-256x256.py')

# The recipe on 8 training and 2 validation images, 96x96 crops, batch 4,
# 40 iterations at a constant learning rate.
SHORT = f'''_base_ = [{RECIPE!r}]
data_root = {CAMVID!r}
crop_size = (96, 96)
model = dict(data_preprocessor=dict(size=crop_size))
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, indices=8, pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='RandomResize', scale=(480, 360), ratio_range=(0.5, 1.0),
             keep_ratio=True),
        dict(type='RandomCrop', crop_size=crop_size),
        dict(type='PackSegInputs')]))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root, indices=2))
test_dataloader = val_dataloader
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
train_cfg = dict(max_iters=40, val_interval=40)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=40))
'''


@needs_camvid
@pytest.mark.slow
def test_recipe_lowers_the_loss_and_tests(tmp_path):
    config = tmp_path / 'camvid_short.py'
    config.write_text(SHORT)
    work = tmp_path / 'work'
    run_tool(
        'train.py', config, '--work-dir', work, '--check-data', timeout=1200)
    (scalars, ) = work.glob('*/vis_data/scalars.json')
    records = [json.loads(line) for line in scalars.read_text().splitlines()]
    losses = [r['loss'] for r in records if 'loss' in r]
    assert len(losses) == 40
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < 0.8 * first, (first, last)
    val = [r for r in records if 'mIoU' in r]
    assert len(val) == 1 and 0 <= val[0]['mIoU'] <= 100

    out = run_tool(
        'test.py',
        config,
        work / 'iter_40.pth',
        '--work-dir',
        work / 'test',
        timeout=600)
    text = out.stdout + out.stderr
    # mmseg's per-class table, the 11 CamVid classes and no void row
    for name in CAMVID_CLASSES:
        assert re.search(rf'\|\s+{name}\s+\|', text), name
    assert 'void' not in text
    assert 'aAcc' in text and 'mIoU' in text
