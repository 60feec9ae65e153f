"""The web page in a real browser against a real server: upload, live jobs, and the viewer of a finished job."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import Server, submit, wait_for, worker_pid

RIDER_RGB = (255, 106, 0)  # overlay.js RIDER_COLOUR
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
JOB_TIMEOUT_S = 240.0

# JS: seek the video to t and resolve once the page has drawn that frame (the viewer listens to `seeked` first).
SEEK = """async (t) => {
  const v = document.querySelector('#viewer video');
  await new Promise((res) => { v.addEventListener('seeked', res, {once: true}); v.currentTime = t; });
  await new Promise((res) => requestAnimationFrame(() => res()));
  return window.poseViewer.frame;
}"""

# JS: the overlay's pixels at the rider's torso and leg keypoints of the frame on screen, and at a corner.
OVERLAY_PIXELS = """() => {
  const o = window.poseViewer.overlay, r = o.result, c = o.canvas;
  const rider = r.tracks.find((t) => t.is_rider);
  const k = rider.frames.indexOf(window.poseViewer.frame);
  if (k < 0) return null;
  const scale = Math.min(c.width / o.width, c.height / o.height);
  const ox = (c.width - o.width * scale) / 2, oy = (c.height - o.height * scale) / 2;
  const ctx = c.getContext('2d');
  const px = (x, y) => Array.from(ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data);
  const points = [11, 12, 23, 24, 25, 26].filter((i) => rider.keypoints_2d[k][i][2] >= 0.5)
    .map((i) => px(ox + rider.keypoints_2d[k][i][0] * scale, oy + rider.keypoints_2d[k][i][1] * scale));
  return {points, corner: px(1, 1)};
}"""

# JS: pixels of the 3D canvas in the rider's colour (orange: red high, blue low) and a hash of where they are.
WEBGL_PIXELS = """() => {
  const s = window.poseViewer.scene, src = s.renderer.domElement;
  s.render(true);
  const c = document.createElement('canvas');
  c.width = src.width; c.height = src.height;
  const g = c.getContext('2d');
  g.drawImage(src, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let orange = 0, hash = 0, distinct = new Set();
  for (let i = 0; i < d.length; i += 4) {
    distinct.add((d[i] >> 4) * 256 + (d[i + 1] >> 4) * 16 + (d[i + 2] >> 4));
    if (d[i] > 120 && d[i] > 1.4 * d[i + 1] && d[i + 2] < 0.5 * d[i]) { orange++; hash = (hash * 31 + i) % 1000000007; }
  }
  return {orange, hash, colours: distinct.size, width: c.width, height: c.height};
}"""


class Page:
    """A page with the console errors it logged."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))


@pytest.fixture(scope="module")
def run(browser: Any, base_url: str, web_clip: Path, artifacts: Path) -> Iterator[dict[str, Any]]:
    """Upload the clip through the page (with the body mesh) and follow the job in the list until it succeeds."""
    context = browser.new_context(viewport=DESKTOP)
    p = Page(context.new_page())
    page = p.page
    page.goto(base_url)
    page.set_input_files("#file", str(web_clip))
    page.wait_for_function("document.getElementById('up-message').textContent.includes('queued as job')",
                           timeout=60_000)
    message = page.inner_text("#up-message")
    job_id = re.search(r"job ([0-9a-f]+)", message).group(1)  # type: ignore[union-attr]
    item = f"#job-{job_id}"
    states, progress = set(), set()
    deadline = time.monotonic() + JOB_TIMEOUT_S
    shot = False
    while time.monotonic() < deadline:
        state = page.get_attribute(item, "data-state")
        states.add(state)
        bar = page.query_selector(f"{item} progress")
        if bar is not None:
            progress.add(float(bar.get_attribute("value") or 0))
            if state == "running" and not shot and float(bar.get_attribute("value") or 0) > 0:
                page.screenshot(path=str(artifacts / "jobs-running-desktop.png"), full_page=True)
                shot = True
        if state in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.25)
    yield {"page": p, "job_id": job_id, "states": states, "progress": progress, "message": message}
    context.close()


@pytest.fixture
def viewer(run: dict[str, Any]) -> Any:
    """The page showing the finished job's viewer, opened from the job list unless a test left it open, so each
    viewer test runs alone or in any order."""
    page = run["page"].page
    open_already = page.evaluate("!!(window.poseViewer && window.poseViewer.ready)") and run["job_id"] in page.url
    if not open_already:
        page.goto(page.url.split("#")[0])
        page.click(f"#job-{run['job_id']} a:has-text('View')")
        page.wait_for_function("window.poseViewer && window.poseViewer.ready", timeout=60_000)
    page.wait_for_function("document.querySelector('#viewer video').readyState >= 2", timeout=30_000)
    page.evaluate("document.querySelector('#viewer video').pause()")
    return page


