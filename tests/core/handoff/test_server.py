"""The endpoint over real HTTP on loopback, as a browser's requests reach it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from sdv_studio.core.handoff.origins import OriginPolicy
from sdv_studio.core.handoff.request import MAX_BODY_BYTES, Handoff
from sdv_studio.core.handoff.server import PATH, REF_PATH, HandoffServer, Queued
from tests.locations import APPS, text_tree

PAGE = "https://playground.digital.auto"
PROTOTYPE = {"pythonCode": "print('hi')\n", "prototypeName": "Smart Wipers", "vssVersion": "4.0"}
PREFLIGHT = {"Origin": PAGE, "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "content-type"}


class Recorder:
    def __init__(self) -> None:
        self.delivered: list[Handoff] = []
        self.queued: Queued | None = None  # what the window says while it is busy

    def __call__(self, handoff: Handoff) -> Queued | None:
        self.delivered.append(handoff)
        return self.queued


@pytest.fixture
async def served() -> AsyncIterator[tuple[HandoffServer, Recorder, httpx.AsyncClient]]:
    recorder = Recorder()
    server = HandoffServer(OriginPolicy.of([PAGE]), recorder, port=0)
    await server.start()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as client:
        yield server, recorder, client
    server.close()


async def test_an_allowed_page_hands_off(served: tuple[HandoffServer, Recorder, httpx.AsyncClient]) -> None:
    server, recorder, client = served
    assert server.url.startswith("http://127.0.0.1:")
    response = await client.post(PATH, json=PROTOTYPE, headers={"Origin": PAGE})
    assert response.status_code == 202, response.text
    assert response.json() == {"status": "awaitingConfirmation", "problems": []}
    assert response.headers["access-control-allow-origin"] == PAGE
    assert recorder.delivered == [Handoff("print('hi')\n", "Smart Wipers", PAGE, "4.0")]


async def test_preflights_are_answered_for_allowed_pages_only(
        served: tuple[HandoffServer, Recorder, httpx.AsyncClient]) -> None:
    _, recorder, client = served
    plain = await client.options(PATH, headers=PREFLIGHT)
    assert plain.status_code == 204
    assert plain.headers["access-control-allow-origin"] == PAGE
    assert "POST" in plain.headers["access-control-allow-methods"]
    assert plain.headers["access-control-allow-headers"].lower() == "content-type"
    assert "access-control-allow-private-network" not in plain.headers
    private = await client.options(PATH, headers={**PREFLIGHT, "Access-Control-Request-Private-Network": "true"})
    assert private.headers["access-control-allow-private-network"] == "true"
    other = await client.options(PATH, headers={**PREFLIGHT, "Origin": "https://evil.example",
                                                "Access-Control-Request-Private-Network": "true"})
    assert other.status_code == 403
    assert not {"access-control-allow-origin", "access-control-allow-private-network"} & set(other.headers)
    assert recorder.delivered == []


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Origin": "null"}, {}])
async def test_other_origins_get_403_and_nothing_is_delivered(
        served: tuple[HandoffServer, Recorder, httpx.AsyncClient], headers: dict[str, str]) -> None:
    _, recorder, client = served
    response = await client.post(PATH, json=PROTOTYPE, headers=headers)
    assert response.status_code == 403
    assert response.json()["errors"][0].startswith("origin: ")
    assert "access-control-allow-origin" not in response.headers
    assert recorder.delivered == []


async def test_another_host_name_is_refused(served: tuple[HandoffServer, Recorder, httpx.AsyncClient]) -> None:
    _, recorder, client = served
    response = await client.post(PATH, json=PROTOTYPE, headers={"Origin": PAGE, "Host": "rebound.example:8766"})
    assert response.status_code == 403 and response.json()["errors"][0].startswith("host: ")
    assert recorder.delivered == []


async def test_invalid_and_oversized_bodies(served: tuple[HandoffServer, Recorder, httpx.AsyncClient]) -> None:
    _, recorder, client = served
    invalid = await client.post(PATH, json={"prototypeName": "p"}, headers={"Origin": PAGE})
    assert invalid.status_code == 400
    assert invalid.json() == {"errors": ["pythonCode: required, the prototype's Python code (or files, its file tree)"]}
    assert invalid.headers["access-control-allow-origin"] == PAGE  # the page may read why
    huge = await client.post(PATH, content=b"x" * (MAX_BODY_BYTES + 1), headers={"Origin": PAGE})
    assert huge.status_code == 413
    broken = await client.post(PATH, json={**PROTOTYPE, "pythonCode": "def f(:\n"}, headers={"Origin": PAGE})
    assert broken.status_code == 202 and broken.json()["problems"][0].startswith("main.py:1:")
    assert [h.code for h in recorder.delivered] == ["def f(:\n"]
    assert (await client.get(PATH, headers={"Origin": PAGE})).status_code == 405
    assert (await client.post("/api/other", json=PROTOTYPE, headers={"Origin": PAGE})).status_code == 404


async def test_a_busy_window_queues_the_hand_off(served: tuple[HandoffServer, Recorder, httpx.AsyncClient]) -> None:
    _, recorder, client = served
    recorder.queued = Queued("shown when the deployment ends", replaced=True)
    response = await client.post(PATH, json={**PROTOTYPE, "pythonCode": "def f(:\n"}, headers={"Origin": PAGE})
    assert response.status_code == 202
    assert response.json() == {"status": "queued", "message": "shown when the deployment ends", "replaced": True,
                                "problems": ["main.py:1:7: SyntaxError: invalid syntax"]}
    assert response.headers["access-control-allow-origin"] == PAGE
    assert [h.name for h in recorder.delivered] == ["Smart Wipers"]


async def test_a_multi_file_tree_is_delivered(served: tuple[HandoffServer, Recorder, httpx.AsyncClient]) -> None:
    _, recorder, client = served
    tree = text_tree(APPS / "velocitas_template_root")
    response = await client.post(PATH, json={"files": tree, "prototypeName": "Speed"}, headers={"Origin": PAGE})
    assert response.status_code == 202, response.text
    assert recorder.delivered[0].files == tree and recorder.delivered[0].entry == "app/src/main.py"
    escaping = await client.post(PATH, json={"files": {"main.py": "x", "../x.py": "y"}, "prototypeName": "p"},
                                 headers={"Origin": PAGE})
    assert escaping.status_code == 400
    assert escaping.json() == {"errors": ["files: ../x.py: must be inside the project"]}
    assert len(recorder.delivered) == 1


async def test_code_left_for_a_link(served: tuple[HandoffServer, Recorder, httpx.AsyncClient]) -> None:
    server, recorder, client = served
    response = await client.post(REF_PATH, json=PROTOTYPE, headers={"Origin": PAGE})
    assert response.status_code == 201
    held = server.held.take(response.json()["ref"])
    assert held is not None and held.name == "Smart Wipers" and held.origin == PAGE
    tree = {"src/main.py": "import lib\n", "src/lib.py": "X = 1\n"}
    response = await client.post(REF_PATH, json={"files": tree, "prototypeName": "Two files"}, headers={"Origin": PAGE})
    held = server.held.take(response.json()["ref"])
    assert held is not None and held.files == tree and held.entry == "src/main.py"
    assert recorder.delivered == []  # nothing is shown until a link names it


async def test_a_slow_or_malformed_request_is_cut_off(served: tuple[HandoffServer, Recorder, httpx.AsyncClient],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    server, _, _ = served
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GARBAGE\r\n\r\n")
    assert (await reader.read()).startswith(b"HTTP/1.1 400 ")
    writer.close()
    monkeypatch.setattr("sdv_studio.core.handoff.server.READ_TIMEOUT", 0.2)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"POST /api/handoff HTTP/1.1\r\n")
    assert (await asyncio.wait_for(reader.read(), 5)).startswith(b"HTTP/1.1 408 ")
    writer.close()
