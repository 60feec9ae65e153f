"""tus 1.0 uploads against a real server: resume after a cut, locking, offsets, checksums, termination."""

from __future__ import annotations

import base64
import hashlib
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.api.conftest import UPLOAD_LIMIT, Server, wait_for

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = {**TUS, "Content-Type": "application/offset+octet-stream"}


def _create(client: httpx.Client, length: int, name: str = "clip.mp4") -> str:
    meta = f"filename {base64.b64encode(name.encode()).decode()}"
    r = client.post("/uploads", headers={**TUS, "Upload-Length": str(length), "Upload-Metadata": meta})
    assert r.status_code == 201, r.text
    assert r.headers["Upload-Offset"] == "0" and r.headers["Tus-Resumable"] == "1.0.0"
    return r.headers["Location"].rsplit("/", 1)[1]


def _offset(client: httpx.Client, upload_id: str) -> int:
    r = client.head(f"/uploads/{upload_id}", headers=TUS)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    return int(r.headers["Upload-Offset"])


def _sha1(data: bytes) -> str:
    return "sha1 " + base64.b64encode(hashlib.sha1(data).digest()).decode()


class _HalfRequest:
    """A PATCH whose headers promise `length` bytes but which sends only some, then waits or hangs up."""

    def __init__(self, server: Server, upload_id: str, *, offset: int, length: int) -> None:
        url = urlsplit(server.url)
        self.sock = socket.create_connection((url.hostname, url.port))
        head = (f"PATCH {url.path}/uploads/{upload_id} HTTP/1.1\r\nHost: {url.netloc}\r\nTus-Resumable: 1.0.0\r\n"
                f"Content-Type: application/offset+octet-stream\r\nUpload-Offset: {offset}\r\n"
                f"Content-Length: {length}\r\n\r\n")
        self.sock.sendall(head.encode())

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def cut(self) -> None:
        self.sock.close()


def test_options_advertise_the_extensions(client: httpx.Client) -> None:
    r = client.options("/uploads")
    assert r.status_code == 204 and r.headers["Tus-Version"] == "1.0.0"
    assert set(r.headers["Tus-Extension"].split(",")) >= {"creation", "creation-with-upload", "termination",
                                                           "checksum"}
    assert r.headers["Tus-Checksum-Algorithm"] == "sha1" and int(r.headers["Tus-Max-Size"]) == UPLOAD_LIMIT


