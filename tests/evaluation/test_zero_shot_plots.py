import matplotlib.image as mpimg
import numpy as np
import pytest

from hclmm.geometry import Euclidean, Lorentz, PoincareBall
from hclmm.visualization import (disk_coordinates, plot_disk_view,
                                 plot_norm_histogram, plot_retrieval_examples)


def test_disk_coordinates_keep_the_hyperbolic_radius():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(20, 6))
    radii = rng.uniform(0.1, 8.0, size=20)
    c = 0.05
    xy = disk_coordinates(points, radii, PoincareBall(c=c))
    assert xy.shape == (20, 2)
    np.testing.assert_allclose(
        np.linalg.norm(xy, axis=1), np.tanh(np.sqrt(c) * radii / 2))
    assert np.all(np.linalg.norm(xy, axis=1) < 1)
    euclid = disk_coordinates(points, radii, Euclidean())
    np.testing.assert_allclose(
        np.linalg.norm(euclid, axis=1), radii / radii.max())


def test_disk_coordinates_keep_angles_of_planar_directions():
    # Directions that span a 2-D plane of R^5 keep their angles (up to a
    # rotation or reflection of the whole picture).
    angles = np.array([0.0, 0.5, 1.4, 2.5, 4.0])
    basis = np.linalg.qr(np.random.default_rng(1).normal(size=(5, 2)))[0]
    points = np.stack([np.cos(angles), np.sin(angles)], 1) @ basis.T
    xy = disk_coordinates(points, np.ones(5), Lorentz(c=1.0))
    unit = xy / np.linalg.norm(xy, axis=1, keepdims=True)
    np.testing.assert_allclose(unit @ unit.T,
                               np.cos(angles[:, None] - angles[None]),
                               atol=1e-8)


def test_disk_coordinates_errors():
    # the geometry is a Manifold object, never a name (plus curvature)
    with pytest.raises(TypeError, match='Manifold object'):
        disk_coordinates(np.ones((2, 3)), np.ones(2), 'poincare')
    with pytest.raises(TypeError, match='Manifold object'):
        disk_coordinates(np.ones((2, 3)), np.ones(2), 'sphere')
    with pytest.raises(ValueError, match='radii'):
        disk_coordinates(np.ones((2, 3)), np.ones(3), PoincareBall(c=1.0))


def test_plots_are_written_and_readable(tmp_path):
    rng = np.random.default_rng(0)
    hist = plot_norm_histogram(
        rng.uniform(1, 2, 30), rng.uniform(2, 3, 50),
        str(tmp_path / 'sub' / 'norm_hist.png'))
    image = mpimg.imread(hist)
    assert image.shape[:2] == (400, 600)  # 6 x 4 inches at 100 dpi
    disk = plot_disk_view(
        rng.uniform(-0.5, 0.5, (10, 2)),
        rng.uniform(-0.7, 0.7, (30, 2)),
        str(tmp_path / 'disk.png'),
        links=[(0, 1), (0, 2)],
        title='test')
    assert mpimg.imread(disk).shape[:2] == (600, 600)
    thumb = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
    examples = [
        dict(scene=thumb, name='a', neighbours=[
            dict(image=thumb, dist=0.5, hit=True, label='x'),
            dict(image=thumb, dist=0.7, hit=False)
        ]),
        dict(scene=thumb, neighbours=[dict(image=thumb, dist=1.0, hit=True)]),
    ]
    grid = plot_retrieval_examples(examples, str(tmp_path / 'ret.png'))
    h, w = mpimg.imread(grid).shape[:2]
    assert w == 3 * 170 and h == 2 * 190 + 30  # 3 columns x 2 rows
    with pytest.raises(ValueError, match='at least one example'):
        plot_retrieval_examples([], str(tmp_path / 'empty.png'))
