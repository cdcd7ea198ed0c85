"""Readers and editors: decided by the address served on and QA_EDITOR_PASSWORD, checked by the service
in every method that changes the corpus or the index."""
from __future__ import annotations

import pytest

from conftest import write
from qa.access import OPERATOR, Access, is_loopback
from qa.errors import AccessDenied
from qa.service import Service
from qa.settings import Settings

NEW_RELEASE = ("Des jardins pour Kayes\nKayes, le 4 avril 2025 – Quarante jardins maraîchers ont été aménagés à "
               "Kayes pour les femmes des familles de migrants de retour.")


@pytest.mark.parametrize("host,loopback", [("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True),
                                           ("::1", True), ("[::1]", True), ("0.0.0.0", False), ("::", False),
                                           ("192.168.1.20", False), ("serveur.example", False)])
def test_loopback_addresses(host, loopback):
    assert is_loopback(host) is loopback


@pytest.mark.parametrize("access,credential,editor", [
    (Access("127.0.0.1"), None, True),              # the local user, as today
    (Access("0.0.0.0"), None, False),               # on the network without a password: read-only
    (Access("0.0.0.0"), "n'importe quoi", False),
    (Access("0.0.0.0", "s3cret"), None, False),
    (Access("0.0.0.0", "s3cret"), "S3CRET", False),
    (Access("0.0.0.0", "s3cret"), "s3cret", True),
    (Access("127.0.0.1", "s3cret"), None, False),   # once a password is set, always required
    (Access("127.0.0.1", "s3cret"), "s3cret", True),
    (Access("0.0.0.0", "s3cret"), 12345, False),    # whatever a client sends
    (Access("127.0.0.1", shared=True), None, False),  # a share link reaches a loopback server
    (Access("0.0.0.0"), OPERATOR, True),            # the command line
])
def test_who_may_edit(access, credential, editor):
    assert access.is_editor(credential) is editor


def test_the_messages_say_what_to_do():
    with pytest.raises(AccessDenied, match=r"lecture seule.*0\.0\.0\.0.*QA_EDITOR_PASSWORD"):
        Access("0.0.0.0").check(None)
    with pytest.raises(AccessDenied, match=r"^Mot de passe d'éditeur absent ou incorrect"):
        Access("0.0.0.0", "s3cret").check("mauvais")
    assert "lecture seule" in Access("0.0.0.0").notice()
    assert "mot de passe" in Access("0.0.0.0", "s3cret").notice()
    assert "s3cret" not in repr(Access("0.0.0.0", "s3cret"))


def test_the_password_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("QA_EDITOR_PASSWORD", "depuis-env")
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    access = Access.for_server(None)
    assert access.host == "127.0.0.1" and access.needs_password and access.is_editor("depuis-env")
    monkeypatch.setenv("QA_EDITOR_PASSWORD", "")
    assert Access.for_server("0.0.0.0").read_only


def test_the_service_refuses_edits_before_touching_anything(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    sent = write(tmp_path / "upload", "kayes.txt", NEW_RELEASE)
    settings = Settings(corpus=corpus, index=tmp_path / "index")
    for access, credential in [(Access("0.0.0.0"), None), (Access("0.0.0.0", "s3cret"), "mauvais"),
                               (Access("127.0.0.1", "s3cret"), None)]:
        service = Service(settings, access=access)
        with pytest.raises(AccessDenied):
            service.add_files([(sent, "kayes.txt")], credential=credential)
        with pytest.raises(AccessDenied):
            service.reindex(credential=credential)
        with pytest.raises(AccessDenied):
            service.update(credential=credential)
    assert list(corpus.iterdir()) == [] and not (tmp_path / "index").exists()
    assert sent.read_text(encoding="utf-8") == NEW_RELEASE