def test_resume_after_a_cut_connection_then_analyse(server: Server, client: httpx.Client, clip: Path) -> None:
    data = clip.read_bytes()
    upload_id = _create(client, len(data), name="my run.mp4")
    cut_at = len(data) // 3
    half = _HalfRequest(server, upload_id, offset=0, length=len(data))
    half.send(data[:cut_at])
    time.sleep(0.5)
    half.cut()  # the phone goes into a tunnel
    deadline = time.monotonic() + 10
    while _offset(client, upload_id) != cut_at and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _offset(client, upload_id) == cut_at  # the server kept what arrived

    # A wrong offset is refused; the right one resumes, chunk by chunk with checksums.
    r = client.patch(f"/uploads/{upload_id}", content=data[cut_at:], headers={**OCTETS, "Upload-Offset": "0"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "offset_mismatch"
    middle = cut_at + (len(data) - cut_at) // 2
    for start, end in ((cut_at, middle), (middle, len(data))):
        chunk = data[start:end]
        r = client.patch(f"/uploads/{upload_id}", content=chunk,
                         headers={**OCTETS, "Upload-Offset": str(start), "Upload-Checksum": _sha1(chunk)})
        assert r.status_code == 204, r.text
        assert int(r.headers["Upload-Offset"]) == end
    assert (server.state_dir / "uploads" / f"{upload_id}.bin").read_bytes() == data

    r = client.post("/jobs", json={"upload_id": upload_id, "mesh": False})
    assert r.status_code == 202, r.text
    job = wait_for(client, r.json()["id"], {"succeeded", "failed"})
    assert job["state"] == "succeeded" and job["video_name"] == "my run.mp4"
    assert client.get(f"/jobs/{job['id']}/video").content == data
    assert client.post("/jobs", json={"upload_id": upload_id}).status_code == 404  # an upload makes one job


def test_wrong_checksum_is_460_and_nothing_is_kept(client: httpx.Client) -> None:
    upload_id = _create(client, 1000)
    r = client.patch(f"/uploads/{upload_id}", content=b"a" * 500,
                     headers={**OCTETS, "Upload-Offset": "0", "Upload-Checksum": _sha1(b"b" * 500)})
    assert r.status_code == 460 and r.json()["error"]["code"] == "checksum_mismatch"
    assert _offset(client, upload_id) == 0
    r = client.patch(f"/uploads/{upload_id}", content=b"a" * 500,
                     headers={**OCTETS, "Upload-Offset": "0", "Upload-Checksum": "md5 AAAA"})
    assert r.status_code == 400  # an algorithm we did not advertise


def test_two_clients_patching_the_same_upload(server: Server, client: httpx.Client) -> None:
    upload_id = _create(client, 2000)
    first = _HalfRequest(server, upload_id, offset=0, length=1000)
    first.send(b"x" * 400)
    time.sleep(0.3)  # the first request holds the upload's lock while its body arrives
    r = client.patch(f"/uploads/{upload_id}", content=b"y" * 1000, headers={**OCTETS, "Upload-Offset": "0"})
    assert r.status_code == 423 and r.json()["error"]["code"] == "upload_locked"
    first.send(b"x" * 600)
    first.sock.recv(4096)  # the first client's 204
    first.cut()
    assert _offset(client, upload_id) == 1000
    r = client.patch(f"/uploads/{upload_id}", content=b"y" * 1000, headers={**OCTETS, "Upload-Offset": "0"})
    assert r.status_code == 409  # the second client must resume at 1000
    r = client.patch(f"/uploads/{upload_id}", content=b"y" * 1000, headers={**OCTETS, "Upload-Offset": "1000"})
    assert r.status_code == 204
    assert (server.state_dir / "uploads" / f"{upload_id}.bin").read_bytes() == b"x" * 1000 + b"y" * 1000


def test_creation_with_upload_and_termination(server: Server, client: httpx.Client) -> None:
    r = client.post("/uploads", content=b"z" * 300,
                    headers={**OCTETS, "Upload-Length": "300"})
    assert r.status_code == 201 and r.headers["Upload-Offset"] == "300"
    upload_id = r.headers["Location"].rsplit("/", 1)[1]
    # Complete, but not a video: the job is refused with the probe's message.
    r = client.post("/jobs", json={"upload_id": upload_id})
    assert r.status_code == 415 and r.json()["error"]["code"] == "not_a_video"

    upload_id = _create(client, 10)
    assert client.delete(f"/uploads/{upload_id}", headers=TUS).status_code == 204
    assert client.head(f"/uploads/{upload_id}", headers=TUS).status_code == 404
    assert not (server.state_dir / "uploads" / f"{upload_id}.bin").exists()


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Upload-Length": "10"}, 412),  # no Tus-Resumable
        ({**TUS}, 400),  # no Upload-Length
        ({**TUS, "Upload-Length": str(UPLOAD_LIMIT + 1)}, 413),  # over the limit, refused before any byte
        ({**TUS, "Upload-Length": "10", "Upload-Metadata": "filename !!notbase64"}, 400),
    ],
)
def test_bad_creation_requests(client: httpx.Client, headers: dict[str, str], status: int) -> None:
    r = client.post("/uploads", headers=headers)
    assert r.status_code == status and r.json()["error"]["message"]


def test_incomplete_upload_cannot_become_a_job(client: httpx.Client) -> None:
    upload_id = _create(client, 100)
    r = client.post("/jobs", json={"upload_id": upload_id})
    assert r.status_code == 409 and r.json()["error"]["code"] == "upload_incomplete"
    r = client.patch(f"/uploads/{upload_id}", content=b"q" * 101, headers={**OCTETS, "Upload-Offset": "0"})
    assert r.status_code == 413  # past Upload-Length
    assert _offset(client, upload_id) == 0


def test_twenty_concurrent_uploads(server: Server, clip: Path) -> None:
    data = clip.read_bytes()

    def one(i: int) -> bytes:
        with server.client() as c:
            upload_id = _create(c, len(data), name=f"c{i}.mp4")
            for start in range(0, len(data), 16384):
                chunk = data[start:start + 16384]
                r = c.patch(f"/uploads/{upload_id}", content=chunk, headers={**OCTETS, "Upload-Offset": str(start)})
                assert r.status_code == 204, r.text
            assert _offset(c, upload_id) == len(data)
            body = (server.state_dir / "uploads" / f"{upload_id}.bin").read_bytes()
            assert c.delete(f"/uploads/{upload_id}", headers=TUS).status_code == 204
            return body

    with ThreadPoolExecutor(20) as pool:
        bodies = list(pool.map(one, range(20)))
    assert all(b == data for b in bodies)
