"""The Grayscale Standard Display Function of DICOM PS3.14 (Barten's model).

PS3.14 section 7 defines luminance as a function of the JND index ``j``
(1..1023, 0.05 to 4000 cd/m²) by a rational polynomial in ``ln j``
(equation 1), and gives the inverse, the JND index of a luminance, as a
polynomial in ``log10 L`` (equation 2).  Both are used as printed in the
standard; :func:`luminance` and :func:`jnd_index` are inverse to within 0.1
JND over the whole range (the two fits' own disagreement, largest at the ends).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["JND_MIN", "JND_MAX", "L_MIN", "L_MAX", "luminance", "jnd_index", "gsdf_luminances"]

#: The JND index range of the GSDF and the luminances at its ends (PS3.14 section 7).
JND_MIN, JND_MAX = 1.0, 1023.0
L_MIN, L_MAX = 0.05, 3993.404

# PS3.14 equation 1: log10 L(j) = (a + c·x + e·x² + g·x³ + m·x⁴) / (1 + b·x + d·x² + f·x³ + h·x⁴ + k·x⁵), x = ln j
_A, _B, _C, _D = -1.3011877, -2.5840191e-2, 8.0242636e-2, -1.0320229e-1
_E, _F, _G, _H = 1.3646699e-1, 2.8745620e-2, -2.5468404e-2, -3.1978977e-3
_K, _M = 1.2992634e-4, 1.3635334e-3

# PS3.14 equation 2: j(L) = A + B·y + C·y² + ... + I·y⁸, y = log10 L
_INVERSE = (71.498068, 94.593053, 41.912053, 9.8247004, 0.28175407,
            -1.1878455, -0.18014349, 0.14710899, -0.017046845)


def luminance(jnd: ArrayLike) -> np.ndarray | float:
    """Luminance (cd/m²) at JND index ``jnd`` (PS3.14 equation 1).

    Parameters
    ----------
    jnd : float or array_like
        JND indices, nominally 1 to 1023 (values outside are extrapolated).

    Returns
    -------
    float or numpy.ndarray
        Luminance in cd/m², the shape of ``jnd``.
    """
    j = np.asarray(jnd, dtype=np.float64)
    x = np.log(j)
    num = _A + x * (_C + x * (_E + x * (_G + x * _M)))
    den = 1.0 + x * (_B + x * (_D + x * (_F + x * (_H + x * _K))))
    out = np.power(10.0, num / den)
    return float(out) if out.ndim == 0 else out


def jnd_index(lum: ArrayLike) -> np.ndarray | float:
    """JND index of luminance ``lum`` (cd/m²) (PS3.14 equation 2).

    Parameters
    ----------
    lum : float or array_like
        Luminances, nominally 0.05 to 4000 cd/m²; must be positive.

    Returns
    -------
    float or numpy.ndarray
        The JND index, the shape of ``lum``.

    Raises
    ------
    ValueError
        For a luminance that is not positive.
    """
    L = np.asarray(lum, dtype=np.float64)
    if np.any(~(L > 0)):
        raise ValueError("luminance must be positive for a JND index")
    y = np.log10(L)
    out = np.zeros_like(y)
    for coefficient in reversed(_INVERSE):
        out = out * y + coefficient
    return float(out) if out.ndim == 0 else out


def gsdf_luminances(l_min: float, l_max: float, count: int) -> np.ndarray:
    """The GSDF luminances of ``count`` P-values spanning ``l_min`` to ``l_max``.

    P-value ``p`` (0 to ``count - 1``) gets the luminance at the JND index
    ``j(l_min) + p · (j(l_max) - j(l_min)) / (count - 1)``: equal steps of
    P-value are equal numbers of JNDs (PS3.14 section 6).

    Parameters
    ----------
    l_min, l_max : float
        Luminance range (cd/m², ambient included), ``0 < l_min < l_max``.
    count : int
        Number of P-values (256 for 8 bits), at least 2.

    Returns
    -------
    numpy.ndarray
        ``count`` float64 luminances, ascending.
    """
    if count < 2:
        raise ValueError("at least two P-values are needed")
    if not 0 < l_min < l_max:
        raise ValueError(f"luminance range must satisfy 0 < Lmin < Lmax (got {l_min:g} to {l_max:g})")
    j0, j1 = jnd_index(l_min), jnd_index(l_max)
    jnd = j0 + np.arange(count, dtype=np.float64) * ((j1 - j0) / (count - 1))
    jnd[-1] = j1
    return np.asarray(luminance(jnd))
