"""Video inference (upernet_mm.apis.video and tools/infer.py on a video):
on a short generated video of SyntheticScenes frames and a tiny model."""
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest

from helpers import ROOT
from helpers.tiny_checkpoint import write_tiny_checkpoint

FPS = 12.5
NUM_FRAMES = 5


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    return write_tiny_checkpoint(tmp_path_factory.mktemp('video'))


@pytest.fixture(scope='module')
def model(tiny):
    from upernet_mm.apis import init_model
    return init_model(*tiny, device='cpu')


@pytest.fixture(scope='module')
def clip(tmp_path_factory):
    """5 frames of 64x64 (SyntheticScenes validation scenes) at 12.5
    frames/s, MPEG-4."""
    from upernet_mm.datasets.synthetic_scenes_folder import render_split_scene
    path = str(tmp_path_factory.mktemp('clip') / 'clip.mp4')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), FPS,
                             (64, 64))
    assert writer.isOpened()
    for i in range(NUM_FRAMES):
        writer.write(render_split_scene(0, 'validation', i, 64)[0][..., ::-1])
    writer.release()
    return path


def read_video(path):
    cap = cv2.VideoCapture(path)
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return fps, frames


def test_overlay_is_the_blend_of_show_result(model, clip):
    from upernet_mm.apis import inference_model, show_result
    from upernet_mm.apis.label_maps import blend_colours
    _, frames = read_video(clip)
    result = inference_model(model, frames[0])
    mask = result.pred_sem_seg.data[0].numpy()
    palette_bgr = np.asarray(model.dataset_meta['palette'],
                             np.float32)[:, ::-1]
    ours = blend_colours(frames[0], palette_bgr[mask], 0.6)
    drawn = show_result(model, frames[0], result, opacity=0.6)  # RGB
    assert np.abs(ours.astype(int) - drawn[..., ::-1].astype(int)).max() <= 1


def test_segment_video_writes_overlaid_frames_at_the_input_rate(
        model, clip, tmp_path):
    from upernet_mm.apis import inference_model
    from upernet_mm.apis.label_maps import blend_colours
    from upernet_mm.apis.video import segment_video
    seen = []
    out = str(tmp_path / 'out' / 'clip.mp4')
    info = segment_video(
        model, clip, out, batch_size=2, opacity=0.5, on_frames=seen.append)
    assert seen == [2, 2, 1]  # batches of 2 frames
    assert (info['frames'], info['width'], info['height']) == (NUM_FRAMES, 64,
                                                               64)
    assert info['fps'] == pytest.approx(FPS) and info['fps_known']
    fps, written = read_video(out)
    assert fps == pytest.approx(FPS)
    assert len(written) == NUM_FRAMES
    _, frames = read_video(clip)
    palette_bgr = np.asarray(model.dataset_meta['palette'],
                             np.float32)[:, ::-1]
    counts = {}
    for frame, got in zip(frames, written):
        mask = inference_model(model, frame).pred_sem_seg.data[0].numpy()
        for index, n in zip(*np.unique(mask, return_counts=True)):
            counts[int(index)] = counts.get(int(index), 0) + int(n)
        expected = blend_colours(frame, palette_bgr[mask], 0.5)
        # MPEG-4 is lossy: compare on average
        assert np.abs(got.astype(int) - expected.astype(int)).mean() < 6
    # batched frames predict what frames one by one predict
    assert info['classes'] == counts
    # at most max_frames frames
    info = segment_video(
        model, clip, str(tmp_path / 'three.mp4'), batch_size=4, max_frames=3)
    assert info['frames'] == 3
    assert len(read_video(str(tmp_path / 'three.mp4'))[1]) == 3


def test_bad_videos_and_cameras_give_clear_errors(model, tmp_path):
    from upernet_mm.apis.video import VideoSource, is_camera, segment_video
    assert is_camera('0') and is_camera(3) and not is_camera('clip.mp4')
    broken = tmp_path / 'broken.mp4'
    broken.write_bytes(b'\x00' * 100)
    with pytest.raises(ValueError, match='cannot open .*broken.mp4'):
        segment_video(model, str(broken), str(tmp_path / 'o.mp4'))
    with pytest.raises(ValueError, match='cannot open camera 57'):
        VideoSource(57)
    with pytest.raises(ValueError, match='batch_size'):
        segment_video(
            model, str(broken), str(tmp_path / 'o.mp4'), batch_size=0)


@pytest.mark.slow
def test_infer_tool_on_a_video(tiny, clip, tmp_path):
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [osp.join(ROOT, 'tests'), ROOT,
         env.get('PYTHONPATH', '')])
    env['CUDA_VISIBLE_DEVICES'] = ''
    out = tmp_path / 'out'
    broken = tmp_path / 'broken.avi'
    broken.write_bytes(b'RIFF' + b'\x00' * 60)
    result = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'infer.py'), *tiny, clip,
        str(broken), '--out-dir',
        str(out), '--batch-size', '3', '--json'
    ],
                            env=env,
                            capture_output=True,
                            text=True,
                            timeout=600)
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'frames/s' in result.stderr  # the progress bar
    assert f'{NUM_FRAMES} frames at 12.5 frames/s' in result.stdout
    assert 'broken.avi' in result.stderr
    summary = json.loads((out / 'summary.json').read_text())
    [video] = summary['videos']
    assert video['output'] == str(out / 'videos' / 'clip.mp4')
    assert video['frames'] == NUM_FRAMES
    assert sum(c['fraction'] for c in video['classes']) == pytest.approx(
        1, abs=1e-4)
    assert [f['input'] for f in summary['failed']] == [str(broken)]
    fps, frames = read_video(video['output'])
    assert fps == pytest.approx(FPS) and len(frames) == NUM_FRAMES
