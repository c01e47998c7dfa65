"""What the tools share, defined once so that each flag means the same in
every tool and every tool fails the same way:

* :func:`tool_parser`: the parser of a tool whose module docstring is its
  help (first line: description; the rest, examples: epilog);
* ``CONFIG CHECKPOINT`` (:func:`add_model_args`) and :func:`load_model`,
  which exits with ``error: ...`` on the errors of :data:`MODEL_ERRORS`;
* ``--cfg-options KEY=VALUE ...``: mmengine's ``DictAction`` syntax, merged
  into the config with ``Config.merge_from_dict``;
* ``--trust-checkpoint SHA256`` (repeatable): allow full unpickling of the
  checkpoint file with that content hash, and of no other file;
* ``--shape H W`` of the tools that trace a model (:func:`add_shape_arg`)
  and their optional packages (:func:`optional_packages`);
* ``CONFIG --split --cfg-options`` of the tools that read a config's
  dataset (:func:`add_dataset_args`, :func:`load_dataset`);
* the arguments of tools/train.py and tools/test.py
  (:func:`add_runner_args`, :func:`load_config`; tools/train.py's own:
  :func:`add_train_args`, which tools/ablate.py's runs are given);
* ``--out``, ``--seed``, ``--size`` of the tools that generate an embedded
  dataset (:func:`add_generation_args`) and their run
  (:func:`generate_dataset`);
* ``ROOT --out SOURCE --classes JSON`` of the converters into a source of
  the unified parsing layout (:func:`add_source_converter_args`,
  :func:`read_classes_arg`, :func:`convert_or_exit`).

A tool reports a bad input with ``sys.exit('error: ...')``: the message on
stderr, exit code 1, no traceback.
"""
import argparse
import contextlib
import os
import os.path as osp
import sys
import time

from mmengine.config import Config, DictAction

from upernet_mm.apis import init_model
from upernet_mm.apis.config_dataset import build_split_dataset
from upernet_mm.checkpoint_loaders import install_checkpoint_loaders
from upernet_mm.datasets.generated_folder import disk_usage, write_or_reuse
from upernet_mm.datasets.unified_parsing_layout import read_metainfo_file
from upernet_mm.engine.runner_setup import enable_tensorboard
from upernet_mm.safe_io import UnsafeCheckpointError, trust_checkpoint
from upernet_mm.safe_io.checkpoint_loading import parse_sha256
from upernet_mm.utils import register_all_modules

CFG_OPTIONS_HELP = (
    'override config settings, key=value pairs such as '
    'train_cfg.max_iters=100 or model.decode_head.channels=128; lists as '
    'key="[a,b]" (quotes needed, no spaces)')
TRUST_HELP = (
    'SHA-256 of a checkpoint file you trust (`sha256sum FILE`; a refused '
    'file\'s error message prints it): that file, and no other, may be '
    'fully unpickled (checkpoints are otherwise loaded with '
    'weights_only=True). Repeatable')
CONFIG_HELP = 'config file, or a transformers UperNet directory'
CHECKPOINT_HELP = (
    'checkpoint (.pth), a transformers UperNet directory (also as hf://DIR)'
    ' or an OpenVINO artefact directory (tools/deployment/export_openvino.py)')
# What loading a model from a user's config and checkpoint raises for a bad
# input: a missing file, a checkpoint that is refused (pickled code) or
# that does not fit the config.
MODEL_ERRORS = (FileNotFoundError, UnsafeCheckpointError, ValueError)
# What converting a dataset into the unified parsing layout raises for a bad
# input: data that is unreadable or inconsistent (UnifiedParsingDataError,
# a ValueError), bad class lists, an output folder that is not empty.
CONVERSION_ERRORS = (ValueError, FileExistsError)


def tool_parser(doc) -> argparse.ArgumentParser:
    """The parser of a tool whose module docstring ``doc`` is its help: the
    first paragraph the description, the rest (after the first blank line)
    the epilog, printed as written."""
    description, _, epilog = doc.strip('\n').partition('\n\n')
    return argparse.ArgumentParser(
        description=' '.join(description.split()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=epilog)


class CfgOptionsAction(DictAction):
    """mmengine's ``DictAction`` that also keeps the ``KEY=VALUE`` strings
    (``cfg_option_strings``), for a tool that passes them on to another."""

    def __call__(self, parser, namespace, values, option_string=None):
        super().__call__(parser, namespace, values, option_string)
        namespace.cfg_option_strings = list(values)


def add_cfg_options_arg(parser) -> None:
    """Add ``--cfg-options`` (mmengine's ``DictAction``) to a parser."""
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
        help=CFG_OPTIONS_HELP)
    parser.set_defaults(cfg_option_strings=[])


