"""Riders, compare and shares against a real server with real analysed clips."""

from __future__ import annotations

import base64
import http.client
import sqlite3
from pathlib import Path
from typing import Any

import av
import httpx

from pose_service.analysis.compare import compare_jumps, landing_grade
from pose_service.jobs.riders import RiderStore
from tests.compare.conftest import Server


def test_rider_tagged_at_upload_and_later(api: httpx.Client, jobs: dict[str, dict[str, Any]]) -> None:
    assert jobs["a"]["rider"] == "Sam Rider"
    assert jobs["b"]["rider"] == "sam rider"  # whitespace collapsed; the same rider whatever the case
    assert jobs["a2"]["rider"] is None
    r = api.patch(f"/jobs/{jobs['a2']['id']}", json={"rider": "Sam Rider"})
    assert r.status_code == 200, r.text
    assert r.json()["rider"] == "Sam Rider"
    assert api.get(f"/jobs/{jobs['a2']['id']}").json()["rider"] == "Sam Rider"


def test_rider_from_tus_metadata(api: httpx.Client, attempts: tuple[Path, Path]) -> None:
    data = attempts[0].read_bytes()
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in
                    (("filename", "tus.mp4"), ("rider", "Tus Tester")))
    r = api.post("/uploads", headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)),
                                      "Upload-Metadata": meta})
    assert r.status_code == 201, r.text
    upload_id = r.headers["Location"].rsplit("/", 1)[1]
    r = api.patch(f"/uploads/{upload_id}", content=data, headers={
        "Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
    assert r.status_code == 204, r.text
    job = api.post("/jobs", json={"upload_id": upload_id, "mesh": False}).json()
    api.post(f"/jobs/{job['id']}/cancel")  # only its tag matters here
    assert job["rider"] == "Tus Tester"
    assert api.get(f"/jobs/{job['id']}").json()["rider"] == "Tus Tester"
    r = api.post("/jobs", json={"upload_id": "0" * 32, "rider": "\u0007bell"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_rider"


def test_rider_errors(api: httpx.Client, jobs: dict[str, dict[str, Any]]) -> None:
    r = api.patch(f"/jobs/{jobs['a']['id']}", json={"rider": "x" * 61})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_rider"
    assert api.patch("/jobs/" + "0" * 32, json={"rider": "Sam"}).status_code == 404
    r = api.get("/riders/Nobody%20Here/jumps")
    assert r.status_code == 404 and "GET /api/v1/riders" in r.json()["error"]["hint"]


def test_rider_history_lists_three_jobs_in_date_order(api: httpx.Client, jobs: dict[str, dict[str, Any]]) -> None:
    api.patch(f"/jobs/{jobs['a2']['id']}", json={"rider": "Sam Rider"})
    riders = api.get("/riders").json()
    assert [r["jobs"] for r in riders["data"] if r["name"].casefold() == "sam rider"] == [3]
    r = api.get("/riders/SAM RIDER/jumps")
    assert r.status_code == 200, r.text
    body = r.json()
    order = [jobs[k]["id"] for k in ("a", "b", "a2")]
    assert [j["job_id"] for j in body["data"]] == order  # one jump per clip, oldest upload first
    assert [j["created_at"] for j in body["data"]] == sorted(j["created_at"] for j in body["data"])
    for j in body["data"]:
        assert j["trick"] == "frontside 360" and j["spin_deg"] == 360 and j["spin_direction"] == "left"
        assert j["date"].startswith("20") and j["ref"] == f"{j['job_id']}:1"
        assert j["grade"] is None or 0 <= j["grade"] <= 10
    # B has 0.3 s more air than A: its jump holds the best air time
    assert body["best"]["air_time_s"]["ref"] == f"{jobs['b']['id']}:1"
    assert body["best"]["air_time_s"]["value"] == max(j["air_time_s"] for j in body["data"])


def test_compare_two_attempts(api: httpx.Client, jobs: dict[str, dict[str, Any]]) -> None:
    a, b = f"{jobs['a']['id']}:1", f"{jobs['b']['id']}:1"
    r = api.get("/compare", params={"a": a, "b": b})
    assert r.status_code == 200, r.text
    c = r.json()
    rows = {m["key"]: m for m in c["metrics"]}
    air = rows["air_time_s"]
    assert air["diff"] > 0.15 and air["better"] == "b"  # B: 1.1 s of air against 0.8 s (rendered truth)
    assert abs(air["diff"] - (air["b"] - air["a"])) < 1e-3
    assert rows["spin_deg"]["diff"] == 0  # the same trick
    assert c["most_important"] == "air_time_s"
    assert c["explanation"].startswith("B was in the air") and "longer than A" in c["explanation"]
    assert c["a"]["trick"] == c["b"]["trick"] == "frontside 360"  # a 360 to the left, left foot leading
    assert c["align"]["offset_s"] == round(c["align"]["b_takeoff_s"] - c["align"]["a_takeoff_s"], 4)
    # swapped, every difference changes sign
    back = {m["key"]: m for m in api.get("/compare", params={"a": b, "b": a}).json()["metrics"]}
    for key, m in rows.items():
        if m["diff"] is not None:
            assert back[key]["diff"] == -m["diff"], key


def test_compare_errors(api: httpx.Client, jobs: dict[str, dict[str, Any]]) -> None:
    a = jobs["a"]["id"]
    r = api.get("/compare", params={"a": a, "b": f"{a}:1"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_jump_ref"
    r = api.get("/compare", params={"a": f"{a}:9", "b": f"{a}:1"})
    assert r.status_code == 404 and "has 1 jumps" in r.json()["error"]["message"]
    r = api.get("/compare", params={"a": f"{'f' * 32}:1", "b": f"{a}:1"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "job_not_found"


def test_compare_rules_on_plain_jumps() -> None:
    base = {"takeoff_s": 1.0, "landing_s": 1.8, "air_time_s": 0.8, "spin_deg": 360, "spin_direction": "left",
            "flip_deg": 0, "flip_direction": None, "height_m": 0.5, "rotation_agreement": 0.9,
            "landing_knee_min_deg": 120.0,
            "angles": {"takeoff": {"left_knee": 160, "right_knee": 160}, "landing": {"left_knee": 150,
                                                                                     "right_knee": 150, "trunk_lean": 10}}}
    stiff = {**base, "landing_knee_min_deg": 170.0,
             "angles": {**base["angles"], "landing": {"left_knee": 172, "right_knee": 170, "trunk_lean": 45}}}
    assert landing_grade(base) == 10.0
    assert landing_grade(stiff) == 10.0 - 3.0 - 3.0  # stiff, and 15 deg past the lean limit
    c = compare_jumps(base, stiff)
    # the leaning landing: 35 deg more lean is the biggest difference in units of its scale (10 deg)
    assert c["most_important"] == "landing_lean_deg"
    assert c["explanation"] == "B's upper-body lean at touchdown was 35° more than A's (45° against 10°)."
    assert {m["key"]: m["better"] for m in c["metrics"]}["landing_grade"] == "a"
    assert compare_jumps(base, dict(base))["most_important"] is None
    other = compare_jumps(base, {**base, "spin_deg": 540, "spin_direction": "right"})
    assert other["most_important"] == "spin_deg" and "a 540 to the right" in other["explanation"]


def test_share_opens_one_result_and_nothing_else(cmp_server: Server, api: httpx.Client,
                                                 jobs: dict[str, dict[str, Any]]) -> None:
    job, other = jobs["a"]["id"], jobs["b"]["id"]
    r = api.post("/shares", json={"job": job})
    assert r.status_code == 201, r.text
    share = r.json()
    token = share["token"]
    assert len(token) >= 32 and share["url"] == f"/#/shared/{token}"
    with httpx.Client(base_url=cmp_server.url, timeout=30) as anon:  # no access token: only the link
        assert anon.get("/jobs").status_code == 401
        got = anon.get(f"/shared/{token}")
        assert got.status_code == 200 and [j["id"] for j in got.json()["jobs"]] == [job]
        assert anon.get(f"/shared/{token}/jobs/{job}").json()["state"] == "succeeded"
        result = anon.get(f"/shared/{token}/jobs/{job}/result.json")
        assert result.status_code == 200 and result.json()["analysis"]["jumps"]
        part = anon.get(f"/shared/{token}/jobs/{job}/video", headers={"Range": "bytes=0-99"})
        assert part.status_code == 206 and len(part.content) == 100
        # another job through the same link, the token used as a bearer, or a bypass of the path: refused
        for path in (f"/shared/{token}/jobs/{other}", f"/shared/{token}/jobs/{other}/result.json",
                     f"/shared/{token}/jobs/{other}/video"):
            assert anon.get(path).status_code == 404, path
        assert anon.get("/jobs", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        assert anon.get(f"/jobs/{job}", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        raw = http.client.HTTPConnection("127.0.0.1", cmp_server.port, timeout=30)  # dot segments sent as they are
        for path in (f"/api/v1/shared/{token}/../../jobs", f"/api/v1/shared/{token}/jobs/..%2F..%2Fjobs",
                     f"/api/v1/shared/{token}/jobs/{job}/../../../jobs/{other}"):
            raw.request("GET", path)
            resp = raw.getresponse()
            resp.read()
            assert resp.status in (400, 401, 404), (path, resp.status)
        raw.close()
        assert anon.post("/shares", json={"job": other}).status_code == 401
        assert anon.delete(f"/shares/{token}").status_code == 401
        assert api.delete(f"/shares/{token}").status_code == 204
        for path in (f"/shared/{token}", f"/shared/{token}/jobs/{job}", f"/shared/{token}/jobs/{job}/result.json"):
            assert anon.get(path).status_code == 404, path
    assert api.get(f"/shares/{token}").json()["revoked"] is True
    assert api.delete(f"/shares/{token}").status_code == 204  # revoking twice is harmless


def test_share_expires_and_compare_share(cmp_server: Server, api: httpx.Client,
                                         jobs: dict[str, dict[str, Any]]) -> None:
    import time

    short = api.post("/shares", json={"job": jobs["a"]["id"], "expires_in_s": 1}).json()
    a, b = f"{jobs['a']['id']}:1", f"{jobs['b']['id']}:1"
    both = api.post("/shares", json={"a": a, "b": b}).json()
    assert both["kind"] == "compare" and sorted(both["jobs"]) == sorted([jobs["a"]["id"], jobs["b"]["id"]])
    assert api.post("/shares", json={"job": jobs["a"]["id"], "a": a}).status_code == 422
    with httpx.Client(base_url=cmp_server.url, timeout=30) as anon:
        c = anon.get(f"/shared/{both['token']}").json()
        assert c["compare"]["most_important"] == "air_time_s"
        assert anon.get(f"/shared/{both['token']}/jobs/{jobs['a2']['id']}").status_code == 404
        time.sleep(1.2)
        assert anon.get(f"/shared/{short['token']}").status_code == 404


def test_side_by_side_mp4(api: httpx.Client, jobs: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    a, b = f"{jobs['a']['id']}:1", f"{jobs['b']['id']}:1"
    r = api.get("/compare/video", params={"a": a, "b": b})
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp4", r.text[:300]
    path = tmp_path / "sbs.mp4"
    path.write_bytes(r.content)
    c = api.get("/compare", params={"a": a, "b": b}).json()
    with av.open(str(path)) as box:
        stream = box.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in box.decode(stream)]
    assert stream.width >= 2 * 256 and stream.height > 256  # two panels, the table below
    # from 1 s before the common takeoff to 1 s after the later landing, at 15 fps
    lead = min(1.0, c["a"]["takeoff_s"], c["b"]["takeoff_s"])
    span = lead + max(c[s]["landing_s"] - c[s]["takeoff_s"] for s in "ab") + 1.0
    assert abs(len(frames) - span * 15) <= 2
    table = frames[len(frames) // 2][256:]
    assert table.mean() < 80 and table.max() > 200  # dark band with light text burned in


def test_migration_adds_tables_to_an_old_database(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    with sqlite3.connect(db) as old:  # a store from before shares had an expiry: no expires_at, no revoked_at
        old.execute("CREATE TABLE jobs (id TEXT PRIMARY KEY, created_at REAL)")
        old.execute("CREATE TABLE shares (token TEXT PRIMARY KEY, kind TEXT NOT NULL, job_a TEXT NOT NULL,"
                    " jump_a INTEGER, job_b TEXT, jump_b INTEGER, created_at REAL NOT NULL)")
        old.execute("INSERT INTO shares VALUES ('t' , 'job', 'j', NULL, NULL, NULL, 1.0)")
    store = RiderStore(db)
    store.migrate()  # twice is harmless
    share = store.get_share("t")
    assert share is not None and share.live() and share.expires_at is None
    assert store.revoke_share("t") and not store.get_share("t").live()  # type: ignore[union-attr]
    store.close()
