"""Entry point of the bundled (frozen) Lightbox.

``multiprocessing.freeze_support()`` comes first: the importer's 'spawn'
process pool starts this same executable for its workers.  The demo archive
is started as ``<python> -W ... -m workstation.net.archive CONFIG``; in the
bundle ``sys.executable`` is this program, so the ``-W``/``-m`` form of the
Python command line is understood here and runs that module.
"""

from __future__ import annotations

import multiprocessing
import runpy
import sys
import warnings


def _python_style_module(argv: list[str]) -> tuple[str, list[str]] | None:
    """``(module, args)`` when ``argv`` reads ``[-W FILTER ...] -m MODULE ARGS...``, else None."""
    i = 0
    filters = []
    while i + 1 < len(argv) and argv[i] == "-W":
        filters.append(argv[i + 1])
        i += 2
    if i + 1 < len(argv) and argv[i] == "-m" and argv[i + 1].startswith("workstation."):
        for spec in filters:
            action, _, category = spec.partition("::")
            if action == "ignore" and category == "DeprecationWarning":
                warnings.simplefilter("ignore", DeprecationWarning)
        return argv[i + 1], argv[i + 2:]
    return None


def bundle_check() -> int:
    """``lightbox --bundle-check`` (bundle only): every decoder, native library and app the build needs.

    Prints one line per check; exit 1 when one fails.  The smoke script runs it.
    """
    import numpy as np

    failures = 0

    def report(name: str, ok: bool, detail: str = "") -> None:
        nonlocal failures
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)

    from pydicom.pixels import get_decoder

    from workstation.dicom.transfer_syntax import DECODER_ORDER

    for ts, wanted in DECODER_ORDER.items():
        available = set(get_decoder(ts).available_plugins)
        # pylibjpeg decodes RLE only with pylibjpeg-rle, which Lightbox does not require.
        needed = {w for w in wanted if not (ts == "1.2.840.10008.1.2.5" and w == "pylibjpeg")}
        report(f"decoders for {ts}", needed <= available, ", ".join(sorted(available)) or "none")
    from pydicom import examples
    from pydicom.uid import JPEG2000Lossless, JPEGLSLossless, RLELossless

    for ts in (RLELossless, JPEGLSLossless, JPEG2000Lossless):
        try:
            ds = examples.ct
            original = ds.pixel_array.copy()
            ds.compress(ts, original, encoding_plugin="")
            ds.pixel_array_options = None
            report(f"encode+decode {ts.name}", bool(np.array_equal(ds.pixel_array, original)))
        except Exception as exc:  # any missing piece is a failure to report, not a crash
            report(f"encode+decode {ts.name}", False, str(exc))
    for module in ("gdcm", "SimpleITK", "vtkmodules.vtkRenderingOpenGL2", "vtkmodules.vtkRenderingVolumeOpenGL2",
                   "PySide6.QtWidgets", "pynetdicom.apps.qrscp.qrscp", "highdicom", "dicomweb_client", "sqlalchemy"):
        try:
            __import__(module)
            report(f"import {module}", True)
        except Exception as exc:
            report(f"import {module}", False, str(exc))
    from workstation.hanging.library import BUILTIN_DIR
    from workstation.reporting.templates import TEMPLATES_DIR
    from workstation.volume3d.presets import PRESETS_DIR

    for folder in (BUILTIN_DIR, TEMPLATES_DIR, PRESETS_DIR, BUILTIN_DIR.parent / "icons"):
        report(f"resources {folder.name}", folder.is_dir() and any(folder.iterdir()), str(folder))
    return 1 if failures else 0


def main() -> int:
    multiprocessing.freeze_support()
    if sys.argv[1:2] == ["--bundle-check"]:
        return bundle_check()
    module = _python_style_module(sys.argv[1:])
    if module is not None:
        name, args = module
        sys.argv = [name, *args]
        runpy.run_module(name, run_name="__main__", alter_sys=True)
        return 0
    from workstation.cli import main as lightbox_main

    return int(lightbox_main() or 0)


if __name__ == "__main__":
    sys.exit(main())
