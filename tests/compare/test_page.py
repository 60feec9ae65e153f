"""The compare page, a rider's history and a shared link in Debian's chromium against the token server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.compare.conftest import TOKEN, Server
from tests.web.conftest import chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("compare-screenshots")


def test_compare_page_aligns_at_takeoff(browser: Any, cmp_server: Server, api: httpx.Client,
                                        jobs: dict[str, dict[str, Any]], shots: Path) -> None:
    api.patch(f"/jobs/{jobs['a2']['id']}", json={"rider": "Sam Rider"})
    root = cmp_server.url.removesuffix("/api/v1") + "/"
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.add_cookies([{"name": "pose_service_token", "value": TOKEN, "url": root}])
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        # the rider's history: three runs in upload order; pick A's and B's jumps and compare them
        page.goto(root + "#/riders/Sam%20Rider")
        page.wait_for_selector("table.history tbody tr")
        refs = page.eval_on_selector_all("table.history tbody tr", "rows => rows.map(r => r.dataset.ref)")
        assert refs == [f"{jobs[k]['id']}:1" for k in ("a", "b", "a2")]
        page.wait_for_selector(".plot .uplot")  # the plot of air time over the rider's runs
        page.screenshot(path=str(shots / "rider-desktop.png"), full_page=True)
        page.check(f"input[value='{refs[0]}']")
        page.check(f"input[value='{refs[1]}']")
        page.click("text=Compare the two picked")
        page.wait_for_function("window.poseCompare && window.poseCompare.ready", timeout=60000)

        def frames() -> tuple[int, int, int, int]:
            s = page.evaluate("(() => { const c = window.poseCompare; return [c.a.frame, c.b.frame,"
                              " c.compare.a.takeoff_frame, c.compare.b.takeoff_frame]; })()")
            return int(s[0]), int(s[1]), int(s[2]), int(s[3])

        fa, fb, ta, tb = frames()
        assert abs(fa - ta) <= 1 and abs(fb - tb) <= 1, (fa, fb, ta, tb)  # both on their takeoff frame
        for _ in range(4):
            page.click("text=frame ▶")
            page.wait_for_timeout(150)
        fa, fb, ta, tb = frames()
        assert fa - ta == 4 and abs((fb - tb) - (fa - ta)) <= 1, (fa, fb, ta, tb)  # stepping keeps them aligned
        drawn = page.evaluate("[window.poseCompare.a.overlay.drawnPoints, window.poseCompare.b.overlay.drawnPoints]")
        assert min(drawn) > 10, drawn  # both skeletons drawn
        air = page.get_attribute("tr[data-key='air_time_s'] td[data-diff]", "data-diff")
        assert air is not None and float(air) > 0.15  # B stayed longer in the air: a positive B - A
        assert page.get_attribute("tr[data-key='air_time_s']", "class") == "key-row"
        assert "B was in the air" in page.inner_text("#c-explanation")
        # both fitted bodies in one 3D scene: at takeoff B's hips sit on A's, and both are drawn
        page.click("text=Takeoff")
        page.wait_for_function("window.poseCompare.r === 0 && window.poseCompare.scene", timeout=60000)
        hips = page.evaluate("window.poseCompare.scene.hips()")
        assert all(hips) and sum((x - y) ** 2 for x, y in zip(*hips, strict=True)) ** 0.5 < 0.01, hips
        page.locator("#c-3d").scroll_into_view_if_needed()
        colours = page.evaluate("""(() => {
          const gl = window.poseCompare.scene.renderer.domElement;
          const c = document.createElement("canvas"); c.width = gl.width; c.height = gl.height;
          const ctx = c.getContext("2d"); ctx.drawImage(gl, 0, 0);
          const d = ctx.getImageData(0, 0, c.width, c.height).data;
          let orange = 0, ghost = 0;
          for (let i = 0; i < d.length; i += 4) {
            if (d[i] > 150 && d[i + 2] < 90 && d[i] - d[i + 1] > 60) orange++;
            if (d[i + 2] - d[i] > 50) ghost++;
          }
          return [orange, ghost];
        })()""")
        assert colours[0] > 200 and colours[1] > 200, colours  # A solid orange, B see-through blue
        page.screenshot(path=str(shots / "compare-desktop.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)
        page.screenshot(path=str(shots / "compare-phone.png"), full_page=True)
        # a read-only link to this comparison
        page.set_viewport_size({"width": 1280, "height": 900})
        page.click("text=Share…")
        link = page.get_attribute("a.share-link", "href")
        assert link and "#/shared/" in link
    finally:
        ctx.close()

    anon = browser.new_context(viewport={"width": 390, "height": 844})  # no access token at all
    page = anon.new_page()
    try:
        page.goto(link)
        page.wait_for_function("window.poseCompare && window.poseCompare.ready", timeout=60000)
        assert page.is_hidden("#auth")  # never asked for the server's token
        assert "B was in the air" in page.inner_text("#c-explanation")
        share = api.post("/shares", json={"job": jobs["b"]["id"]}).json()
        page.goto(root + f"#/shared/{share['token']}")
        page.wait_for_function("window.poseViewer && window.poseViewer.ready", timeout=60000)
        assert page.evaluate("window.poseViewer.overlay.drawnPoints") >= 0
        page.screenshot(path=str(shots / "shared-viewer-phone.png"), full_page=True)
        api.delete(f"/shares/{share['token']}")
        page.goto(root + "#/")
        page.goto(root + f"#/shared/{share['token']}")
        page.wait_for_selector("text=does not exist, was revoked or has expired")
    finally:
        anon.close()
    assert not errors, errors
