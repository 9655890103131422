"""The display pipeline's cost per 512x512 CT frame, and DCMTK's dcm2pnm on the same file.

    .venv/bin/python -m bench.render [--frames 200]

Prints milliseconds per frame for:
* ``display_lut`` + ``apply_display_lut`` (what a viewer does per frame while
  scrolling: the table is cached, so this is one ``numpy.take``), for the
  window changing on every frame (a W/L drag: the table is rebuilt) and not;
* ``to_display`` (the whole call, including the min-max default window when
  the image has none);
* ``lightbox render`` in-process (read, decode, pipeline, PNG) against
  ``dcm2pnm +Ww C W +on`` as a process on the same file.
Target: the scrolling path well under 16.7 ms (60 frames/s).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import pydicom

from bench._ctseries import ct_series
from workstation.dicom.pixels import decode_pixels
from workstation.imaging.pipeline import FramePipeline, Window, apply_display_lut
from workstation.imaging.render import render_file, write_png


def _ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1e3:7.3f} ms (median; best {min(samples) * 1e3:.3f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=200)
    args = ap.parse_args()
    folder = Path(ct_series(500))
    files = sorted(folder.rglob("*.dcm"))[: max(1, args.frames)]
    header = pydicom.dcmread(files[0], stop_before_pixels=True)
    pipeline = FramePipeline.from_dataset(header)
    stacks = [decode_pixels(f, 0).array for f in files]
    print(f"{len(stacks)} frames {stacks[0].shape[1]}x{stacks[0].shape[0]} {stacks[0].dtype}, "
          f"Bits Stored {pipeline.bits_stored}, units {pipeline.units or '-'}")

    window = Window(40, 400)
    pipeline.display_lut(window)  # built once per window, then cached
    lut_take = []
    for stored in stacks:
        t0 = time.perf_counter()
        lut, offset = pipeline.display_lut(window)
        apply_display_lut(stored, lut, offset)
        lut_take.append(time.perf_counter() - t0)

    dragging = []
    for i, stored in enumerate(stacks):
        t0 = time.perf_counter()
        lut, offset = pipeline.display_lut(Window(40 + i, 400 + 2 * i))
        apply_display_lut(stored, lut, offset)
        dragging.append(time.perf_counter() - t0)

    build = []
    for i in range(50):
        fresh = FramePipeline.from_dataset(header)
        t0 = time.perf_counter()
        fresh.display_lut(Window(40 + i, 400))
        build.append(time.perf_counter() - t0)

    whole = []
    for stored in stacks:
        t0 = time.perf_counter()
        pipeline.to_display(stored, window)
        whole.append(time.perf_counter() - t0)

    header_cost = []
    for _ in range(50):
        t0 = time.perf_counter()
        FramePipeline.from_dataset(header)
        header_cost.append(time.perf_counter() - t0)

    print(f"  display_lut + take, same window:        {_ms(lut_take)}")
    print(f"  display_lut + take, window per frame:   {_ms(dragging)}")
    print(f"    of which building a 65536-entry LUT:  {_ms(build)}")
    print(f"  to_display, given window:               {_ms(whole)}")
    print(f"  FramePipeline.from_dataset (header):    {_ms(header_cost)}")
    print(f"  scrolling path: {1.0 / statistics.median(lut_take):.0f} frames/s of pipeline work")

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "x.png"
        ours = []
        for f in files[:20]:
            t0 = time.perf_counter()
            write_png(render_file(f, window=window).pixels, out)
            ours.append(time.perf_counter() - t0)
        print(f"  lightbox render (in-process, to PNG):   {_ms(ours)}")
        if shutil.which("dcm2pnm"):
            theirs = []
            for f in files[:20]:
                t0 = time.perf_counter()
                subprocess.run(["dcm2pnm", "+Ww", "40", "400", "+on", str(f), str(out)], check=True)
                theirs.append(time.perf_counter() - t0)
            print(f"  dcm2pnm +Ww 40 400 +on (a process):     {_ms(theirs)}")
            print(f"  ratio lightbox/dcm2pnm: {statistics.median(ours) / statistics.median(theirs):.2f}")


if __name__ == "__main__":
    main()
