"""Every documented endpoint, fed hostile path parameters and bodies: never a 500, always the error shape."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from tests.api.conftest import UPLOAD_LIMIT, Server

NASTY_IDS = ["0" * 32, "f" * 32, "..", "%2e%2e", "a" * 300, "%C3%BF", "1%27%20OR%201%3D1", "-1", "%00"]
BODIES: list[dict[str, object]] = [
    {},
    {"content": b"\x00\xff" * 50, "headers": {"Content-Type": "application/octet-stream"}},
    {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
    {"json": {"upload_id": "../../etc/passwd"}},
    {"json": {"upload_id": "0" * 32, "num_poses": 0}},
    {"content": b"--x\r\n\r\n", "headers": {"Content-Type": "multipart/form-data; boundary=x"}},
    {"content": b"abc", "headers": {"Content-Type": "application/offset+octet-stream", "Tus-Resumable": "1.0.0",
                                    "Upload-Offset": "-5", "Upload-Checksum": "sha1 ???"}},
]


def test_no_endpoint_answers_500(server: Server) -> None:
    with httpx.Client(timeout=60) as c:
        schema = c.get(server.url.removesuffix("/api/v1") + "/openapi.json").json()
        assert "/api/v1/jobs" in schema["paths"] and "/api/v1/uploads/{upload_id}" in schema["paths"]
        seen = 0
        for path, methods in schema["paths"].items():
            if path.endswith("/readyz"):
                continue  # runs the doctor: tested on its own
            for method in methods:
                for value in NASTY_IDS if "{" in path else [""]:
                    url = server.url.removesuffix("/api/v1") + re.sub(r"\{[^}]+\}", value, path)
                    for body in BODIES if method in ("post", "patch") else [{}]:
                        r = c.request(method.upper(), httpx.URL(url), **body)  # type: ignore[arg-type]
                        seen += 1
                        assert r.status_code < 500, f"{method.upper()} {url} {body}: {r.status_code} {r.text[:300]}"
                        if r.status_code >= 400 and method != "head":
                            err = r.json()["error"]
                            assert set(err) >= {"code", "message", "hint"} and err["message"], r.text
        assert seen > 200
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_a_wrong_method_on_a_known_path_is_405_with_allow(client: httpx.Client) -> None:
    for method, path, allow in [("GET", "/shares", "POST"), ("HEAD", "/shares", "POST"),
                                ("OPTIONS", "/jobs", "GET, HEAD, POST"), ("PUT", "/riders", "GET, HEAD"),
                                ("GET", f"/jobs/{'0' * 32}/cancel", "POST"), ("GET", f"/uploads/{'0' * 32}",
                                                                               "DELETE, HEAD, PATCH")]:
        r = client.request(method, path)
        assert r.status_code == 405 and r.headers["Allow"] == allow, (method, path, r.status_code, r.headers)
        if method != "HEAD":
            assert r.json()["error"]["code"] == "method_not_allowed" and allow in r.json()["error"]["message"]
    r = client.get("/no-such-thing")
    assert r.status_code == 404 and r.json()["error"]["message"] == "no such endpoint: GET /api/v1/no-such-thing"
    assert client.get("/riders").status_code == 200  # right methods still reach their routes


def test_head_answers_like_get_without_a_body(client: httpx.Client) -> None:
    for path in ("/jobs", "/healthz", "/metrics", f"/jobs/{'0' * 32}", f"/jobs/{'0' * 32}/events"):
        got, head = client.get(path), client.head(path)
        assert head.status_code == got.status_code and head.content == b"", path
        assert head.headers["content-type"] == got.headers["content-type"], path
    # tus' own HEAD keeps its answer (404 with Tus-Resumable for an unknown upload)
    r = client.head(f"/uploads/{'0' * 32}", headers={"Tus-Resumable": "1.0.0"})
    assert r.status_code == 404 and r.headers["Tus-Resumable"] == "1.0.0"


def test_head_of_a_live_event_stream_ends(server: Server, client: httpx.Client, clip: Path) -> None:
    from tests.api.conftest import submit

    job = submit(client, clip)
    try:
        r = client.head(f"/jobs/{job['id']}/events", timeout=10)  # the GET would stream until the job ends
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    finally:
        client.post(f"/jobs/{job['id']}/cancel")


def test_the_schema_states_the_rules(server: Server, client: httpx.Client) -> None:
    schema = httpx.get(server.url.removesuffix("/api/v1") + "/openapi.json").json()
    paths = schema["paths"]

    def param(path: str, method: str, name: str) -> dict[str, Any]:
        found = [p for p in paths[f"/api/v1{path}"][method]["parameters"] if p["name"] == name]
        assert found, (path, method, name)
        return found[0]

    ref = re.compile(param("/compare", "get", "a")["schema"]["pattern"])
    assert ref.match("0" * 32 + ":1") and not ref.match("0" * 40) and not ref.match("0" * 32 + ":0")
    length = param("/uploads", "post", "Upload-Length")["schema"]
    assert re.match(length["pattern"], str(UPLOAD_LIMIT)) and not re.match(length["pattern"], str(UPLOAD_LIMIT + 1))
    assert str(UPLOAD_LIMIT) in length["description"]
    for path, name in [("/uploads/{upload_id}", "Upload-Checksum"), ("/jobs/{job_id}/events", "last-event-id")]:
        method = "patch" if "uploads" in path else "get"
        assert param(path, method, name)["schema"]["type"] == "string"  # absent or text, never null
    assert param("/uploads/{upload_id}", "patch", "Tus-Resumable")["required"] is True
    assert param("/riders/{rider}/jumps", "get", "rider")["schema"]["maxLength"] == 60
    job = paths["/api/v1/jobs"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert job["upload_id"]["pattern"] == "^[0-9a-f]{32}$" and job["rider"]["maxLength"] == 60
    share = paths["/api/v1/shares"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert len(share["anyOf"]) == 2  # one job, or two jumps; nothing else
    for status in ("201", "400", "404", "409", "422"):
        assert status in paths["/api/v1/shares"]["post"]["responses"], status


def test_requests_the_schema_forbids_are_refused_as_it_says(client: httpx.Client) -> None:
    r = client.get("/compare", params={"a": "0" * 40, "b": "0" * 32 + ":1"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_jump_ref" and "a=" in r.json()["error"]["message"]
    r = client.post("/shares", json={})
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("a share is of one job or of one")
    r = client.post("/shares", json={"job": "0" * 32, "a": "0" * 32 + ":1"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    assert client.post("/shares", json={"job": "0" * 32}).status_code == 404  # well-formed, unknown job
    r = client.post("/jobs", json={"upload_id": "0"})
    assert r.status_code == 422 and "upload_id" in r.json()["error"]["message"]
    for name in ("x" * 200, "x" * 61, "bell%07"):  # no rider can have such a name: not found
        r = client.get(f"/riders/{name}/jumps")
        assert r.status_code == 404 and r.json()["error"]["code"] == "rider_not_found", name
    tus = {"Tus-Resumable": "1.0.0"}
    r = client.post("/uploads", headers={**tus, "Upload-Length": "1x"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_header"
    r = client.post("/uploads", headers={**tus, "Upload-Length": "10", "Upload-Metadata": "filename YQ==, rider"})
    assert r.status_code == 400 and "Upload-Metadata" in r.json()["error"]["message"]
    r = client.post("/uploads", headers={**tus, "Upload-Length": "10", "Upload-Metadata": "filename /w==,rider"})
    assert r.status_code == 201  # tus values are any bytes: text that is not UTF-8 is read with replacements
    for headers in ({"Upload-Length": "10"}, {"Tus-Resumable": "0.2.2", "Upload-Length": "10"}):
        r = client.post("/uploads", headers=headers)
        assert r.status_code == 412 and r.headers["Tus-Version"] == "1.0.0"


def test_digits_up_to() -> None:
    from pose_service.api.routes.uploads import digits_up_to

    for limit in (0, 7, 10, 4 * 2**20, 4 * 2**30, 10**17):
        rule = re.compile(digits_up_to(limit))
        for value in (0, 1, 9, 10, 99, 100, limit - 1, limit, limit + 1, 10 * limit + 5):
            for text in (str(value), "000" + str(value)):
                assert bool(rule.match(text)) == (0 <= value <= limit and len(text) <= 18), (limit, text)
        assert not rule.match("0" * 19) and not rule.match("") and not rule.match("1 ")
