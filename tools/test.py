"""Test (evaluate) a checkpoint with mmengine's Runner.

Example:
    python tools/test.py CONFIG CHECKPOINT
    python tools/test.py CONFIG CHECKPOINT --show-dir vis --tta
    python tools/test.py CONFIG CHECKPOINT --deploy bf16
    # an OpenVINO artefact (tools/deployment/export_openvino.py) in place of
    # the checkpoint
    python tools/test.py CONFIG ARTEFACT_DIR --deploy int8
    tools/dist_test.sh CONFIG CHECKPOINT 2
"""
import sys

from upernet_mm.apis.checkpoint_source import OPENVINO, checkpoint_source
from upernet_mm.cli_args import add_runner_args, load_config, tool_parser
from upernet_mm.deploy.cli import add_deploy_args, deploy_kwargs
from upernet_mm.deploy.openvino.artefact import ArtefactError
from upernet_mm.engine.runner_setup import build_runner


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('config', help='test config file path')
    parser.add_argument(
        'checkpoint',
        help='checkpoint file, or an OpenVINO artefact directory '
        '(tools/deployment/export_openvino.py)')
    parser.add_argument(
        '--out',
        help='directory where the predicted masks are written as PNG files')
    parser.add_argument(
        '--show', action='store_true', help='show predictions in a window')
    parser.add_argument(
        '--show-dir',
        help='directory where images with predictions drawn are saved')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='seconds per shown image')
    parser.add_argument(
        '--tta', action='store_true', help='test-time augmentation')
    add_deploy_args(parser)
    add_runner_args(parser)
    return parser.parse_args(argv)


def enable_visualization(cfg, args):
    """Make the visualization hook draw (and show or save) predictions."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        sys.exit(
            'error: --show/--show-dir need a visualization hook: add '
            "default_hooks.visualization=dict(type='SegVisualizationHook')")
    hook['draw'] = True
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        cfg.visualizer['save_dir'] = args.show_dir


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args)
    try:
        source = checkpoint_source(args.checkpoint, args.deploy)
        artefact = source.kind == OPENVINO
        if artefact:
            if args.compile:
                raise ArtefactError('--compile is for the PyTorch deploy '
                                    'forms; an OpenVINO artefact is '
                                    'compiled by OpenVINO')
            if args.launcher != 'none':
                # DDP cannot wrap a model without parameters
                raise ArtefactError('an OpenVINO artefact is evaluated in '
                                    'one process (OpenVINO uses the cores '
                                    'itself): run tools/test.py without '
                                    '--launcher (not dist_test.sh)')
            # a local import: the module (which registers
            # OpenVINOSegmentor) imports the optional openvino, which only
            # an artefact needs
            from upernet_mm.deploy.openvino.segmentor import openvino_model_cfg
            cfg.model = openvino_model_cfg(cfg.model, source.path, args.deploy)
            deploy = None
        else:
            deploy = deploy_kwargs(args)
    except ValueError as error:
        sys.exit(f'error: {error}')
    # the artefact holds the weights: no checkpoint to load
    cfg.load_from = None if artefact else source.load_from
    if args.show or args.show_dir:
        enable_visualization(cfg, args)
    if args.tta:
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True
    if deploy is not None:
        # applied after the checkpoint is loaded, before the first batch
        cfg.custom_hooks = list(cfg.get('custom_hooks', None)
                                or []) + [dict(type='DeployHook', **deploy)]
    build_runner(cfg).test()


if __name__ == '__main__':
    sys.exit(main())
