#!/usr/bin/env bash
# Build (once) an mmcv wheel with its C++ ops for the torch installed in $PYTHON's
# environment, and keep it in a cache directory outside the repository.
#
# mmcv 2.1.0 (the newest release mmsegmentation 1.2.2 accepts) is on PyPI only
# as a source archive. Its setup.py imports pkg_resources (setuptools<81) and
# compiles with -std=c++14/17, while the headers of torch >= 2.10 need C++20.
#
# Usage: tools/build_mmcv_wheel.sh PYTHON
# Env:   UPERNET_MM_CACHE  cache root (default: ~/.cache/upernet_mm)
#        MMCV_VERSION      (default: 2.1.0)
# Prints the path of the wheel on its last line.
set -euo pipefail

PYTHON=${1:?usage: build_mmcv_wheel.sh PYTHON}
PYTHON=$(command -v "$PYTHON")
case "$PYTHON" in /*) ;; *) PYTHON="$PWD/$PYTHON" ;; esac
MMCV_VERSION=${MMCV_VERSION:-2.1.0}
CACHE=${UPERNET_MM_CACHE:-$HOME/.cache/upernet_mm}
TORCH_TAG=$("$PYTHON" -c 'import sys, torch; print("torch%s-py%d%d" % (torch.__version__.split("+")[0], *sys.version_info[:2]))')
WHEEL_DIR="$CACHE/wheels/$TORCH_TAG"

shopt -s nullglob
existing=("$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl)
if (( ${#existing[@]} )); then
    echo "mmcv $MMCV_VERSION: reusing cached wheel" >&2
    echo "${existing[0]}"
    exit 0
fi

mkdir -p "$WHEEL_DIR" "$CACHE/src"
work=$(mktemp -d "$CACHE/src/build.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "mmcv $MMCV_VERSION: building from source against $TORCH_TAG (about 15 minutes on 2 cores)" >&2
"$PYTHON" -m pip download --quiet --no-deps --no-binary :all: --no-build-isolation \
    "mmcv==$MMCV_VERSION" -d "$work" >&2
tar -xzf "$work/mmcv-$MMCV_VERSION.tar.gz" -C "$work"
src="$work/mmcv-$MMCV_VERSION"
sed -i -E "s/-std=c\+\+1[47]/-std=c++20/g" "$src/setup.py"
if grep -qE -- "-std=c\+\+1[47]" "$src/setup.py"; then
    echo "error: could not patch the C++ standard in $src/setup.py" >&2
    exit 1
fi

# CPU ops only: the CUDA build of torch reports no device here, keep it that way.
(cd "$src" && MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
    "$PYTHON" -m pip wheel --quiet --no-deps --no-build-isolation . -w "$work/dist" >&2)
built=("$work"/dist/mmcv-"$MMCV_VERSION"-*.whl)
(( ${#built[@]} )) || { echo "error: mmcv build produced no wheel" >&2; exit 1; }
# Publish atomically so a concurrent or interrupted build never leaves half a wheel.
name=$(basename "${built[0]}")
cp "${built[0]}" "$WHEEL_DIR/.$name.tmp"
mv "$WHEEL_DIR/.$name.tmp" "$WHEEL_DIR/$name"
echo "$WHEEL_DIR/$name"
