"""Generated toy scenes for the data benchmarks: JPEG files at a realistic
size (512 px by default, objects of 64-224 px), in a temporary folder."""
import contextlib
import os.path as osp
import sys
import tempfile
from typing import Iterator, Optional

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

__all__ = ['toy_jpeg_scenes']


@contextlib.contextmanager
def toy_jpeg_scenes(data_root: Optional[str] = None,
                    num_images: int = 256,
                    img_size: int = 512,
                    seed: int = 0) -> Iterator[str]:
    """Yield ``data_root`` if given, else a folder of freshly generated toy
    scenes (``annotations/train.json``, ``images/train/*.jpg``) that is
    removed afterwards."""
    if data_root is not None:
        yield data_root
        return
    sys.path.insert(0, osp.join(REPO, 'tools', 'dataset_converters'))
    from make_toy_scenes import make_toy_scenes
    with tempfile.TemporaryDirectory() as root:
        print(f'generating {num_images} toy scenes of {img_size} px (JPEG) '
              f'into {root} ...', flush=True)
        make_toy_scenes(root, num_train=num_images, num_val=0, seed=seed,
                        img_size=img_size, img_format='jpg')
        yield root