def _result(server: Server, job_id: str) -> dict[str, Any]:
    return json.loads(httpx.get(f"{server.url}/jobs/{job_id}/result.json", timeout=30).content)


def test_upload_then_live_progress_until_success(run: dict[str, Any], web_server: Server) -> None:
    assert "queued as job" in run["message"]
    job = httpx.get(f"{web_server.url}/jobs/{run['job_id']}", timeout=30).json()
    assert job["state"] == "succeeded", job
    assert {"running", "succeeded"} <= run["states"]  # the list followed the job as it went
    assert any(0 < p < 100 for p in run["progress"]), run["progress"]  # live progress from the events
    assert "result.glb" in job["files"]


def test_viewer_draws_every_skeleton_on_the_video(viewer: Any, artifacts: Path) -> None:
    page = viewer
    frame = page.evaluate(SEEK, 0.5)
    assert frame == 7 or frame == 8  # 15 fps: the frame nearest 0.5 s
    got = page.evaluate(OVERLAY_PIXELS)
    assert got and len(got["points"]) >= 4, got
    for rgba in got["points"]:  # the rider's joints are drawn in the rider's colour, opaque
        assert rgba[3] == 255 and all(abs(a - b) <= 40 for a, b in zip(rgba[:3], RIDER_RGB, strict=True)), got
    assert got["corner"][3] == 0  # and nothing where nobody is
    page.screenshot(path=str(artifacts / "viewer-desktop.png"), full_page=True)


def test_3d_view_loads_the_glb_and_follows_the_video(viewer: Any) -> None:
    page = viewer
    page.wait_for_function("window.poseViewer.glb && (window.poseViewer.glb.loaded || window.poseViewer.glb.error)",
                           timeout=60_000)
    glb = page.evaluate("window.poseViewer.glb")
    assert glb["loaded"] and glb["error"] is None, glb
    assert glb["bonesAnimated"] >= 15, glb  # Anny's posed bones, one rotation channel each
    page.evaluate(SEEK, 0.3)
    before = page.evaluate(WEBGL_PIXELS)
    sig_before = page.evaluate("window.poseViewer.scene.poseSignature()")
    assert before["orange"] > 200 and before["colours"] > 20, before  # the rider's mesh, lit, on a ground plane
    page.evaluate(SEEK, 1.6)  # in the air, mid-spin
    after = page.evaluate(WEBGL_PIXELS)
    assert page.evaluate("window.poseViewer.scene.poseSignature()") != pytest.approx(sig_before, abs=1e-3)
    assert after["orange"] > 200 and after["hash"] != before["hash"]
    page.click("button:has-text('Camera behind the rider')")
    behind = page.evaluate(WEBGL_PIXELS)
    assert behind["orange"] > 200 and behind["hash"] != after["hash"]


def test_plot_cursor_follows_playback_and_a_click_seeks(viewer: Any) -> None:
    page = viewer
    page.evaluate(SEEK, 0.2)
    x0 = page.evaluate("window.poseViewer.plot.headX")
    # while it plays, note at every presented frame its media time and the frame the viewer drew
    page.evaluate("""() => { const v = document.querySelector('#viewer video'); window.shown = [];
      const cb = (now, m) => { window.shown.push([m.mediaTime, window.poseViewer.frame]);
        if (!v.paused) v.requestVideoFrameCallback(cb); };
      v.requestVideoFrameCallback(cb); v.play(); }""")
    page.wait_for_function("document.querySelector('#viewer video').currentTime > 1.0", timeout=20_000)
    page.evaluate("document.querySelector('#viewer video').pause()")
    shown, times = page.evaluate("[window.shown, window.poseViewer.overlay.result.timestamps_s]")
    assert len(shown) >= 2, shown
    for media_time, frame in shown:  # the skeleton drawn is the one of the frame on screen
        assert abs(times[frame] - media_time) < 0.5 / 15, (media_time, frame, times[frame])
    x1, expected = page.evaluate("""() => {
      const p = window.poseViewer.plot; return [p.headX, p.plot.valToPos(window.poseViewer.time, 'x')]; }""")
    assert x1 > x0 + 20 and x1 == pytest.approx(expected, abs=1.0)
    over = page.locator(".plot .u-over")
    x = page.evaluate("window.poseViewer.plot.plot.valToPos(2.0, 'x')")
    over.click(position={"x": x, "y": over.bounding_box()["height"] / 2})  # type: ignore[index]
    page.wait_for_function("Math.abs(document.querySelector('#viewer video').currentTime - 2.0) < 0.05",
                           timeout=10_000)


