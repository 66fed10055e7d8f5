"""Installing paycon: a clean editable install says nothing about our packaging."""

from __future__ import annotations

import subprocess
import venv
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
PACKAGES = ("paycon", "gateways", "outbox", "mock_gateways")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_an_editable_install_prints_no_packaging_warning(tmp_path: Path) -> None:
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"
    # As `make install` does: a current pip shows what the build backend warns about.
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        capture_output=True, check=True, cwd=tmp_path,
    )  # fmt: skip
    done = subprocess.run(
        [python, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check",
         "-e", str(REPOSITORY)],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    # pip's notes about this machine's package index settings are not ours.
    ours = [line for line in output.splitlines() if not line.startswith("WARNING: Location")]
    assert not [line for line in ours if "warning" in line.lower()], output
    assert "careful with folders" not in output
    # Installed without dependencies: find the packages (in this folder) without importing them.
    where = "import importlib.util as u; print(*(u.find_spec(p).origin for p in {}))"
    found = subprocess.run(
        [python, "-c", where.format(PACKAGES)], capture_output=True, text=True, check=True,
        cwd=tmp_path,
    )  # fmt: skip
    assert found.stdout.split() == [str(REPOSITORY / p / "__init__.py") for p in PACKAGES]
