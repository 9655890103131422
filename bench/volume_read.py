"""Reading a cached 500-slice CT into one int16 volume, against SimpleITK's ImageSeriesReader.

    .venv/bin/python -m bench.volume_read [--runs 5]

The same measurement as ``bench.volume_build`` (Lightbox's volume from the cache
against SimpleITK on the same files, with the voxels and geometry compared); this
name is kept for the figures and notes that use it.
"""

from __future__ import annotations

from bench.volume_build import main

if __name__ == "__main__":
    main()
