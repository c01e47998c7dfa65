"""Segmenting videos and camera streams: frames are read with OpenCV,
segmented in batches with :func:`~upernet_mm.apis.inference.inference_model`
and written, overlaid with the classes' colours, to a video at the input's
frame rate (what ``tools/infer.py`` does with a video file or a camera
index, as mmseg's ``demo/video_demo.py`` does)."""
import os
import os.path as osp
from typing import Callable, Optional, Union

import cv2
import numpy as np

from .inference import build_test_pipeline, inference_model
from .label_maps import blend_colours

VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg',
                    '.mpeg', '.wmv')
#: frame rate written for a camera (or a file) that reports none
FALLBACK_FPS = 25.0


def is_video(path) -> bool:
    """Whether ``path`` names a video file, by its extension."""
    return str(path).lower().endswith(VIDEO_EXTENSIONS)


def is_camera(spec) -> bool:
    """Whether an input given on the command line is a camera index (a
    non-negative integer, as mmseg's video demo takes) rather than a
    path."""
    return isinstance(spec, int) or (str(spec).isdigit()
                                     and not osp.exists(str(spec)))


class VideoSource:
    """Frames of a video file or a camera, BGR.

    Args:
        spec (str | int): Video file, or camera index.
        max_frames (int, optional): Stop after this many frames (a camera
            otherwise runs until interrupted).

    Raises:
        ValueError: If OpenCV cannot open it, naming the file or camera.
    """

    def __init__(self,
                 spec: Union[str, int],
                 max_frames: Optional[int] = None):
        self.is_camera = is_camera(spec)
        self.name = f'camera {int(spec)}' if self.is_camera else str(spec)
        self.cap = cv2.VideoCapture(int(spec) if self.is_camera else str(spec))
        if not self.cap.isOpened():
            raise ValueError(f'cannot open {self.name}: ' + (
                'no such camera, or it is busy' if self.is_camera else
                'not a video OpenCV can decode (or no such file)'))
        fps = self.cap.get(cv2.CAP_PROP_FPS)
        self.fps_known = bool(fps and np.isfinite(fps) and fps > 0)
        self.fps = float(fps) if self.fps_known else FALLBACK_FPS
        count = int(self.cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.num_frames = None if self.is_camera or count <= 0 else count
        if max_frames is not None:
            self.num_frames = (
                max_frames if self.num_frames is None else min(
                    max_frames, self.num_frames))
        self.max_frames = max_frames

    def __iter__(self):
        read = 0
        while self.max_frames is None or read < self.max_frames:
            ok, frame = self.cap.read()
            if not ok:
                break
            read += 1
            yield frame

    def close(self):
        self.cap.release()


def segment_video(model,
                  spec: Union[str, int],
                  out_file: str,
                  batch_size: int = 1,
                  opacity: float = 0.5,
                  pipeline=None,
                  max_frames: Optional[int] = None,
                  on_frames: Optional[Callable[[int], None]] = None) -> dict:
    """Segment every frame of a video (or a camera) and write the overlaid
    frames to ``out_file`` (MPEG-4, at the input's frame rate).

    Args:
        model (nn.Module): A segmentor from :func:`init_model`.
        spec (str | int): Video file or camera index.
        out_file (str): Video to write (``.mp4``); its folder is created.
        batch_size (int): Frames per forward pass. Default: 1.
        opacity (float): Weight of the class colours, in (0, 1].
        pipeline (Compose, optional): From :func:`build_test_pipeline`.
        max_frames (int, optional): Stop after this many frames.
        on_frames (callable, optional): Called with the number of frames
            each time a batch is written (for a progress bar).

    Returns:
        dict: ``input``, ``output``, ``fps`` (as written), ``frames``,
        ``width``, ``height`` and ``classes``: per class index, the pixel
        count over all frames.

    Raises:
        ValueError: If the input cannot be opened, or ``batch_size`` or
            ``opacity`` is out of range.
    """
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    if not 0 < opacity <= 1:
        raise ValueError(f'opacity must be in (0, 1], got {opacity}')
    if pipeline is None:
        pipeline = build_test_pipeline(model.cfg)
    palette_bgr = np.asarray(model.dataset_meta['palette'],
                             np.float32)[:, ::-1]
    source = VideoSource(spec, max_frames)
    writer = None
    counts = np.zeros(0, np.int64)
    frames = 0
    size = None

    def flush(batch):
        nonlocal writer, counts, frames, size
        results = inference_model(model, batch, pipeline)
        for frame, result in zip(batch, results):
            mask = result.pred_sem_seg.data[0].cpu().numpy()
            if writer is None:
                size = (frame.shape[1], frame.shape[0])
                parent = osp.dirname(osp.abspath(out_file))
                os.makedirs(parent, exist_ok=True)
                writer = cv2.VideoWriter(out_file,
                                         cv2.VideoWriter_fourcc(*'mp4v'),
                                         source.fps, size)
                if not writer.isOpened():
                    raise OSError(f'cannot write the video {out_file}')
            colours = palette_bgr[np.clip(mask, 0, len(palette_bgr) - 1)]
            writer.write(blend_colours(frame, colours, opacity))
            binc = np.bincount(mask.ravel().astype(np.int64))
            if len(binc) > len(counts):
                counts = np.pad(counts, (0, len(binc) - len(counts)))
            counts[:len(binc)] += binc
            frames += 1
        if on_frames is not None:
            on_frames(len(batch))

    batch = []
    try:
        for frame in source:
            batch.append(frame)
            if len(batch) == batch_size:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
    finally:
        source.close()
        if writer is not None:
            writer.release()
    if frames == 0:
        raise ValueError(f'{source.name} has no frame that OpenCV can read')
    return dict(
        input=source.name,
        output=out_file,
        fps=source.fps,
        fps_known=source.fps_known,
        frames=frames,
        width=size[0],
        height=size[1],
        classes={
            int(i): int(c)
            for i, c in enumerate(counts) if c
        })
