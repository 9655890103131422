"""The calibrated display's cost: a 512x512 CT frame to screen pixels with and without the GSDF stage.

    .venv/bin/python -m bench.display_output [--frames 100]

Prints milliseconds per frame (median and best) of ``FrameDisplay.render`` (stored values to the 32-bit
pixels a QImage holds) for: no display function (8-bit), the GSDF of DCMTK's monitor.lut at 8 bits and
at 10 bits (the table is folded into the 65536-entry table: no cost per frame), and the GSDF at 8 bits
with the ordered dither (one more take per frame); then the time to compute a GSDF table and to
generate the 23 TG18 patterns.  Target: every path well under 16.7 ms (60 frames/s).
"""

from __future__ import annotations

import argparse
import glob
import statistics
import time

import numpy as np
from pydicom.dataset import Dataset

from workstation.display.settings import MonitorCalibration, screen_output
from workstation.display.tg18 import all_patterns
from workstation.imaging.frame_display import FrameDisplay
from workstation.imaging.pipeline import FramePipeline, Window


def _ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1e3:7.3f} ms (median; best {min(samples) * 1e3:.3f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=100)
    args = ap.parse_args()
    ds = Dataset()
    ds.Rows = ds.Columns = 512
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.Modality, ds.RescaleSlope, ds.RescaleIntercept = "CT", 1, -1024
    pipeline = FramePipeline.from_dataset(ds)
    rng = np.random.default_rng(0)
    frames = [rng.integers(-1024, 2000, (512, 512)).astype(np.int16) for _ in range(20)]
    window = Window(40, 400)
    luts = sorted(glob.glob("/usr/share/dcmtk*/monitor.lut"))
    gsdf = (MonitorCalibration(mode="gsdf", characteristic_file=luts[0]) if luts
            else MonitorCalibration(mode="gsdf", l_min=0.5, l_max=300.0, gamma=2.2))
    for name, calibration, bits, dither in (("no display function, 8-bit", MonitorCalibration(), 8, False),
                                            ("GSDF, 8-bit", gsdf, 8, False), ("GSDF, 10-bit", gsdf, 10, False),
                                            ("GSDF, 8-bit, dithered", gsdf, 8, True)):
        output, _ = screen_output(calibration, bits, dither)
        display = FrameDisplay()
        display.set_output(output)
        display.render(pipeline, frames[0], window)
        samples = []
        for i in range(args.frames):
            t = time.perf_counter()
            display.render(pipeline, frames[i % len(frames)], window)
            samples.append(time.perf_counter() - t)
        print(f"{name:28s} {_ms(samples)}")
    samples = []
    for _ in range(20):
        t = time.perf_counter()
        gsdf.table(256, 1024)
        samples.append(time.perf_counter() - t)
    print(f"{'GSDF table (256 -> 1024)':28s} {_ms(samples)}")
    t = time.perf_counter()
    all_patterns(1024)
    print(f"{'23 TG18 patterns, 1k':28s} {(time.perf_counter() - t) * 1e3:7.1f} ms")


if __name__ == "__main__":
    main()
