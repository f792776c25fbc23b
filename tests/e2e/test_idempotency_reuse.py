"""A reused Idempotency-Key says what is wrong: another operation, or the same one with another body."""

from __future__ import annotations

from tests.support.api import created, unique
from tests.support.server import RunningServer


def test_a_key_reused_on_another_operation_names_the_operation(server: RunningServer) -> None:
    with server.client() as client:
        staff = created(client.post("/v1/staff", json={"name": unique("staff"), "role": "psychologist"}))
        site = created(client.post("/v1/sites", json={"name": unique("site"), "kind": "office",
                                                      "public_label": "Accueil"}))
        key, body = {"Idempotency-Key": unique("key")}, {"privacy": "standard"}
        assert client.post(f"/v1/staff/{staff['id']}/feeds", json=body, headers=key).status_code == 201
        elsewhere = client.post(f"/v1/sites/{site['id']}/feeds", json=body, headers=key)
        assert (elsewhere.status_code, elsewhere.json()["code"]) == (422, "idempotency-key-reused")
        assert elsewhere.json()["detail"] == (
            "This Idempotency-Key was already used for another operation (another method or path).")


def test_a_key_reused_with_another_body_names_the_body(server: RunningServer) -> None:
    with server.client() as client:
        key = {"Idempotency-Key": unique("key")}
        assert client.post("/v1/staff", json={"name": unique("a"), "role": "psychologist"},
                           headers=key).status_code == 201
        changed = client.post("/v1/staff", json={"name": unique("b"), "role": "psychologist"}, headers=key)
        assert (changed.status_code, changed.json()["code"]) == (422, "idempotency-key-reused")
        assert changed.json()["detail"] == (
            "This Idempotency-Key was already used with a different request body.")
