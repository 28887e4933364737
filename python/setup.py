"""Builds firn._firn against libfirn.a (linked in statically, so the module
needs no LD_LIBRARY_PATH). FIRN_ROOT names the firn checkout (default: this
file's parent directory) and FIRN_BUILD its CMake build directory (default
$FIRN_ROOT/build); build libfirn first (cmake --build build)."""
import os
from pathlib import Path

from setuptools import Extension, setup

here = Path(__file__).resolve().parent
root = Path(os.environ.get("FIRN_ROOT", here.parent)).resolve()
build = Path(os.environ.get("FIRN_BUILD", root / "build")).resolve()
lib = build / "libfirn.a"
if not lib.exists():
    raise SystemExit(f"firn: {lib} not found: build libfirn first (cmake --build {build})")

sources = sorted(str(p.relative_to(here)) for p in (here / "src").glob("*.c"))
setup(
    ext_modules=[
        Extension(
            "firn._firn",
            sources=sources,
            include_dirs=[str(root / "include"), "src"],
            extra_objects=[str(lib)],
            libraries=["zstd", "snappy", "z", "lz4", "jansson", "sqlite3", "stdc++", "pthread", "m", "dl"],
            extra_compile_args=["-std=c11", "-Wall", "-Wextra", "-Wno-missing-field-initializers",
                                "-Wno-cast-function-type"],
            # libfirn's symbols stay inside the module
            extra_link_args=["-Wl,--exclude-libs,ALL"],
            depends=[str(p) for p in (here / "src").glob("*.h")],
        )
    ],
)
