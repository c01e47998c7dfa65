"""Segment images with a trained model: class-index masks, colour overlays
and a per-image summary.

Examples:
    python tools/infer.py CONFIG CHECKPOINT photo.jpg --out-dir out
    python tools/infer.py CONFIG CHECKPOINT images/ 'more/*.png' \\
        --out-dir out --batch-size 4 --opacity 0.6 --json
    # a transformers UperNet directory, converted on the fly
    python tools/infer.py HF_DIR HF_DIR images/ --out-dir out
    # an OpenVINO artefact (tools/deployment/export_openvino.py), or the
    # PyTorch deploy form
    python tools/infer.py CONFIG OV_DIR images/ --out-dir out --deploy int8
    python tools/infer.py CONFIG CHECKPOINT images/ --out-dir out --deploy bf16
    # a video, and 100 frames of camera 0, 8 frames per forward
    python tools/infer.py CONFIG CHECKPOINT clip.mp4 0 --out-dir out \\
        --batch-size 8 --max-frames 100

For each image NAME.EXT it writes OUT_DIR/masks/NAME.png (class indices,
the size of the input; 8-bit, 16-bit above 256 classes) and
OUT_DIR/overlays/NAME.png (the classes' colours over the image); images
under a folder keep their path relative to it. With --json,
OUT_DIR/summary.json lists for each image the classes present and their
pixel fractions. A unified parsing model (configs/unified_parsing/) also
writes OUT_DIR/part_masks/NAME.png (part index within the predicted
object's parts, 255 = none), OUT_DIR/material_masks/NAME.png, their
overlays (part_overlays/, material_overlays/) and OUT_DIR/levels/NAME.png
(all levels side by side); its summary adds parts, materials and the
scene and texture top-5 with scores. A video file (or a camera index, 0
for the first camera) becomes OUT_DIR/videos/NAME.mp4, its frames
overlaid, at the input's frame rate. Files that cannot be read (or
segmented) are reported and skipped; the exit code is 1 when any input
failed, 2 when nothing was found.
"""
import json
import os
import os.path as osp
import sys
import time

from upernet_mm.apis.image_files import collect_inputs, write_mask
from upernet_mm.cli_args import add_model_args, load_model, tool_parser
from upernet_mm.deploy.cli import add_deploy_args


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    add_model_args(parser)
    parser.add_argument(
        'inputs',
        nargs='+',
        help='image or video files, folders (searched '
        'recursively for images), glob patterns, or camera indices (0, 1..)')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '--batch-size',
        type=int,
        default=1,
        help='images (video frames) per forward')
    parser.add_argument(
        '--max-frames',
        type=int,
        default=None,
        help='stop each video or camera after this many frames (a camera '
        'otherwise runs until Ctrl-C)')
    parser.add_argument(
        '--device',
        default=None,
        help='e.g. cpu or cuda:0 (default: cuda:0 if available, else cpu)')
    parser.add_argument(
        '--opacity',
        type=float,
        default=0.5,
        help='weight of the class colours in the overlays, in (0, 1]')
    parser.add_argument(
        '--with-labels',
        action='store_true',
        help='write class names on the overlays')
    parser.add_argument(
        '--no-overlay', action='store_true', help='write masks only')
    parser.add_argument(
        '--json',
        action='store_true',
        help='write OUT_DIR/summary.json (classes present and their pixel '
        'fractions per image)')
    add_deploy_args(parser, compile=False)
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error(f'--batch-size must be >= 1, got {args.batch_size}')
    if args.max_frames is not None and args.max_frames < 1:
        parser.error(f'--max-frames must be >= 1, got {args.max_frames}')
    if not 0 < args.opacity <= 1:
        parser.error(f'--opacity must be in (0, 1], got {args.opacity}')
    return args


