"""What every data check shares: the error it raises and how it names a
dataset in its messages."""


class DataCheckError(ValueError):
    """A dataset whose folders, files or label values would fail training."""


def describe(dataset) -> str:
    """``Type(data_root='...')``: how messages name a dataset."""
    return f'{type(dataset).__name__}(data_root={dataset.data_root!r})'
