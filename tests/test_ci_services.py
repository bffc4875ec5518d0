"""The service setup script waits for another apt or dpkg run instead of failing."""

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_apt_get_waits_for_the_dpkg_lock(tmp_path):
    # Only an apt-get that records its arguments and the tools the script needs before
    # installing are on PATH, so the script sees nothing installed and stops after install.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "apt-calls"
    (bin_dir / "apt-get").write_text(
        f'#!/bin/sh\necho "$*" >> {calls}\ncase "$*" in *install*) exit 3;; esac\n')
    (bin_dir / "apt-get").chmod(0o755)
    # Seen as root, so the fake apt-get runs without sudo (whose PATH would skip it).
    (bin_dir / "id").write_text("#!/bin/sh\necho 0\n")
    (bin_dir / "id").chmod(0o755)
    for tool in ("seq", "awk"):
        if found := shutil.which(tool):
            (bin_dir / tool).symlink_to(found)
    result = subprocess.run(["/bin/bash", str(ROOT / ".ci" / "services")], cwd=tmp_path,
                            env={**os.environ, "PATH": str(bin_dir)}, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 3, result.stderr
    update, install = calls.read_text().splitlines()
    assert "update" in update and "install" in install
    for call in (update, install):
        assert "-o DPkg::Lock::Timeout=300" in call
