"""3D frame time of the 500-slice CT at 512 x 512 on this CPU, interactive and full quality; memory of MPR and 3D.

    .venv/bin/python -m bench.vr [--frames 7] [--mapper cpu|gpu]

Renders offscreen (OSMesa) with the ct-bone preset, turning the camera 5 degrees
per frame.  Target: interactive at most 100 ms.  Memory: resident size added by
the volume, three MPR reslices and the 3D view together, against the raw volume
size (target at most 2.5x).
"""

from __future__ import annotations

import argparse
import time

from bench._ctseries import median, rss_bytes
from bench.mpr import load_ct500
from workstation.volume3d.mpr_controller import MprController
from workstation.volume3d.presets import load_preset
from workstation.volume3d.rendering import offscreen_window, renderer_string
from workstation.volume3d.scene3d import VolumeScene


def frames(window, scene: VolumeScene, n: int) -> list[float]:
    out = []
    cam = scene.renderer.GetActiveCamera()
    for _ in range(n):
        cam.Azimuth(5)
        t0 = time.perf_counter()
        window.Render()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=7)
    ap.add_argument("--mapper", choices=("cpu", "gpu"), default="cpu")
    args = ap.parse_args()
    warm = offscreen_window(64, 64)
    warm.Render()  # OpenGL and its JIT compiler are loaded once per process, whatever the data
    base = rss_bytes()
    vol = load_ct500()
    raw = vol.array.nbytes
    with_volume = rss_bytes()
    mpr_windows = []
    controller = MprController(vol, (40, 400))
    for scene in controller.scenes.values():
        w = offscreen_window(512, 512)
        w.AddRenderer(scene.renderer)
        mpr_windows.append(w)
    controller.refresh()
    for w in mpr_windows:
        w.Render()
    window = offscreen_window(512, 512)
    scene = VolumeScene(vol, mapper=args.mapper)
    scene.attach(window)
    scene.apply_preset(load_preset("ct-bone"))
    scene.view(30, 10)
    t0 = time.perf_counter()
    window.Render()
    first = time.perf_counter() - t0
    full = frames(window, scene, args.frames)
    scene.set_interactive(True)
    interactive = frames(window, scene, args.frames)
    scene.set_interactive(False)
    views = rss_bytes() - with_volume
    used = raw + views
    print(f"3D of {vol.shape[2]}x{vol.shape[1]}x{vol.shape[0]} int16 at 512x512, "
          f"{args.mapper.upper()} mapper on {renderer_string(window)}:")
    print(f"  first frame (builds gradients): {first:.2f} s")
    print(f"  full quality:  median {median(full) * 1000:6.0f} ms  "
          f"(frames {', '.join(f'{x * 1000:.0f}' for x in full)})")
    print(f"  interactive:   median {median(interactive) * 1000:6.0f} ms  (target <= 100 ms)")
    print(f"  memory: the volume ({raw / 2**20:.0f} MiB) + what 3 MPR views and the 3D view added "
          f"({views / 2**20:.0f} MiB)"
          f" = {used / raw:.2f}x the raw volume (target <= 2.5x)")
    print(f"  (reading the series, index included, left the process {(with_volume - base) / 2**20:.0f} MiB larger)")
    for w in mpr_windows + [window, warm]:
        w.Finalize()


if __name__ == "__main__":
    main()
