#!/usr/bin/env bash
# The pose stage on MediaPipe's GPU delegate (EGL) against the CPU, on the real clips: one prepared check for a
# GPU machine (under 5 minutes on one H200), run from the repository root:
#
#     bash bench/gpu_check.sh    # or: MAX_FRAMES=120 MEDIA=/path/to/media SCALING=1,4,16 SIZES=640 bash bench/gpu_check.sh
#
# 1. installs what EGL needs with apt-get when it is missing (Debian's libegl1 libgles2 libglvnd0 libgl1
#    libopengl0; needs root and the package mirror; skipped, saying so, otherwise),
# 2. points __EGL_VENDOR_LIBRARY_FILENAMES at NVIDIA's vendor file when that file exists and the variable is unset,
# 3. runs bench/gpu_compare.py on ../shared/media/sports2d_demo.mp4, phalp_vid.mp4 and real_snow/*.mov (those
#    present): people per frame agreement, 2D distance of matched people (mean, 95th percentile), frames/s of each
#    delegate, as a Markdown table. Without a usable GPU it runs the CPU half and says "GPU not usable: <why>".
#
# Writes nothing outside $OUT (when set: gpu_compare.json, gpu_check.md) or a temporary folder it removes: the
# pose bundle is taken from the data folder when it is there, else built into the temporary folder.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
MEDIA="${MEDIA:-$ROOT/../shared/media}"
MAX_FRAMES="${MAX_FRAMES:-300}"
SCALING="${SCALING:-}"  # e.g. 1,4,16: CPU processes side by side on the first clip (total frames/s)
SIZES="${SIZES:-}"  # e.g. 640,960: the first clip shrunk to these longer sides, both delegates
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
export PYTHONDONTWRITEBYTECODE=1 MPLCONFIGDIR="$TMP/mpl"

if ! command -v "$PYTHON" >/dev/null; then
    echo "no interpreter at $PYTHON: run \`make demo\` (or set PYTHON to the project's venv python)" >&2
    exit 2
fi

# 1. The EGL and GLES loaders (glvnd).
# A package counts as there when its library is (the loaders may have been unpacked by hand, outside dpkg's records).
declare -A LIBRARY=([libegl1]=libEGL.so.1 [libgles2]=libGLESv2.so.2 [libglvnd0]=libGLdispatch.so.0
                    [libgl1]=libGL.so.1 [libopengl0]=libOpenGL.so.0)
libraries="$(ldconfig -p 2>/dev/null || true)"
missing=()
for pkg in libegl1 libgles2 libglvnd0 libgl1 libopengl0; do
    grep -q "${LIBRARY[$pkg]} " <<<"$libraries" && continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "installing ${missing[*]} (apt-get)"
        if ! { apt-get install -y --no-install-recommends "${missing[@]}" >"$TMP/apt.log" 2>&1 \
               || { apt-get update >>"$TMP/apt.log" 2>&1 \
                    && apt-get install -y --no-install-recommends "${missing[@]}" >>"$TMP/apt.log" 2>&1; }; }; then
            echo "apt-get could not install ${missing[*]}: $(tail -n 1 "$TMP/apt.log")"
        fi
    else
        echo "missing ${missing[*]} and not root (or no apt-get): not installing them"
    fi
fi

# 2. NVIDIA's EGL vendor file.
if [[ -z "${__EGL_VENDOR_LIBRARY_FILENAMES:-}" ]]; then
    for f in /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json /usr/share/glvnd/egl_vendor.d/10_nvidia.json \
             /etc/glvnd/egl_vendor.d/10_nvidia.json; do
        if [[ -f "$f" ]]; then
            export __EGL_VENDOR_LIBRARY_FILENAMES="$f"
            break
        fi
    done
fi
echo "__EGL_VENDOR_LIBRARY_FILENAMES=${__EGL_VENDOR_LIBRARY_FILENAMES:-(unset)}"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.used --format=csv,noheader || true

# The data folder: the configured one when it holds the pose bundle, else a temporary one (the bundle is built
# there from the mediapipe wheel).
DATA="${POSE_SERVICE_DATA_DIR:-$ROOT/.data}"
if [[ ! -f "$DATA/models/pose_landmarker_full_multi.task" ]]; then
    DATA="$TMP/data"
fi
export POSE_SERVICE_DATA_DIR="$DATA"

# 3. The clips.
clips=()
for f in "$MEDIA/phalp_vid.mp4" "$MEDIA/sports2d_demo.mp4" "$MEDIA"/real_snow/*.mov; do
    [[ -f "$f" ]] && clips+=("$f")
done
if ((${#clips[@]} == 0)); then
    echo "no clips found in $MEDIA (set MEDIA to the folder holding sports2d_demo.mp4)" >&2
    exit 2
fi

json_args=()
if [[ -n "${OUT:-}" ]]; then
    mkdir -p "$OUT"
    json_args=(--json "$OUT/gpu_compare.json")
fi
"$PYTHON" "$ROOT/bench/gpu_compare.py" --max-frames "$MAX_FRAMES" --scaling "$SCALING" --sizes "$SIZES" "${json_args[@]}" "${clips[@]}" \
    | tee "$TMP/gpu_check.md"
if [[ -n "${OUT:-}" ]]; then
    cp "$TMP/gpu_check.md" "$OUT/gpu_check.md"
fi
