"""The plain JSON route beside the page (POST /api/ask), served for real by the app's server."""
from __future__ import annotations

import http.client
import json

import pytest

from conftest import free_port
from qa.chat import page as chat_page
from qa.chat.routes import MAX_BODY_BYTES
from qa.service import Service


@pytest.fixture(scope="module")
def served(seed_index, seed_settings, assistant):
    service = Service(seed_settings)
    service._assistant = assistant  # the session's assistant: same index, model already loaded
    port = free_port()
    demo = chat_page.serve(service, "127.0.0.1", port, block=False)
    yield port
    demo.close()


def post(port: int, body: bytes, path: str = "/api/ask") -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def test_a_program_asks_in_one_json_request(served):
    status, data = post(served, json.dumps({"question": "Combien d'États membres compte l'OIM ?", "k": 2}).encode())
    assert status == 200
    assert "175" in data["answer"]["text"] and len(data["citations"]) == 2 and not data["abstained"]
    status, data = post(served, json.dumps({"question": "Et parmi eux, combien ont terminé leur réintégration ?",
                                            "history": ["Combien de migrants maliens sont rentrés depuis 2017 ?"]
                                            }).encode())
    assert status == 200 and data["understood_as"].startswith("Parmi eux") and "33 000" in data["answer"]["text"]


@pytest.mark.parametrize("body, said", [
    (b"{pas du json", "objet JSON"),
    (b"[1, 2]", "objet JSON"),
    (json.dumps({"question": 12}).encode(), "doit être un texte"),
    (json.dumps({"question": "Qui ?", "k": "cinq"}).encode(), "nombre entier"),
    (json.dumps({"question": "Qui ?", "history": "pas une liste"}).encode(), "liste"),
    (b" " * (MAX_BODY_BYTES + 1), "trop volumineuse"),
])
def test_a_bad_request_gets_a_french_reason_and_status_400(served, body, said):
    status, data = post(served, body)
    assert status == 400 and said in data["error"]