def test_a_jump_click_seeks_to_takeoff_at_quarter_speed(run: dict[str, Any], viewer: Any,
                                                         web_server: Server) -> None:
    page = viewer
    jumps = _result(web_server, run["job_id"])["analysis"]["jumps"]
    assert jumps, "the synthetic 360 has a jump"
    assert page.locator(".jump-list li").count() == len(jumps)
    assert jumps[0]["explanation"] in page.inner_text(".jump-list")
    page.evaluate(SEEK, 0.0)
    page.click(".timeline .jump >> nth=0")
    state = page.evaluate("""() => { const v = document.querySelector('#viewer video');
      return {t: v.currentTime, rate: v.playbackRate, paused: v.paused}; }""")
    assert state["rate"] == 0.25 and not state["paused"]
    assert jumps[0]["takeoff_s"] - 0.05 <= state["t"] <= jumps[0]["takeoff_s"] + 0.5, (state, jumps[0])


def test_keys_step_frames_and_play(viewer: Any) -> None:
    page = viewer
    page.evaluate("document.querySelector('#viewer video').pause()")
    start = page.evaluate(SEEK, 1.0)
    page.click("#v-title")  # focus outside the controls
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"window.poseViewer.frame === {start + 1}", timeout=5_000)
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"window.poseViewer.frame === {start}", timeout=5_000)
    page.keyboard.press(" ")
    page.wait_for_function("!document.querySelector('#viewer video').paused", timeout=5_000)
    page.keyboard.press(" ")
    page.wait_for_function("document.querySelector('#viewer video').paused", timeout=5_000)