class Progress:
    """A progress bar with images/s (or frames/s) on stderr (rich, from
    mmengine's dependencies)."""

    def __init__(self, total, unit='images', label='infer'):
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress,
                                   TextColumn, TimeRemainingColumn)
        self.start = time.perf_counter()
        self.done = 0
        self.bar = Progress(
            TextColumn(label),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn('{task.fields[rate]}'),
            TimeRemainingColumn(),
            console=Console(stderr=True))
        self.unit = unit
        self.task = self.bar.add_task(label, total=total, rate='')
        self.bar.start()

    def advance(self, num):
        self.done += num
        rate = self.done / max(time.perf_counter() - self.start, 1e-9)
        self.bar.update(
            self.task, advance=num, rate=f'{rate:.2f} {self.unit}/s')

    def stop(self):
        self.bar.stop()


def main(argv=None):
    args = parse_args(argv)
    from upernet_mm.apis.video import is_camera, is_video
    cameras = [int(p) for p in args.inputs if is_camera(p)]
    try:
        pairs, missing = collect_inputs(
            [p for p in args.inputs if not is_camera(p)])
    except ValueError as error:
        sys.exit(f'error: {error}')
    videos = [(path, name) for path, name in pairs if is_video(path)]
    pairs = [(path, name) for path, name in pairs if not is_video(path)]
    for pattern in missing:
        print(f'warning: no images found for {pattern}', file=sys.stderr)
    if not pairs and not videos and not cameras:
        print('error: no input images', file=sys.stderr)
        return 2

    import mmcv
    import torch

    from upernet_mm.apis import (build_test_pipeline, class_fractions,
                                 inference_model, is_unified_parsing,
                                 show_result, write_levels)
    device = args.device or ('cuda:0' if torch.cuda.is_available() else 'cpu')
    model = load_model(args, device, deploy=args.deploy)
    pipeline = build_test_pipeline(model.cfg)
    multi_task = is_unified_parsing(model)
    classes = model.dataset_meta['classes']
    num_classes = model.decode_head.num_classes
    mask_dir = osp.join(args.out_dir, 'masks')
    overlay_dir = osp.join(args.out_dir, 'overlays')

    summary, failed = [], []
    video_summary = run_videos(model, pipeline, videos, cameras, args,
                               failed) if videos or cameras else []
    progress = Progress(len(pairs)) if pairs else None
    start = time.perf_counter()

    def run(batch):
        try:
            results = inference_model(model, [img for _, _, img in batch],
                                      pipeline)
        except Exception as error:  # noqa: BLE001  (reported, run goes on)
            if len(batch) > 1:  # find the image at fault
                for item in batch:
                    run([item])
                return
            reason = f'{type(error).__name__}: {error}'
            print(
                f'\nerror: cannot segment {batch[0][0]}: {reason}; '
                'skipped',
                file=sys.stderr)
            failed.append(dict(input=batch[0][0], error=reason))
            progress.advance(1)
            return
        for (path, name, img), result in zip(batch, results):
            mask = result.pred_sem_seg.data[0].cpu().numpy()
            stem = osp.splitext(name)[0]
            entry = dict(
                input=path,
                height=int(mask.shape[0]),
                width=int(mask.shape[1]))
            entry['mask'] = osp.join(mask_dir, stem + '.png')
            write_mask(mask, entry['mask'], num_classes)
            if not args.no_overlay:
                entry['overlay'] = osp.join(overlay_dir, stem + '.png')
                os.makedirs(osp.dirname(entry['overlay']), exist_ok=True)
                show_result(model, img, result, args.opacity, args.with_labels,
                            entry['overlay'])
            entry['classes'] = class_fractions(mask, classes)
            if multi_task:  # parts, materials, scene and texture top-5
                entry.update(
                    write_levels(
                        model,
                        img,
                        result,
                        args.out_dir,
                        stem,
                        args.opacity,
                        overlays=not args.no_overlay))
            summary.append(entry)
        progress.advance(len(batch))

    batch = []
    try:
        for path, name in pairs:
            img, reason = None, 'not a readable image'
            try:
                img = mmcv.imread(path)
            except Exception as error:  # noqa: BLE001  (any decoder error)
                reason = str(error) or type(error).__name__
            if img is None:
                print(
                    f'\nerror: cannot read {path}: {reason}; skipped',
                    file=sys.stderr)
                failed.append(dict(input=path, error=reason))
                progress.advance(1)
                continue
            batch.append((path, name, img))
            if len(batch) == args.batch_size:
                run(batch)
                batch = []
        if batch:
            run(batch)
    finally:
        if progress is not None:
            progress.stop()
    elapsed = time.perf_counter() - start
    if args.json:
        os.makedirs(args.out_dir, exist_ok=True)
        with open(osp.join(args.out_dir, 'summary.json'), 'w') as f:
            json.dump(
                dict(
                    classes=list(classes),
                    images=summary,
                    videos=video_summary,
                    failed=failed),
                f,
                indent=1)
    rate = len(summary) / elapsed if elapsed > 0 else 0.0
    if pairs or not video_summary:
        print(f'infer: {len(summary)} images segmented in {elapsed:.1f} s '
              f'({rate:.2f} images/s, batch size {args.batch_size}, '
              f'{device}), {len(failed)} failed; results in {args.out_dir}')
    if failed:
        print(
            'failed: ' + ', '.join(f['input'] for f in failed),
            file=sys.stderr)
    return 1 if failed else 0


