#!/usr/bin/env bash
# Packs what a GPU machine of the device tool lacks into one ignored folder, `.carry/`, for `bench/gpu_device.sh`:
#
#     bash bench/gpu_pack.sh          # here, with the registries reachable; then, through the device tool:
#     run(command="bash bench/gpu_device.sh", carry=[".carry"])
#
# That machine's image has Python 3.12 with NumPy 2, OpenCV, SciPy, Matplotlib and attrs, but no MediaPipe, PyAV,
# LiteRT or pydantic, no EGL loaders, and nothing can be fetched there. So this script downloads, for CPython 3.12
# on x86-64 Linux, the versions requirements.lock pins (NumPy 1.26, which MediaPipe 0.10.21 needs, shadows the
# image's), unpacks the wheels into one site folder, drops what the pose stage never loads (MediaPipe's face, hand
# and other models, LiteRT's WebGPU accelerator and compiler tools, NumPy's tests and f2py), and compresses it with xz;
# the glvnd loaders come as Debian packages; the clips are copied from ../shared/media (that folder does not
# travel). Everything travels within the tool's 64 MiB (about 61 MiB: the site folder 53, the repository 5, the clips 3.5).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
MEDIA="${MEDIA:-$ROOT/../shared/media}"
CARRY="$ROOT/.carry"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

rm -rf "$CARRY"
mkdir -p "$CARRY/gl" "$CARRY/media/real_snow" "$WORK/wheels" "$WORK/site"

# 1. Wheels for CPython 3.12, the pinned versions.
pinned() {  # NAME==VERSION as requirements.lock spells it ("-" and "_" alike), or nothing
    grep -i -E "^${1//[-_]/[-_]}==" "$ROOT/requirements.lock" | head -n 1 || true
}
platforms=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64
           --platform manylinux2014_x86_64)
for name in mediapipe numpy protobuf av ai-edge-litert pydantic pydantic-core pydantic-settings python-dotenv \
            typing-inspection annotated-types typing-extensions; do
    spec="$(pinned "$name")"
    [[ -n "$spec" ]] || { echo "$name is not pinned in requirements.lock" >&2; exit 2; }
    "$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        "${platforms[@]}" -d "$WORK/wheels" "$spec" 2>&1 | grep -v "^WARNING: Location" || true
done
for wheel in "$WORK"/wheels/*.whl; do
    "$PYTHON" -m zipfile -e "$wheel" "$WORK/site"
done

# 2. What the pose stage never loads.
for d in "$WORK"/site/mediapipe/modules/*/; do
    case "$(basename "$d")" in pose_detection|pose_landmark) ;; *) find "$d" -name '*.tflite' -delete ;; esac
done
rm -rf "$WORK"/site/numpy/*/tests "$WORK"/site/numpy/tests "$WORK"/site/ai_edge_litert/libLiteRtWebGpuAccelerator.so \
       "$WORK"/site/ai_edge_litert/tools "$WORK"/site/ai_edge_litert/vendors
rm -rf "$WORK"/site/numpy/f2py "$WORK"/site/numpy/distutils "$WORK"/site/numpy/doc
if command -v strip >/dev/null; then  # MediaPipe's bindings ship with their symbol table (7 MB)
    strip --strip-unneeded "$WORK"/site/mediapipe/python/_framework_bindings.*.so
fi
tar -C "$WORK" -cf - site | xz -9e -T0 >"$CARRY/site.tar.xz"

# 3. The EGL and GLES loaders (glvnd), as Debian packages for amd64.
apt_opts=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists="$WORK/lists")
mkdir -p "$WORK/lists/partial"
apt-get "${apt_opts[@]}" update >"$WORK/apt.log" 2>&1
(cd "$CARRY/gl" && apt-get "${apt_opts[@]}" download libegl1 libgles2 libglvnd0 libgl1 libopengl0 libglx0 \
    >>"$WORK/apt.log" 2>&1) || { tail -n 3 "$WORK/apt.log" >&2; exit 2; }

# 4. The clips.
for f in "$MEDIA/phalp_vid.mp4" "$MEDIA"/real_snow/*.mov "$MEDIA/real_snow/truth.json"; do
    [[ -f "$f" ]] || continue
    case "$f" in */real_snow/*) cp "$f" "$CARRY/media/real_snow/" ;; *) cp "$f" "$CARRY/media/" ;; esac
done

total=$(( $(du -sb "$CARRY" | cut -f1) + $(git -C "$ROOT" ls-files -co --exclude-standard -z | du -cb --files0-from=- | tail -n 1 | cut -f1) ))
echo "packed $CARRY: $(du -sh "$CARRY" | cut -f1); with the repository $((total / 1048576)) MiB of the tool's 64"