def _sha256(value: str) -> str:
    try:
        return parse_sha256(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_trust_arg(parser) -> None:
    """Add ``--trust-checkpoint SHA256`` (repeatable) to a parser."""
    parser.add_argument(
        '--trust-checkpoint',
        metavar='SHA256',
        type=_sha256,
        action='append',
        default=[],
        help=TRUST_HELP)


def apply_trust(args) -> None:
    """Trust the SHA-256 digests given with ``--trust-checkpoint``."""
    for digest in getattr(args, 'trust_checkpoint', None) or []:
        trust_checkpoint(digest)


def merge_cfg_options(cfg, args) -> None:
    """Merge ``--cfg-options`` into ``cfg`` (in place), if given."""
    options = getattr(args, 'cfg_options', None)
    if options:
        cfg.merge_from_dict(options)


def add_model_args(parser, checkpoint=True) -> None:
    """Add ``CONFIG``, ``CHECKPOINT`` and ``--trust-checkpoint`` (unless
    ``checkpoint=False``: a model with initial weights) and
    ``--cfg-options``: what :func:`load_model` reads."""
    parser.add_argument('config', help=CONFIG_HELP)
    if checkpoint:
        parser.add_argument('checkpoint', help=CHECKPOINT_HELP)
        add_trust_arg(parser)
    add_cfg_options_arg(parser)


def load_model(args, device='cpu', **kwargs):
    """The model of ``args.config`` with ``args.checkpoint`` (see
    :func:`add_model_args`) through :func:`upernet_mm.apis.init_model`,
    after ``--trust-checkpoint``; exits with ``error: ...`` on the errors of
    :data:`MODEL_ERRORS`.

    Args:
        args (argparse.Namespace): Parsed arguments of a tool.
        device (str): Where the model goes. Default: ``'cpu'``.
        **kwargs: Passed on to ``init_model`` (``strict``, ``deploy``).
    """
    apply_trust(args)
    try:
        return init_model(args.config, getattr(args, 'checkpoint', None),
                          device, args.cfg_options, **kwargs)
    except MODEL_ERRORS as error:
        sys.exit(f'error: {error}')


def add_dataset_args(parser, split_help) -> None:
    """Add ``CONFIG``, ``--split {train,val,test}`` (which dataloader's
    dataset; ``split_help`` says what the tool reads of it) and
    ``--cfg-options``: what :func:`load_dataset` reads."""
    parser.add_argument('config', help='config file')
    add_split_arg(parser, split_help)
    add_cfg_options_arg(parser)


def add_split_arg(parser, split_help, default='train') -> None:
    """Add ``--split {train,val,test}``: which dataloader's dataset a tool
    reads (``split_help`` says what it reads of it)."""
    parser.add_argument(
        '--split',
        choices=['train', 'val', 'test'],
        default=default,
        help=f'{split_help} (default {default})')


def load_dataset(args):
    """The config of :func:`add_dataset_args` (with ``--cfg-options``) and
    the dataset of its ``--split`` dataloader, built with its pipeline;
    exits with ``error: ...`` if the config has no such dataset or it is
    empty.

    Returns:
        tuple[Config, BaseDataset]: The config and the dataset.
    """
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    merge_cfg_options(cfg, args)
    try:
        dataset = build_split_dataset(cfg, args.split)
    except ValueError as error:
        sys.exit(f'error: {args.config}: {error}')
    if len(dataset) == 0:
        sys.exit(f'error: the {args.split} dataset of {args.config} is empty')
    return cfg, dataset


def add_shape_arg(parser, also='') -> None:
    """Add ``--shape H W`` (default 512 512) of the tools that trace a
    model: the size of the example input; ``also`` says, for the help, what
    else the tool uses it for."""
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        default=(512, 512),
        metavar=('H', 'W'),
        help=f'size of the example input used for tracing{also} (default '
        '512 512)')


@contextlib.contextmanager
def optional_packages(what, packages, where=''):
    """Exit with ``error: WHAT needs PACKAGES ...: pip install PACKAGES``
    if the imports in the ``with`` block fail: a tool's optional
    dependencies (``where``: the requirements file that lists them)."""
    try:
        yield
    except ImportError as error:
        sys.exit(f'error: {what} needs {packages} ({error}): pip install '
                 f'{packages}{where}')


