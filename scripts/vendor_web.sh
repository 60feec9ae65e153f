#!/usr/bin/env bash
# Re-vendors the web page's third-party browser libraries from the npm registry at pinned versions into
# pose_service/web/vendor/, each with its licence file. Needs npm; run from anywhere: scripts/vendor_web.sh
set -euo pipefail

THREE=0.187.0
TUS=4.3.1
UPLOT=1.6.32

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/pose_service/web/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "three@$THREE" "tus-js-client@$TUS" "uplot@$UPLOT" >/dev/null
for pkg in three-$THREE tus-js-client-$TUS uplot-$UPLOT; do
    mkdir "$pkg" && tar xzf "$pkg.tgz" -C "$pkg"
done

rm -rf "$dest"
mkdir -p "$dest/three/addons/loaders" "$dest/three/addons/controls" "$dest/three/addons/utils" "$dest/tus" "$dest/uplot"

# three.js: the ES module build (three.module.js imports ./three.core.js) and the addons the viewer uses,
# kept in the package's relative layout so their own relative imports resolve; 'three' comes from the import map.
t="three-$THREE/package"
cp "$t/build/three.module.js" "$t/build/three.core.js" "$t/LICENSE" "$dest/three/"
cp "$t/examples/jsm/loaders/GLTFLoader.js" "$dest/three/addons/loaders/"
cp "$t/examples/jsm/controls/OrbitControls.js" "$dest/three/addons/controls/"
cp "$t/examples/jsm/utils/BufferGeometryUtils.js" "$t/examples/jsm/utils/SkeletonUtils.js" "$dest/three/addons/utils/"

# tus-js-client: the browser bundle (UMD, sets window.tus).
cp "tus-js-client-$TUS/package/dist/tus.min.js" "tus-js-client-$TUS/package/LICENSE" "$dest/tus/"

# uPlot: the ES module build and its stylesheet.
cp "uplot-$UPLOT/package/dist/uPlot.esm.js" "uplot-$UPLOT/package/dist/uPlot.min.css" "uplot-$UPLOT/package/LICENSE" \
    "$dest/uplot/"

cat > "$dest/VERSIONS" <<VERSIONS
three $THREE (MIT)
tus-js-client $TUS (MIT)
uplot $UPLOT (MIT)
VERSIONS
du -sh "$dest"
