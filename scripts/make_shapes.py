"""Write a folder of coloured-shape images, one subfolder per shape: a stand-in for "your own images".

    python scripts/make_shapes.py runs/shapes-300 --count 300            # 100 each of circle/, square/, triangle/
    gan-models train --model dcgan64 --dataset folder --data-root runs/shapes-300

Each image is `size` x `size` RGB PNG: one filled shape (a circle, an axis-aligned square or an upright
triangle) of a random saturated colour, a random size (a quarter to a half of the image across) and a
random position wholly inside the image, on a plain background of a random light or dark grey. The same
seed writes the same files. The tests train on these folders (the own-images path, and the collapse that
issue 20 recorded), and benchmarks/small_data.py measures the small-data defaults on them.
"""
import argparse
import colorsys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SHAPES = ("circle", "square", "triangle")


def draw_shape(shape: str, size: int, rng: np.random.Generator) -> Image.Image:
    """One `size` x `size` RGB image of `shape` (one of SHAPES), its colour, size and place drawn from `rng`."""
    grey = int(rng.choice([rng.integers(20, 70), rng.integers(185, 236)]))
    image = Image.new("RGB", (size, size), (grey, grey, grey))
    red, green, blue = colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.7, 1.0), rng.uniform(0.75, 1.0))
    colour = (int(red * 255), int(green * 255), int(blue * 255))
    width = int(rng.integers(size // 4, size // 2 + 1))
    left, top = (int(v) for v in rng.integers(1, size - width, 2))
    box = (left, top, left + width, top + width)
    draw = ImageDraw.Draw(image)
    if shape == "circle":
        draw.ellipse(box, fill=colour)
    elif shape == "square":
        draw.rectangle(box, fill=colour)
    else:
        draw.polygon([(left + width / 2, top), (left, top + width), (left + width, top + width)], fill=colour)
    return image


def make_shapes(root: Path, count: int, size: int = 64, seed: int = 0) -> Path:
    """Write `count` images to root/<shape>/NNNN.png, shapes in turn (so each class holds count / 3); `root`."""
    if count < 1 or size < 8:
        raise ValueError(f"give at least one image of at least 8 x 8 pixels (got count={count}, size={size})")
    rng = np.random.default_rng(seed)
    for shape in SHAPES:
        (root / shape).mkdir(parents=True, exist_ok=True)
    for i in range(count):
        shape = SHAPES[i % len(SHAPES)]
        draw_shape(shape, size, rng).save(root / shape / f"{i:05d}.png")
    return root


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="folder to write (its shape subfolders are created)")
    parser.add_argument("--count", type=int, default=300, help="number of images in all (default 300)")
    parser.add_argument("--size", type=int, default=64, help="image height and width in pixels (default 64)")
    parser.add_argument("--seed", type=int, default=0, help="the same seed writes the same images (default 0)")
    args = parser.parse_args(argv)
    make_shapes(args.root, args.count, args.size, args.seed)
    print(f"wrote {args.count} images of {', '.join(SHAPES)} to {args.root}")


if __name__ == "__main__":
    main()
