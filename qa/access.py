"""Who may change the corpus and the index: readers ask; editors upload, delete and rebuild.

Decided by the address the server listens on, not by the client's address (behind a reverse proxy
every client looks local):

    listening on loopback, no password set      the local user is an editor (no password asked)
    listening beyond loopback, no password      read-only: every edit is refused, and the page says so
    QA_EDITOR_PASSWORD set (any address)        editing needs that password, always

The command line is the machine's operator and passes OPERATOR. The check is made by the service
(qa/service.py) in every method that changes the corpus or the index, never by the page alone.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
from dataclasses import dataclass, field

from .errors import AccessDenied

PASSWORD_VARIABLE = "QA_EDITOR_PASSWORD"

READ_ONLY = ("Application en lecture seule : elle est ouverte sur le réseau ({host}) sans mot de passe "
             "d'éditeur. Pour ajouter des documents ou réindexer, relancez-la avec QA_EDITOR_PASSWORD=….")
WRONG_PASSWORD = ("Mot de passe d'éditeur absent ou incorrect : seuls les éditeurs peuvent ajouter des documents "
                  "ou réindexer (missing or wrong editor password).")


class Operator:
    """The machine's operator (the command line, the server's own start-up build): never asked."""

    def __repr__(self) -> str:
        return "OPERATOR"


OPERATOR = Operator()


def is_loopback(host: str | None) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    host = (host or "").strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # 0.0.0.0 is not an address of its own but all of them; a name may resolve anywhere


@dataclass(frozen=True, slots=True)
class Access:
    """Who may edit through a server listening on `host`."""
    host: str = "127.0.0.1"
    password: str | None = field(default=None, repr=False)
    # Reachable beyond this machine although it listens on loopback (a share link, a tunnel).
    shared: bool = False

    @classmethod
    def for_server(cls, host: str | None, password: str | None = None, shared: bool = False) -> "Access":
        """The access of a server listening on `host` (None: Gradio's default, GRADIO_SERVER_NAME or
        127.0.0.1), with the editor password given or from QA_EDITOR_PASSWORD."""
        host = host or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"
        password = password if password is not None else os.environ.get(PASSWORD_VARIABLE)
        return cls(host, password or None, shared)

    @property
    def local(self) -> bool:
        return is_loopback(self.host) and not self.shared

    @property
    def needs_password(self) -> bool:
        return self.password is not None

    @property
    def read_only(self) -> bool:
        return self.password is None and not self.local

    def is_editor(self, credential) -> bool:
        """Whether `credential` (a password as sent, None, or OPERATOR) may edit. Passwords are
        compared in constant time, on their digests so that not even their length leaks."""
        if credential is OPERATOR:
            return True
        if self.password is None:
            return self.local
        if not isinstance(credential, str):
            return False
        sent = hashlib.sha256(credential.encode("utf-8", "surrogatepass")).digest()
        return hmac.compare_digest(sent, hashlib.sha256(self.password.encode("utf-8", "surrogatepass")).digest())

    def check(self, credential) -> None:
        """Raise AccessDenied, with a message for the user, unless `credential` may edit."""
        if self.is_editor(credential):
            return
        if self.read_only:
            raise AccessDenied(READ_ONLY.format(host=self.host))
        raise AccessDenied(WRONG_PASSWORD)

    def notice(self) -> str:
        """What the page says about editing, in one sentence."""
        if self.read_only:
            return READ_ONLY.format(host=self.host)
        if self.needs_password:
            return ("Ajouter des documents et réindexer demandent le mot de passe d'éditeur, une fois par "
                    "session.")
        return "Poste local\u00a0: vous pouvez ajouter des documents et réindexer."
