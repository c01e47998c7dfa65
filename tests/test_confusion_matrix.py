"""upernet_mm.evaluation.confusion: the counts against a plain loop, the
ignore index, clear errors, and the text table."""
import numpy as np
import pytest

from upernet_mm.evaluation.confusion import confusion_matrix, format_confusion


def test_counts_match_a_plain_loop_and_skip_ignored_pixels():
    rng = np.random.default_rng(0)
    label = rng.integers(0, 4, (2, 9, 7))
    label[0, :2] = 255
    pred = rng.integers(0, 4, label.shape)
    expected = np.zeros((4, 4), np.int64)
    for t, p in zip(label.ravel(), pred.ravel()):
        if t != 255:
            expected[t, p] += 1
    got = confusion_matrix(pred, label, 4, 255)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)
    # an ignore index right after the classes (CamVid's void = 11 style)
    label[label == 255] = 4
    np.testing.assert_array_equal(
        confusion_matrix(pred, label, 4, 4), expected)


def test_bad_values_and_shapes_are_named():
    pred = np.zeros((2, 3), np.int64)
    with pytest.raises(
            ValueError,
            match=r'label value 7 is not one of the '
            r'4 classes \(nor the ignore index 255\)'):
        confusion_matrix(pred, np.full((2, 3), 7), 4, 255)
    with pytest.raises(ValueError, match='prediction value 5'):
        confusion_matrix(pred + 5, np.zeros((2, 3), np.int64), 4, 255)
    with pytest.raises(
            ValueError,
            match=r'the prediction is \(2, 3\) but '
            r'the label map is \(3, 2\)'):
        confusion_matrix(pred, np.zeros((3, 2), np.int64), 4, 255)


def test_table_gives_row_shares_and_what_predictions_are_made_of():
    matrix = np.array([[8, 2, 0], [1, 3, 0], [0, 0, 0]])
    text = format_confusion(matrix, ['road', 'car', 'sign'], top=2)
    lines = text.splitlines()
    road = next(line for line in lines if line.startswith('road '))
    assert road.split()[1:] == ['80.0', '20.0', '0.0']
    sign = next(line for line in lines[:5] if line.startswith('sign '))
    assert sign.split()[1:] == ['0.0', '0.0', '0.0']  # no pixels: no NaN
    assert 'car     car 60.0, road 40.0' in text
    assert 'sign    never predicted' in text
    with pytest.raises(ValueError, match='of 2 classes'):
        format_confusion(matrix, ['road', 'car'])
