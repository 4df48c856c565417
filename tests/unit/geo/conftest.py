from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geo.boundaries import Boundaries, find_default_boundary_file
from geo.onspd_gen import random_points_in

REPO = Path(__file__).resolve().parents[3]
HAMMERSMITH = "E09000013"
KENSINGTON = "E09000020"


@pytest.fixture(scope="session")
def boundary_file() -> Path:
    return find_default_boundary_file(REPO)


@pytest.fixture(scope="session")
def london(boundary_file: Path) -> Boundaries:
    return Boundaries.from_file(boundary_file)


@pytest.fixture(scope="session")
def leaflet_dir() -> Path:
    path = REPO / "node_modules" / "leaflet" / "dist"
    assert (path / "leaflet.js").is_file(), "run npm ci: Leaflet is served from node_modules"
    return path


@pytest.fixture(scope="session")
def hf_points(london: Boundaries) -> tuple[np.ndarray, np.ndarray]:
    """2,000 random points inside Hammersmith and Fulham."""
    return random_points_in(london.geometry(HAMMERSMITH), 2000, np.random.default_rng(7))
