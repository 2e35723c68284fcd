"""Signing primitives shared by the simulator (to verify) and by tests (to sign).

Each function follows the exchange's documented recipe; the vectors in exchanges.md §2.3
(KuCoin) and §3.3/§3.4 (MEXC) are asserted in tests/simulator_tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import requests


def hmac_sha256(secret: str, message: str) -> bytes:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()


def mexc_spot_signature(secret: str, total_params: str) -> str:
    """Lowercase hex HMAC-SHA256 of query string + body (exchanges.md §3.2)."""
    return hmac_sha256(secret, total_params).hex()


def mexc_futures_signature(secret: str, api_key: str, request_time: str, param_string: str) -> str:
    """Hex HMAC-SHA256 of accessKey + Request-Time + paramString (exchanges.md §3.4)."""
    return hmac_sha256(secret, f"{api_key}{request_time}{param_string}").hex()


def java_url_encode(value: str) -> str:
    # MEXC's contract docs sign with Java's URLEncoder with "+" replaced by "%20": it keeps
    # only A-Z a-z 0-9 . - * _ unescaped, so "~" is escaped too (Python's quote keeps it).
    return quote(value, safe="*").replace("~", "%7E")


def mexc_futures_param_string(params: Mapping[str, str], *, encode: bool = True) -> str:
    """GET/DELETE parameters sorted by key, k=v joined by & (exchanges.md §3.4)."""
    items = sorted((k, v) for k, v in params.items() if v is not None)
    return "&".join(f"{k}={java_url_encode(v) if encode else v}" for k, v in items)


def kucoin_signature(secret: str, prehash: str) -> str:
    """Base64 HMAC-SHA256 of timestamp + METHOD + endpoint + body (exchanges.md §2.2)."""
    return base64.b64encode(hmac_sha256(secret, prehash)).decode()


def kucoin_passphrase(secret: str, passphrase: str) -> str:
    """The passphrase as sent with KC-API-KEY-VERSION 2 or 3 (exchanges.md §2.2)."""
    return base64.b64encode(hmac_sha256(secret, passphrase)).decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def coinbase_private_key(secret: str) -> Any:
    """A CDP private key as Coinbase issues it (exchanges-more.md §8.2): SEC1/PKCS8 PEM, or
    base64 Ed25519 (64 bytes seed ‖ public key, or the 32-byte seed)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    if secret.lstrip().startswith("-----BEGIN"):
        return serialization.load_pem_private_key(secret.encode(), password=None)
    raw = base64.b64decode(secret, validate=True)
    return ed25519.Ed25519PrivateKey.from_private_bytes(raw[:32])


def coinbase_jwt_verify(token: str, public_key: Any) -> tuple[dict, dict] | None:
    """(header, claims) of a JWT whose ES256 or EdDSA signature `public_key` verifies, else
    None. Written from RFC 7515/7518 (ES256 signatures are r ‖ s, 32 bytes each), not from
    the client's code."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except ValueError:
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    signed = f"{parts[0]}.{parts[1]}".encode()
    try:
        if header.get("alg") == "EdDSA" and isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, signed)
        elif header.get("alg") == "ES256" and isinstance(public_key, ec.EllipticCurvePublicKey):
            if len(signature) != 64:
                return None
            der = encode_dss_signature(
                int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            )
            public_key.verify(der, signed, ec.ECDSA(hashes.SHA256()))
        else:
            return None
    except InvalidSignature:
        return None
    return header, claims


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class SignedRequest:
    """A ready-to-send request, for tests that talk to the simulator with plain `requests`."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""

    def send(self, session: requests.Session | None = None, *, timeout: float = 5) -> Any:
        sender = session or requests
        return sender.request(
            self.method,
            self.url,
            headers=self.headers,
            data=self.body.encode() if self.body else None,
            timeout=timeout,
        )


def mexc_spot_request(
    base_url: str,
    method: str,
    path: str,
    api_key: str,
    secret: str,
    params: Mapping[str, Any] | None = None,
    *,
    body: str = "",
    timestamp: int | None = None,
    recv_window: int | None = 5000,
) -> SignedRequest:
    """Signed the way CCXT does it: params, then timestamp and recvWindow, then signature."""
    query = dict(params or {})
    query["timestamp"] = now_ms() if timestamp is None else timestamp
    if recv_window is not None:
        query["recvWindow"] = recv_window
    query_string = urlencode(query)
    signature = mexc_spot_signature(secret, query_string + body)
    headers = {"X-MEXC-APIKEY": api_key, "Content-Type": "application/json"}
    url = f"{base_url}{path}?{query_string}&signature={signature}"
    return SignedRequest(method, url, headers, body)


