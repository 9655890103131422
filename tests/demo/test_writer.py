"""The series writer gives the same bytes as pydicom.dcmwrite."""

from __future__ import annotations

import io

import numpy as np
import pydicom

from workstation.demo.headers import series_dataset, set_instance
from workstation.demo.plan import planned_series
from workstation.demo.writer import SeriesFileWriter


def test_series_writer_matches_dcmwrite_for_every_series():
    rng = np.random.default_rng(7)
    for plan in planned_series("small"):
        ds = series_dataset(plan)
        writer = SeriesFileWriter(ds)
        if plan.modality == "US":
            pixels = rng.integers(0, 256, (plan.frames, plan.rows, plan.columns, 3), dtype=np.uint8)
        else:
            pixels = rng.integers(0, 4096, (plan.rows, plan.columns), dtype=np.uint16)
        for index in sorted({0, plan.instances - 1}):
            set_instance(ds, plan, index, pixels.tobytes())
            expected = io.BytesIO()
            pydicom.dcmwrite(expected, ds, enforce_file_format=True)
            assert writer.encode(ds) == expected.getvalue(), (plan.study.key, plan.key, index)
