"""Exchange API secrets, encrypted with KMS.

Each ciphertext carries an encryption context naming its user and key: KMS refuses to decrypt it for
any other pair, so a ciphertext copied onto another user's item is useless. The plaintext exists only
inside the request that signs an exchange call; it is never returned, logged or cached.
"""

from __future__ import annotations

from core import aws_clients
from core.config import get_settings

PURPOSE = "exchange-api-secret"


def _context(user_id: str, key_id: str) -> dict[str, str]:
    return {"purpose": PURPOSE, "userId": user_id, "keyId": key_id}


class KmsSecretCipher:
    def __init__(self, key_id: str | None = None) -> None:
        self._key_id = key_id

    @property
    def key_id(self) -> str:
        return self._key_id or get_settings().exchange_secrets_key_id

    def encrypt(self, user_id: str, key_id: str, secret: str) -> bytes:
        answer = aws_clients.client("kms").encrypt(
            KeyId=self.key_id, Plaintext=secret.encode("utf-8"), EncryptionContext=_context(user_id, key_id)
        )
        ciphertext: bytes = answer["CiphertextBlob"]
        return ciphertext

    def decrypt(self, user_id: str, key_id: str, ciphertext: bytes) -> str:
        answer = aws_clients.client("kms").decrypt(
            KeyId=self.key_id, CiphertextBlob=ciphertext, EncryptionContext=_context(user_id, key_id)
        )
        plaintext: bytes = answer["Plaintext"]
        return plaintext.decode("utf-8")
