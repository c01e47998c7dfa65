import pytest
from mmengine.registry import DefaultScope

from helpers import make_seg_folder


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'slow: an end-to-end run in subprocesses (tools/*.py, '
        'dist_train.sh); `make test` runs them, `make test-quick` skips them')


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