def mexc_futures_request(
    base_url: str,
    method: str,
    path: str,
    api_key: str,
    secret: str,
    params: Mapping[str, str] | None = None,
    *,
    body: Mapping[str, Any] | None = None,
    request_time: int | None = None,
) -> SignedRequest:
    req_time = str(now_ms() if request_time is None else request_time)
    params = dict(params or {})
    body_text = json.dumps(body, separators=(",", ":")) if body is not None else ""
    param_string = body_text if method.upper() == "POST" else mexc_futures_param_string(params)
    headers = {
        "ApiKey": api_key,
        "Request-Time": req_time,
        "Signature": mexc_futures_signature(secret, api_key, req_time, param_string),
        "Content-Type": "application/json",
    }
    query = f"?{mexc_futures_param_string(params)}" if params else ""
    return SignedRequest(method, f"{base_url}{path}{query}", headers, body_text)


def kucoin_request(
    base_url: str,
    method: str,
    endpoint: str,
    api_key: str,
    secret: str,
    passphrase: str,
    *,
    body: str = "",
    timestamp: int | None = None,
    key_version: int = 2,
) -> SignedRequest:
    """`endpoint` is the path with its (non-encoded) query string, exactly as signed."""
    ts = str(now_ms() if timestamp is None else timestamp)
    sent_passphrase = passphrase if key_version == 1 else kucoin_passphrase(secret, passphrase)
    headers = {
        "KC-API-KEY": api_key,
        "KC-API-SIGN": kucoin_signature(secret, f"{ts}{method.upper()}{endpoint}{body}"),
        "KC-API-TIMESTAMP": ts,
        "KC-API-PASSPHRASE": sent_passphrase,
        "KC-API-KEY-VERSION": str(key_version),
        "Content-Type": "application/json",
    }
    return SignedRequest(method, f"{base_url}{endpoint}", headers, body)


# --- Binance (exchanges-more.md §1.2) -------------------------------------------------------


def binance_hmac_signature(secret: str, total_params: str) -> str:
    """Lowercase hex HMAC-SHA256 of query string + body (exchanges-more.md §1.2)."""
    return hmac_sha256(secret, total_params).hex()


def binance_ed25519_signature(private_key_pem: str, total_params: str) -> str:
    """base64 Ed25519 signature of query string + body, before URL-encoding (§1.2)."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(private_key_pem.encode(), password=None)
    return base64.b64encode(key.sign(total_params.encode())).decode()  # type: ignore[union-attr]


def binance_ed25519_valid(public_key_pem: str, total_params: str, signature_b64: str) -> bool:
    """What Binance does with the public key the person registered (§1.2)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        signature = base64.b64decode(signature_b64, validate=True)
        load_pem_public_key(public_key_pem.encode()).verify(  # type: ignore[union-attr]
            signature, total_params.encode()
        )
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def binance_request(
    base_url: str,
    method: str,
    path: str,
    api_key: str,
    secret: str,
    params: Mapping[str, Any] | None = None,
    *,
    timestamp: int | None = None,
    recv_window: int | None = 5000,
) -> SignedRequest:
    """Signed the way CCXT does it: timestamp first, then params, then recvWindow; GET in the
    query, POST in a form body. An Ed25519 secret (a PEM) signs with Ed25519."""
    query = {"timestamp": now_ms() if timestamp is None else timestamp, **(params or {})}
    if recv_window is not None:
        query["recvWindow"] = recv_window
    payload = urlencode(query)
    if "PRIVATE KEY" in secret:
        signature = quote(binance_ed25519_signature(secret, payload), safe="")
    else:
        signature = binance_hmac_signature(secret, payload)
    signed = f"{payload}&signature={signature}"
    headers = {"X-MBX-APIKEY": api_key}
    if method.upper() in ("GET", "DELETE"):
        return SignedRequest(method, f"{base_url}{path}?{signed}", headers)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return SignedRequest(method, f"{base_url}{path}", headers, signed)
