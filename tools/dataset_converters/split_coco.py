"""Split a COCO instances file into two, stratified by class.

Cuts a development split out of a training file, so that a question about
the data or the recipe is answered without the validation split, e.g. 600
of the toy scenes' 800 training scenes to train on and 200 to check on::

    python tools/dataset_converters/split_coco.py \\
        data/toy_scenes/annotations/train.json --fraction 0.75 --seed 0 \\
        --out data/toy_scenes/annotations/dev_train.json \\
        --rest data/toy_scenes/annotations/dev_val.json

Both files keep the images' ``file_name``, so they read the same image
folder. Every image's stratum is its rarest class
(``hclmm.datasets.coco_subset``); the same seed gives the same split.
"""
import argparse

from hclmm.datasets.coco_subset import write_coco_split


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('ann_file', help='COCO instances json to split')
    parser.add_argument('--fraction', type=float, required=True,
                        help='share of the images in --out, in (0, 1]')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', required=True,
                        help='json for the stratified fraction')
    parser.add_argument('--rest', help='json for the other images')
    args = parser.parse_args(argv)
    if not 0 < args.fraction <= 1:
        parser.error(f'--fraction must be in (0, 1], got {args.fraction}')
    summary = write_coco_split(args.ann_file, args.fraction, args.seed,
                               args.out, args.rest)
    for name, path in (('subset', args.out), ('rest', args.rest)):
        if name in summary:
            s = summary[name]
            print(f'{path}: {s["num_images"]} images, '
                  f'{s["num_annotations"]} annotations, '
                  f'{s["classes"]} classes')


if __name__ == '__main__':
    main()
