"""Compact geometry encoding for the map page: integer 1e-5 degree steps, delta-coded.

A hexagon costs ~60 bytes instead of ~250 as GeoJSON; ``hexlayer.js`` decodes it in the browser.
"""

from __future__ import annotations

from collections.abc import Sequence

from .zones import Ring

SCALE = 100_000  # 1e-5 degrees: ~1.1 m north-south, ~0.7 m east-west in the UK


def encode_rings(zones: Sequence[Sequence[Ring]], origin: tuple[float, float]) -> list[list[list[int]]]:
    """Each zone -> list of rings -> [y0, x0, dy1, dx1, ...]. The first vertex of a ring is
    relative to the first vertex of the ring before it (zones arrive roughly sorted in space)."""
    oy, ox = origin
    prev_y = prev_x = 0
    out: list[list[list[int]]] = []
    for rings in zones:
        enc_zone: list[list[int]] = []
        for ring in rings:
            ints = [(round((lat - oy) * SCALE), round((lon - ox) * SCALE)) for lat, lon in ring]
            if not ints:
                continue
            y0, x0 = ints[0]
            flat = [y0 - prev_y, x0 - prev_x]
            prev_y, prev_x = y0, x0
            last_y, last_x = y0, x0
            for y, x in ints[1:]:
                flat.extend((y - last_y, x - last_x))
                last_y, last_x = y, x
            enc_zone.append(flat)
        out.append(enc_zone)
    return out


def decode_rings(encoded: Sequence[Sequence[Sequence[int]]], origin: tuple[float, float]) -> list[list[Ring]]:
    """Inverse of ``encode_rings`` (used by tests; the browser has its own copy)."""
    oy, ox = origin
    prev_y = prev_x = 0
    out: list[list[Ring]] = []
    for zone in encoded:
        rings: list[Ring] = []
        for flat in zone:
            y, x = prev_y + flat[0], prev_x + flat[1]
            prev_y, prev_x = y, x
            ring: Ring = [(oy + y / SCALE, ox + x / SCALE)]
            for i in range(2, len(flat), 2):
                y += flat[i]
                x += flat[i + 1]
                ring.append((oy + y / SCALE, ox + x / SCALE))
            rings.append(ring)
        out.append(rings)
    return out
