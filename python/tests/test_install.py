"""make install-python (part of make install) puts a working module and
its stubs into PYTHONDIR under DESTDIR."""

import os
import pathlib
import subprocess
import sys

import pytest

import libring
from conftest import ROOT


def test_make_install_python(tmp_path, path):
    built = pathlib.Path(libring.__file__).resolve()
    if built.parent != ROOT / "python":
        pytest.skip("not the default build (%s)" % built)
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "SANITIZE")}
    pydir = "/usr/lib/python3/dist-packages"
    subprocess.run(["make", "-s", "-C", str(ROOT), "install-python",
                    "DESTDIR=%s" % tmp_path, "PYTHONDIR=%s" % pydir,
                    "PYTHON=%s" % sys.executable],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    dest = tmp_path / pydir.lstrip("/")
    assert (dest / built.name).is_file()
    assert (dest / "libring.pyi").is_file()
    code = ("import libring, sys\n"
            "r = libring.create(sys.argv[1], capacity=4096, groups=['g'])\n"
            "r.send(b'installed')\n"
            "m = r.reader('g').take(timeout=0)\n"
            "print(libring.__file__, bytes(m.data).decode())\n")
    env["PYTHONPATH"] = str(dest)
    out = subprocess.run([sys.executable, "-c", code, path], check=True,
                         cwd=tmp_path, env=env, capture_output=True,
                         text=True).stdout.split()
    assert out == [str(dest / built.name), "installed"]