def test_phone_width_fits_and_no_console_errors(run: dict[str, Any], viewer: Any, artifacts: Path) -> None:
    page = viewer
    page.set_viewport_size(PHONE)
    page.evaluate(SEEK, 1.5)
    page.wait_for_timeout(300)  # resize observers
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(artifacts / "viewer-phone.png"), full_page=True)
    page.goto(page.url.split("#")[0])
    page.wait_for_selector(f"#job-{run['job_id']}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(artifacts / "jobs-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    assert run["page"].errors == []


def test_a_rejected_file_shows_the_apis_message(browser: Any, base_url: str, text_as_mp4: Path,
                                                 web_server: Server, artifacts: Path) -> None:
    with text_as_mp4.open("rb") as f:
        r = httpx.post(f"{web_server.url}/jobs", files={"video": (text_as_mp4.name, f, "video/mp4")}, timeout=30)
    assert r.status_code in (415, 422), r.text
    expected = r.json()["error"]["message"]
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(base_url)
    page.set_input_files("#file", str(text_as_mp4))
    page.wait_for_function("document.getElementById('up-message').textContent.includes('not accepted')",
                           timeout=30_000)
    shown = page.inner_text("#up-message")
    assert expected in shown and "notes.mp4" in shown, shown
    page.screenshot(path=str(artifacts / "rejected-desktop.png"))
    context.close()


def _network(cdp: Any, *, offline: bool = False, upload_bytes_s: int = -1) -> None:
    cdp.send("Network.emulateNetworkConditions", {"offline": offline, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": upload_bytes_s})


def _slow_upload(browser: Any, base_url: str, clip: Path) -> tuple[Any, Any, Any]:
    """A page uploading the clip over a slow link in several requests, once the server holds part of it."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    size = clip.stat().st_size
    _network(cdp, upload_bytes_s=max(4096, size // 8))  # about 8 s for the whole file
    page.goto(f"{base_url}?chunk={max(16384, size // 6)}")  # several requests, so some finish before a cut
    page.uncheck("#opt-mesh")
    page.set_input_files("#file", str(clip))
    page.wait_for_function("document.getElementById('up-bar').value > 0.15", timeout=30_000)
    assert re.search(r"/s", page.inner_text(".up-stats")) and "left" in page.inner_text(".up-stats")
    url = page.wait_for_function("""() => { const k = Object.keys(localStorage).find((k) => k.startsWith('tus::'));
      return k && new URL(JSON.parse(localStorage[k]).uploadUrl, location.href).href; }""",
                             timeout=10_000).json_value()
    deadline = time.monotonic() + 20
    while int(httpx.head(url, headers={"Tus-Resumable": "1.0.0"}).headers["Upload-Offset"]) == 0:
        assert time.monotonic() < deadline, "no chunk reached the server"
        time.sleep(0.1)
    return context, page, cdp


def _queued_job(page: Any, web_server: Server, clip: Path, *, cancel: bool = True) -> str:
    """The upload became a job (without the mesh); cancelled unless asked, as most tests only need the upload."""
    page.wait_for_function("document.getElementById('up-message').textContent.includes('queued as job')",
                           timeout=60_000)
    job_id = re.search(r"job ([0-9a-f]+)", page.inner_text("#up-message")).group(1)  # type: ignore[union-attr]
    job = httpx.get(f"{web_server.url}/jobs/{job_id}", timeout=30).json()
    assert job["video_name"] == clip.name and job["options"].get("mesh") is False
    if cancel:
        httpx.post(f"{web_server.url}/jobs/{job_id}/cancel", timeout=30)
    return job_id


def test_an_upload_resumes_after_a_reload(browser: Any, base_url: str, web_clip: Path, web_server: Server,
                                         artifacts: Path) -> None:
    context, page, cdp = _slow_upload(browser, base_url, web_clip)
    page.screenshot(path=str(artifacts / "uploading-desktop.png"))
    page.click("#up-pause")
    _network(cdp)
    page.reload()
    page.wait_for_selector("#resumable:not([hidden])", timeout=10_000)
    notice = page.inner_text("#resumable")
    assert web_clip.name in notice, notice
    sent = re.search(r"\((\d+)% sent\)", notice)  # the server kept the bytes that arrived before the pause
    assert sent and 0 < int(sent.group(1)) < 100, notice
    created: list[str] = []
    page.on("request", lambda req: created.append(req.url) if req.method == "POST" and req.url.endswith(
        "/uploads") else None)
    page.uncheck("#opt-mesh")
    page.set_input_files("#file", str(web_clip))
    _queued_job(page, web_server, web_clip)
    assert created == []  # the same upload went on; no new one was created
    context.close()


def test_an_upload_goes_on_after_the_connection_drops(browser: Any, base_url: str, web_clip: Path,
                                                      web_server: Server) -> None:
    context, page, cdp = _slow_upload(browser, base_url, web_clip)
    created: list[str] = []
    page.on("request", lambda req: created.append(req.url) if req.method == "POST" and req.url.endswith(
        "/uploads") else None)
    _network(cdp, offline=True)
    page.wait_for_timeout(2500)  # requests fail and are retried meanwhile
    _network(cdp)
    job_id = _queued_job(page, web_server, web_clip, cancel=False)
    assert created == []
    # without the mesh the viewer says so instead of a 3D view
    page.wait_for_selector(f"#job-{job_id}[data-state=succeeded]", timeout=JOB_TIMEOUT_S * 1000)
    page.click(f"#job-{job_id} a:has-text('View')")
    page.wait_for_function("window.poseViewer && window.poseViewer.ready", timeout=60_000)
    assert "No body mesh: this job ran without the 3D fit" in page.inner_text("#viewer")
    assert page.query_selector("#viewer .three-wrap") is None
    context.close()


def test_a_failed_job_shows_its_reason_and_log_then_retry_and_cancel(browser: Any, base_url: str, web_clip: Path,
                                                                     web_server: Server, artifacts: Path) -> None:
    with web_server.client() as client:
        job = submit(client, web_clip)
        pid = worker_pid(web_server.state_dir, job["id"])
        while client.get(f"/jobs/{job['id']}").json()["stage"] in (None, "starting"):
            time.sleep(0.05)
        os.killpg(pid, signal.SIGKILL)  # the worker dies: the job fails with the reason and its log
        failed = wait_for(client, job["id"], {"failed"}, timeout=30)
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base_url)
    item = f"#job-{job['id']}"
    page.wait_for_selector(f"{item}[data-state=failed]")
    assert failed["error"]["message"] in page.inner_text(f"{item} .message.error")
    page.click(f"{item} summary")  # the log's last lines, folded by default
    assert "worker starting" in page.inner_text(f"{item} pre.log")
    page.screenshot(path=str(artifacts / "failed-job-phone.png"), full_page=True)
    page.click(f"{item} button:has-text('Retry')")
    page.wait_for_selector(f"{item}[data-state=queued], {item}[data-state=running]", timeout=10_000)
    page.click(f"{item} button:has-text('Cancel')")
    page.wait_for_selector(f"{item}[data-state=cancelled]", timeout=20_000)
    assert page.query_selector(f"{item} button:has-text('Retry')") is not None
    assert errors == []
    context.close()
