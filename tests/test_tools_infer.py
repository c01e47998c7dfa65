"""tools/infer.py, analyze_logs.py, get_flops.py, browse_dataset.py, the
upernet_mm.apis functions and TensorBoard logging, run on a small
SyntheticScenes folder with a tiny model trained here for a few
iterations."""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config

from helpers import BASE, GN, ROOT, TOOLS, load_tool, tiny_uper_model
from upernet_mm.datasets.synthetic_scenes_classes import CLASSES, PALETTE

ITERS = 6
# every test here runs the tools in subprocesses (most on a trained model)
pytestmark = pytest.mark.slow


def tiny_config(data_root):
    """SyntheticScenes (8 + 4 scenes of 64x64) with a tiny ResNet UPerNet;
    validation every 3 iterations, so the logs have two mIoU points."""
    generator_cfg = dict(seed=0, num_train=8, num_val=4, size=64)
    dataset = dict(data_root=str(data_root), generator_cfg=generator_cfg)
    return dict(
        _base_=[
            osp.join(BASE, 'datasets', 'synthetic_scenes.py'),
            osp.join(BASE, 'default_runtime.py')
        ],
        model=tiny_uper_model(len(CLASSES), GN, size=(96, 96)),
        train_dataloader=dict(
            batch_size=2,
            num_workers=0,
            persistent_workers=False,
            dataset=dataset),
        val_dataloader=dict(
            num_workers=0, persistent_workers=False, dataset=dataset),
        test_dataloader=dict(
            num_workers=0, persistent_workers=False, dataset=dataset),
        train_cfg=dict(
            type='IterBasedTrainLoop', max_iters=ITERS, val_interval=3),
        val_cfg=dict(type='ValLoop'),
        test_cfg=dict(type='TestLoop'),
        optim_wrapper=dict(
            type='OptimWrapper',
            optimizer=dict(type='SGD', lr=0.05, momentum=0.9)),
        default_hooks=dict(
            timer=dict(type='IterTimerHook'),
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(
                type='CheckpointHook', by_epoch=False, interval=ITERS),
            sampler_seed=dict(type='DistSamplerSeedHook')),
        randomness=dict(seed=0),
        env_cfg=dict(dist_cfg=dict(backend='gloo')))


def _env():
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [osp.join(ROOT, 'tests'), ROOT,
         env.get('PYTHONPATH', '')])
    env['CUDA_VISIBLE_DEVICES'] = ''
    return env


