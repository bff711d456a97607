"""Writes scikit-learn's handwritten digits as a class-folder image data set for search benchmarks.

Why this data set: a search method can only be compared with another on data where configurations
really differ. On the synthetic demo flowers every trial scores about 100%, so grid, random and
Bayesian search, and early stopping, all look the same there. The UCI optical digits that ship
inside the scikit-learn wheel (sklearn.datasets.load_digits: 1,797 images of 8x8 pixels, 10
classes, from 43 writers) are real handwriting, come from a registry package (no download from a
data host, which this project cannot reach), and small enough that a sweep over them is quick,
while the head's learning rate, width and dropout visibly move validation accuracy on them.

The pipeline expects image files, so each 8x8 image (16 grey levels) is upscaled (bilinear) to
--size pixels square and written as RGB PNG, dark ink on white like the scanned forms, to
<out>/<digit>/<index>.png, index being the sample's position in load_digits (zero-padded).

Deterministic and idempotent: the same package versions give byte-identical files; a file whose
bytes already match is left alone, others are replaced atomically, so a rerun or an interrupted
run converges on the same folder.

  .stack/search-venv/bin/python search/bench/make_digits.py <out> [--size 32]
"""
import argparse
import io
import os
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits


def digit_png(pixels: np.ndarray, size: int) -> bytes:
    """One 8x8 image of levels 0..16 (16 = ink) as RGB PNG bytes, size x size."""
    grey = np.rint(255 - pixels * (255 / 16)).astype(np.uint8)
    image = Image.fromarray(grey, mode="L").resize((size, size), Image.Resampling.BILINEAR).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def write_if_changed(path: Path, data: bytes) -> bool:
    if path.exists() and path.read_bytes() == data:
        return False
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="output folder; class folders 0..9 are created in it")
    parser.add_argument("--size", type=int, default=32, help="side of the written images in pixels (default 32)")
    args = parser.parse_args()
    if args.size < 8:
        parser.error("--size must be at least 8 (the source images are 8x8)")

    digits = load_digits()
    written = 0
    for index, (pixels, label) in enumerate(zip(digits.images, digits.target)):
        folder = args.out / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        written += write_if_changed(folder / f"{index:04d}.png", digit_png(pixels, args.size))
    total = len(digits.images)
    print(f"[make-digits] {args.out}: {total} images in 10 class folders, {args.size}x{args.size} RGB; {written} written, {total - written} already up to date")


if __name__ == "__main__":
    main()