def add_runner_args(parser) -> None:
    """Add ``--work-dir``, ``--cfg-options``, ``--launcher``,
    ``--local-rank``, ``--trust-checkpoint`` and ``--tensorboard`` to an
    argument parser (tools/train.py and tools/test.py)."""
    parser.add_argument('--work-dir', help='directory for logs and models')
    add_cfg_options_arg(parser)
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher (without CUDA, processes use gloo on the CPU)')
    add_trust_arg(parser)
    parser.add_argument(
        '--tensorboard',
        action='store_true',
        help='also log scalars to TensorBoard (event files next to '
        'scalars.json in WORK_DIR/TIMESTAMP/vis_data; needs the tensorboard '
        'package of requirements/optional.txt)')
    # torch.distributed.launch passes --local-rank
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def add_train_args(parser) -> None:
    """Add the arguments of tools/train.py: ``CONFIG``, ``--resume``,
    ``--amp``, ``--check-data`` and those of :func:`add_runner_args`."""
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        action='store_true',
        help='resume from the latest checkpoint in the work_dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision: float16 with loss scaling on CUDA, '
        'bfloat16 autocast on a CPU-only machine')
    parser.add_argument(
        '--check-data',
        action='store_true',
        help='before training, decode every image and annotation of the '
        'train and val sets and check sizes and label values (folders, '
        'empty splits and num_classes are always checked)')
    add_runner_args(parser)


def load_config(args) -> Config:
    """Read ``args.config`` and apply the arguments of
    :func:`add_runner_args`.

    Args:
        args (argparse.Namespace): Parsed arguments of a tool.

    Returns:
        Config: The config, with ``work_dir`` and ``launcher`` set.
    """
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    install_checkpoint_loaders()
    apply_trust(args)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    merge_cfg_options(cfg, args)
    if getattr(args, 'tensorboard', False):
        enable_tensorboard(cfg)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def add_generation_args(parser, default_out) -> None:
    """Add ``--out``, ``--seed`` and ``--size``, the settings every tool
    that generates an embedded dataset takes."""
    parser.add_argument(
        '--out',
        default=default_out,
        help='folder to create (default: %(default)s)')
    parser.add_argument('--seed', type=int, default=0, help='default: 0')
    parser.add_argument(
        '--size',
        type=int,
        default=128,
        help='image height and width, >= 64 (default: 128)')


def generate_dataset(out,
                     check_settings,
                     settings,
                     write,
                     check,
                     manifest,
                     what,
                     errors=()):
    """Generate an embedded dataset into ``out`` with
    :func:`~upernet_mm.datasets.generated_folder.write_or_reuse`, as the
    tools of :func:`add_generation_args` do; exits with ``error: ...`` on
    bad settings, a folder that holds something else, or ``errors``.

    Args:
        out (str): The folder.
        check_settings (Callable[[dict], dict]): Completes and checks
            ``settings`` (raising ``ValueError``).
        settings (dict): The settings given on the command line.
        write (Callable[[str, dict], Any]): Writes the dataset with the
            completed settings into the folder it is given.
        check, manifest, what: As in ``write_or_reuse``.
        errors (tuple[type]): The dataset's own folder error.

    Returns:
        tuple[dict, str | None]: The completed settings, and
        ``'SIZE MB in SECONDS s'`` for a folder this call wrote, None for
        one that was there (reported and left unchanged).
    """
    start = time.perf_counter()
    try:
        cfg = check_settings(settings)
        written = write_or_reuse(out, cfg, lambda root: write(root, cfg),
                                 check, manifest, what)
    except (ValueError, OSError) + tuple(errors) as error:
        sys.exit(f'error: {error}')
    if not written:
        print(f'{out} already holds {what} with {cfg}; left unchanged')
        return cfg, None
    seconds = time.perf_counter() - start
    return cfg, f'{disk_usage(out) / 2**20:.1f} MB in {seconds:.1f} s'


def add_source_converter_args(parser, root_help, classes_help) -> None:
    """Add ``ROOT``, ``--out`` and ``--classes``, the arguments of every
    converter into a source folder of the unified parsing layout
    (docs/unified_parsing.md)."""
    parser.add_argument('root', help=root_help)
    parser.add_argument(
        '--out',
        required=True,
        help='source folder to create (missing or empty)')
    parser.add_argument('--classes', help=classes_help)


def add_min_part_images_arg(parser) -> None:
    """Add ``--min-part-images`` of the converters that derive part lists
    from the training images."""
    parser.add_argument(
        '--min-part-images',
        type=int,
        default=1,
        help='default part lists: parts annotated on their object in at '
        'least this many training images (default: %(default)s)')


def convert_or_exit(convert, *args, **kwargs):
    """``convert(*args, **kwargs)``; exits with ``error: ...`` on the
    errors of :data:`CONVERSION_ERRORS`."""
    try:
        return convert(*args, **kwargs)
    except CONVERSION_ERRORS as error:
        sys.exit(f'error: {error}')


def read_classes_arg(args) -> dict:
    """The class lists of the JSON file given with ``--classes`` (empty
    without it); exits with ``error: ...`` if it cannot be read."""
    if not args.classes:
        return {}
    return convert_or_exit(read_metainfo_file, args.classes)