def run_tool(name, *args, check=True):
    out = subprocess.run(
        [sys.executable, osp.join(TOOLS, name), *args],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600)
    if check:
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A config, the work dir of a 6-iteration run with --tensorboard, and
    its checkpoint."""
    tmp = tmp_path_factory.mktemp('tools')
    config = str(tmp / 'tiny.py')
    Config(tiny_config(tmp / 'scenes')).dump(config)
    work = tmp / 'work'
    run_tool('train.py', config, '--work-dir', str(work), '--tensorboard')
    checkpoint = work / f'iter_{ITERS}.pth'
    assert checkpoint.exists()
    return argparse.Namespace(
        tmp=tmp,
        config=config,
        work=work,
        checkpoint=str(checkpoint),
        images=tmp / 'scenes' / 'images' / 'validation')


def test_tensorboard_switch_writes_event_files(trained):
    events = glob.glob(
        str(trained.work / '*' / 'vis_data' / 'events.out.tfevents.*'))
    assert events and os.path.getsize(events[0]) > 0
    # the local backend's json log is still written
    assert glob.glob(str(trained.work / '*' / 'vis_data' / 'scalars.json'))


def test_tensorboard_is_off_by_default():
    from upernet_mm.cli_args import add_runner_args, load_config
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    add_runner_args(parser)
    config = osp.join(ROOT, 'configs', 'upernet_convnext.py')
    if not osp.isfile(config):
        config = osp.join(ROOT, 'configs',
                          'upernet_r50_4xb4-160k_ade20k-512x512.py')
    off = load_config(parser.parse_args([config]))
    assert [b['type'] for b in off.visualizer.vis_backends] == \
        ['LocalVisBackend']
    on = load_config(parser.parse_args([config, '--tensorboard']))
    assert [b['type'] for b in on.visualizer.vis_backends] == \
        ['LocalVisBackend', 'TensorboardVisBackend']


def test_infer_folder_glob_and_unreadable_file(trained, tmp_path):
    inputs = tmp_path / 'inputs'
    inputs.mkdir()
    # a different size from the scenes (64x64), and a broken file
    scene = mmcv.imread(str(trained.images / '00000.jpg'))
    mmcv.imwrite(mmcv.imresize(scene, (90, 50)), str(inputs / 'wide.png'))
    (inputs / 'broken.png').write_bytes(b'not a png')
    out = tmp_path / 'out'
    result = run_tool(
        'infer.py',
        trained.config,
        trained.checkpoint,
        str(trained.images),
        str(inputs / '*.png'),
        '--out-dir',
        str(out),
        '--batch-size',
        '3',
        '--json',
        '--opacity',
        '0.7',
        check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'broken.png' in result.stderr
    assert 'infer: 5 images segmented' in result.stdout
    assert '1 failed' in result.stdout

    summary = json.loads((out / 'summary.json').read_text())
    assert summary['classes'] == list(CLASSES)
    assert [f['input']
            for f in summary['failed']] == [str(inputs / 'broken.png')]
    sizes = {'wide.png': (50, 90)}
    assert len(summary['images']) == 5
    for entry in summary['images']:
        name = osp.basename(entry['input'])
        stem = osp.splitext(name)[0]
        mask = mmcv.imread(
            str(out / 'masks' / f'{stem}.png'), flag='unchanged')
        overlay = mmcv.imread(str(out / 'overlays' / f'{stem}.png'))
        size = sizes.get(name, (64, 64))
        assert mask.shape == size and mask.dtype == np.uint8
        assert mask.max() < len(CLASSES)
        assert overlay.shape == size + (3, )
        fractions = {c['index']: c['fraction'] for c in entry['classes']}
        assert set(fractions) == set(np.unique(mask).tolist())
        assert sum(fractions.values()) == pytest.approx(1, abs=1e-4)
        for c in entry['classes']:
            assert c['name'] == CLASSES[c['index']]
            assert c['fraction'] == pytest.approx(
                (mask == c['index']).mean(), abs=1e-6)


def test_api_matches_tool_and_draws_the_palette(trained, tmp_path):
    from upernet_mm.apis import inference_model, init_model, show_result
    model = init_model(trained.config, trained.checkpoint, 'cpu')
    assert model.dataset_meta['classes'] == CLASSES
    paths = sorted(glob.glob(str(trained.images / '*.jpg')))[:2]
    small = mmcv.imresize(mmcv.imread(paths[0]), (40, 30))
    results = inference_model(model, [paths[0], small, paths[1]])
    assert [tuple(r.pred_sem_seg.shape)
            for r in results] == [(64, 64), (30, 40), (64, 64)]
    single = inference_model(model, paths[1])
    torch.testing.assert_close(single.pred_sem_seg.data,
                               results[2].pred_sem_seg.data)

    out = tmp_path / 'out'
    run_tool('infer.py', trained.config, trained.checkpoint, paths[1],
             '--out-dir', str(out), '--no-overlay')
    mask = mmcv.imread(str(out / 'masks' / '00001.png'), flag='unchanged')
    np.testing.assert_array_equal(mask, single.pred_sem_seg.data[0].numpy())
    assert not (out / 'overlays').exists()

    drawn = show_result(
        model,
        paths[1],
        single,
        opacity=1.0,
        out_file=str(tmp_path / 'drawn.png'))
    expected = np.array(PALETTE, np.uint8)[mask]
    np.testing.assert_array_equal(drawn, expected)
    assert mmcv.imread(str(tmp_path / 'drawn.png')).shape == (64, 64, 3)
    # a checkpoint without meta: classes and palette from the config
    bare = tmp_path / 'bare.pth'
    torch.save(dict(state_dict=model.state_dict()), bare)
    again = init_model(trained.config, str(bare))
    assert again.dataset_meta == dict(classes=CLASSES, palette=PALETTE)
    half = show_result(model, paths[1], single, opacity=0.5)
    image = mmcv.bgr2rgb(mmcv.imread(paths[1])).astype(np.float64)
    np.testing.assert_allclose(half, image * 0.5 + expected * 0.5, atol=1)


def test_infer_skips_an_image_the_model_fails_on(trained, tmp_path,
                                                 monkeypatch):
    import upernet_mm.apis
    infer = load_tool('infer.py')
    real = upernet_mm.apis.inference_model
    calls = []

    def failing(model, imgs, pipeline=None):
        calls.append(len(imgs))
        if any(img.shape[:2] == (30, 40) for img in imgs):
            raise RuntimeError('odd input')
        return real(model, imgs, pipeline)

    monkeypatch.setattr(upernet_mm.apis, 'inference_model', failing)
    inputs = tmp_path / 'in'
    inputs.mkdir()
    scene = mmcv.imread(str(trained.images / '00000.jpg'))
    for name, size in [('a', (64, 64)), ('b', (40, 30)), ('c', (64, 64))]:
        mmcv.imwrite(mmcv.imresize(scene, size), str(inputs / f'{name}.png'))
    out = tmp_path / 'out'
    code = infer.main([
        trained.config, trained.checkpoint,
        str(inputs), '--out-dir',
        str(out), '--batch-size', '3'
    ])
    assert code == 1
    # the batch of 3 failed, then each image alone
    assert calls == [3, 1, 1, 1]
    assert sorted(os.listdir(out / 'masks')) == ['a.png', 'c.png']


def test_infer_reports_missing_inputs(trained, tmp_path):
    result = run_tool(
        'infer.py',
        trained.config,
        trained.checkpoint,
        str(tmp_path / 'nothing*.png'),
        '--out-dir',
        str(tmp_path / 'out'),
        check=False)
    assert result.returncode == 2
    assert 'nothing*.png' in result.stderr


def test_infer_transformers_directory(tmp_path):
    transformers = pytest.importorskip('transformers')
    from helpers.hf import hf_upernet
    backbone = transformers.ConvNextConfig(
        hidden_sizes=[8, 16, 32, 64],
        depths=[1, 1, 1, 1],
        out_features=['stage1', 'stage2', 'stage3', 'stage4'])
    hf = hf_upernet(
        backbone, hidden_size=16, auxiliary_channels=8, num_labels=5)
    hf.config.id2label = {i: f'thing{i}' for i in range(5)}
    hf.config.label2id = {f'thing{i}': i for i in range(5)}
    hf_dir = tmp_path / 'hf'
    hf.save_pretrained(str(hf_dir))
    image = np.random.default_rng(0).integers(0, 255, (48, 72, 3), np.uint8)
    mmcv.imwrite(image, str(tmp_path / 'img.png'))
    out = tmp_path / 'out'
    run_tool('infer.py', str(hf_dir), str(hf_dir), str(tmp_path / 'img.png'),
             '--out-dir', str(out), '--json')
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['classes'] == [f'thing{i}' for i in range(5)]
    mask = mmcv.imread(str(out / 'masks' / 'img.png'), flag='unchanged')
    assert mask.shape == (48, 72) and mask.max() < 5

    # the converted model predicts what transformers predicts
    from upernet_mm.apis import inference_model, init_model
    model = init_model(str(hf_dir), f'hf://{hf_dir}')
    np.testing.assert_array_equal(
        inference_model(model, str(
            tmp_path / 'img.png')).pred_sem_seg.data[0].numpy(), mask)
    pixels = model.data_preprocessor(
        dict(inputs=[torch.from_numpy(image).permute(2, 0, 1)]))['inputs']
    with torch.no_grad():
        logits = hf(pixel_values=pixels).logits
    np.testing.assert_array_equal(logits.argmax(1)[0].numpy(), mask)


def test_analyze_logs_plots_two_runs(trained, tmp_path):
    out = tmp_path / 'curves.png'
    result = run_tool('analysis_tools/analyze_logs.py', str(trained.work),
                      str(trained.work), '--legend', 'run A', 'run B', '--out',
                      str(out))
    assert f'wrote {out}' in result.stdout
    assert 'run A: loss=' in result.stdout and 'mIoU=' in result.stdout
    img = mmcv.imread(str(out))
    assert img.shape[1] > img.shape[0] > 100
    assert img.std() > 10  # not a blank canvas

    # validation (logged with step 0, the epoch) counts at its iteration
    analyze_logs = load_tool('analysis_tools/analyze_logs.py')
    series = analyze_logs.load_run(str(trained.work))
    assert sorted(series['mIoU']) == [3, 6]
    assert sorted(series['loss']) == list(range(1, ITERS + 1))

    bad = run_tool(
        'analysis_tools/analyze_logs.py',
        str(trained.work),
        '--keys',
        'nope',
        '--out',
        str(tmp_path / 'x.png'),
        check=False)
    assert bad.returncode != 0
    assert "no run logged 'nope'" in bad.stderr and 'mIoU' in bad.stderr


def test_get_flops_table(trained):
    result = run_tool('analysis_tools/get_flops.py', trained.config, '--shape',
                      '64', '96')
    text = result.stdout
    from upernet_mm.apis import init_model
    model = init_model(trained.config)
    params = sum(p.numel() for p in model.parameters())
    assert f'params: {params / 1e6:.2f} M ({params:,};' in text
    assert 'input shape: 1x3x64x96' in text
    assert '| module' in text and 'decode_head' in text
    flops = int(
        text.split('flops: ')[1].split('(')[1].split(')')[0].replace(',', ''))
    assert flops > 1e6
    # a multiply-add is one FLOP: conv_seg is 16 -> 13 channels (1x1) on the
    # 1/4-resolution map, 16 x 24
    row = next(line for line in text.splitlines() if 'conv_seg' in line)
    assert row.split('|')[3].strip() == f'{16 * 13 * 16 * 24 / 1e3:.3f}K'


def test_browse_dataset_writes_samples(trained, tmp_path):
    out = tmp_path / 'browse'
    run_tool('analysis_tools/browse_dataset.py', trained.config, '--out-dir',
             str(out), '-n', '3')
    files = sorted(os.listdir(out))
    assert len(files) == 3
    for name in files:
        img = mmcv.imread(str(out / name))
        # the 96x96 training crop beside its overlay
        assert img.shape == (96, 192, 3)
        assert not np.array_equal(img[:, :96], img[:, 96:])


def test_confusion_matrix_agrees_with_the_validation_miou(trained, tmp_path):
    out = tmp_path / 'confusion.json'
    result = run_tool('analysis_tools/confusion_matrix.py', trained.config,
                      trained.checkpoint, '--out', str(out))
    assert 'rows: true class' in result.stdout
    assert 'what each predicted class is' in result.stdout
    saved = json.loads(out.read_text())
    assert saved['classes'] == list(CLASSES) and saved['split'] == 'val'
    counts = np.array(saved['counts'], np.float64)
    intersect = np.diag(counts)
    union = counts.sum(0) + counts.sum(1) - intersect
    with np.errstate(invalid='ignore', divide='ignore'):
        miou = np.nanmean(intersect / union) * 100
    # mmseg's IoUMetric on the same weights, in the run's own log
    (scalars, ) = glob.glob(
        str(trained.work / '*' / 'vis_data' / 'scalars.json'))
    logged = [json.loads(line) for line in open(scalars)]
    validations = [row for row in logged if 'mIoU' in row]
    assert len(validations) == 2  # after iterations 3 and 6 (ITERS)
    assert abs(miou - validations[-1]['mIoU']) < 0.011