def run_videos(model, pipeline, videos, cameras, args, failed):
    """Segment each video file and camera into OUT_DIR/videos/NAME.mp4;
    failures are added to ``failed``. Returns the per-video summaries."""
    from upernet_mm.apis.video import VideoSource, segment_video
    classes = model.dataset_meta['classes']
    jobs = [(path, osp.splitext(name)[0]) for path, name in videos]
    jobs += [(index, f'camera{index}') for index in cameras]
    out = []
    for spec, stem in jobs:
        out_file = osp.join(args.out_dir, 'videos', stem + '.mp4')
        try:
            total = VideoSource(spec, args.max_frames)
            total.close()
            progress = Progress(total.num_frames, 'frames', f'video {stem}')
        except ValueError as error:
            print(f'error: {error}; skipped', file=sys.stderr)
            failed.append(dict(input=str(spec), error=str(error)))
            continue
        start = time.perf_counter()
        try:
            entry = segment_video(model, spec, out_file, args.batch_size,
                                  args.opacity, pipeline, args.max_frames,
                                  progress.advance)
        except KeyboardInterrupt:
            print(
                f'\ninfer: {stem} stopped; {progress.done} frames are in '
                f'{out_file}',
                file=sys.stderr)
            failed.append(dict(input=str(spec), error='interrupted'))
            break
        except Exception as error:  # noqa: BLE001  (reported, run goes on)
            reason = f'{type(error).__name__}: {error}'
            print(
                f'\nerror: cannot segment {spec}: {reason}; skipped',
                file=sys.stderr)
            failed.append(dict(input=str(spec), error=reason))
            continue
        finally:
            progress.stop()
        elapsed = time.perf_counter() - start
        pixels = sum(entry['classes'].values())
        entry['classes'] = [
            dict(
                index=i,
                name=classes[i] if i < len(classes) else str(i),
                fraction=round(c / pixels, 6)) for i, c in sorted(
                    entry.pop('classes').items(), key=lambda kv: -kv[1])
        ]
        print(f'infer: {entry["input"]}: {entry["frames"]} frames at '
              f'{entry["fps"]:g} frames/s segmented in {elapsed:.1f} s '
              f'({entry["frames"] / max(elapsed, 1e-9):.2f} frames/s, '
              f'batch size {args.batch_size}) -> {out_file}' +
              ('' if entry['fps_known'] else
               ' (the input reports no frame rate: written at '
               f'{entry["fps"]:g})'))
        out.append(entry)
    return out


if __name__ == '__main__':
    sys.exit(main())
