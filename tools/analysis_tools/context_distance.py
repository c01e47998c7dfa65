"""How far the evidence that decides a SyntheticScenes class lies.

With ``far_context`` scenes (the ablation scale), building and window (in
streets) and wall and painting (in rooms) are drawn alike; only the kind of
scene tells them apart, and it shows in classes that occur in one kind
only: sky, tree, grass, road, car and wheel in streets, floor and table in
rooms (persons occur in both). For every pixel of those four classes this
tool measures the distance (pixels, Euclidean) to the nearest pixel of a
class of its own scene kind only, over a split of a generated folder, and
prints the median and the share of pixels farther than given radii (e.g.
half the receptive field of the backbone's stride-8 features: 76 px for
ConvNeXt-atto, whose stride-8 output sees 152 x 152 pixels).

Example:
    python tools/analysis_tools/context_distance.py \\
        data/synthetic_scenes_far256
"""
import os
import os.path as osp
import sys

import cv2
import numpy as np

from upernet_mm.cli_args import tool_parser
from upernet_mm.datasets.synthetic_scenes_classes import CLASS_INDEX

DECIDED = {  # class -> classes of its scene kind only
    'building': ('sky', 'tree', 'grass', 'road', 'car', 'wheel'),
    'window': ('sky', 'tree', 'grass', 'road', 'car', 'wheel'),
    'wall': ('floor', 'table'),
    'painting': ('floor', 'table'),
}


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('data_root', help='a SyntheticScenes folder')
    parser.add_argument(
        '--split',
        default='validation',
        choices=['training', 'validation'],
        help='default: %(default)s')
    parser.add_argument(
        '--radii',
        type=int,
        nargs='+',
        default=[16, 32, 64, 76],
        help='report the share of pixels farther than these (default: '
        '%(default)s)')
    return parser.parse_args(argv)


def context_distances(label):
    """Distances of the pixels of the context-decided classes of one label
    map to their nearest deciding pixel.

    Args:
        label (np.ndarray): (H, W) class indices.

    Returns:
        dict: Class name -> 1-D float array, one distance per pixel (inf
        where the image has no deciding pixel at all).
    """
    out = {}
    for name, deciding in DECIDED.items():
        mask = label == CLASS_INDEX[name]
        if not mask.any():
            continue
        evidence = np.isin(label, [CLASS_INDEX[c] for c in deciding])
        if not evidence.any():
            out[name] = np.full(int(mask.sum()), np.inf, np.float32)
            continue
        # distance of every pixel to the nearest evidence pixel (zeros)
        dist = cv2.distanceTransform((~evidence).astype(np.uint8), cv2.DIST_L2,
                                     5)
        out[name] = dist[mask]
    return out


def main(argv=None):
    args = parse_args(argv)
    folder = osp.join(args.data_root, 'annotations', args.split)
    if not osp.isdir(folder):
        sys.exit(f'error: {folder} is not a folder')
    names = sorted(n for n in os.listdir(folder) if n.endswith('.png'))
    if not names:
        sys.exit(f'error: no .png label maps in {folder}')
    per_class = {name: [] for name in DECIDED}
    for name in names:
        label = cv2.imread(osp.join(folder, name), cv2.IMREAD_UNCHANGED)
        if label is None or label.ndim != 2:
            sys.exit(f'error: {name} in {folder} is not a label map')
        for cls, dist in context_distances(label).items():
            per_class[cls].append(dist)
    print(f'{len(names)} label maps of {folder}')
    head = ['class', 'pixels', 'median px'] + [f'> {r} px' for r in args.radii]
    print('| ' + ' | '.join(head) + ' |')
    print('|' + '|'.join(['---'] + ['---:'] * (len(head) - 1)) + '|')
    rows = {cls: np.concatenate(d) for cls, d in per_class.items() if d}
    if rows:
        rows['all four'] = np.concatenate(list(rows.values()))
    for cls, d in rows.items():
        cells = [cls, str(d.size), f'{np.median(d):.0f}'
                 ] + [f'{100 * np.mean(d > r):.1f}%' for r in args.radii]
        print('| ' + ' | '.join(cells) + ' |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
