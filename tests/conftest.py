import os

import pytest
from mmengine.registry import DefaultScope

from helpers import make_seg_folder


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'slow: an end-to-end run in subprocesses (tools/*.py, '
        'dist_train.sh); `make test` runs them, `make test-quick` skips them')


LAUNCHER_VARIABLES = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR',
                      'MASTER_PORT')


@pytest.fixture(autouse=True)
def no_leaked_launcher_variables():
    """A test that sets RANK/WORLD_SIZE/MASTER_* in this process without
    restoring them makes every later distributed run wait for a wrong host."""
    before = {k: os.environ.get(k) for k in LAUNCHER_VARIABLES}
    yield
    after = {k: os.environ.get(k) for k in LAUNCHER_VARIABLES}
    # tools/train.py sets LOCAL_RANK=0 when it is missing, as mmseg's does:
    # harmless, restored without complaint
    leaked = {
        k: v
        for k, v in after.items() if v != before[k] and k != 'LOCAL_RANK'
    }
    for key, value in before.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    assert not leaked, f'the test changed launcher variables {leaked}'


@pytest.fixture
def scope():
    """Run a test inside a given default scope, restored afterwards."""
    entered = []

    def enter(name):
        ctx = DefaultScope.overwrite_default_scope(name)
        ctx.__enter__()
        entered.append(ctx)

    yield enter
    for ctx in reversed(entered):
        ctx.__exit__(None, None, None)


@pytest.fixture
def seg_folder(tmp_path):
    return make_seg_folder(tmp_path / 'data')
