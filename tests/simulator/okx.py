"""OKX v5: the live host (`okx`, www.okx.com) and the Demo Trading host (`okx_demo`).

Sources: exchanges-more.md §2 (OKX's v5 docs as crawled 2026-06/07, python-okx), the crawled
doc pages for the example responses (github qiuham/crypto-api-docs, docs/okx/…, 2026-06-15)
and OKX's error table (§2.6). The signature is verified here independently of the client:
base64 HMAC-SHA256 over timestamp + METHOD + request target as sent + body (§2.2).
"""

from __future__ import annotations

import base64
import hmac
import random
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .base import (
    HostAPI,
    RatePool,
    SimExchange,
    SimKey,
    SimRequest,
    SimResponse,
    html_502,
    json_response,
    plain,
)
from .signing import hmac_sha256

OK = "0"
DEFAULT_FAULT_IP = "198.51.100.7"
# "The request will be considered expired if the timestamp … is more than 30 seconds from
# the API server time" (§2.2, 2026-07 text).
TIMESTAMP_TOLERANCE_MS = 30_000
DEMO_HEADER = "x-simulated-trading"

# No documented body for an IP ban at OKX's edge: modelled as a generic WAF page.
WAF_403 = (
    b"<!DOCTYPE html>\n<html><head><title>403 Forbidden</title></head><body><h1>Access "
    b"Denied</h1><p>Your request has been blocked.</p></body></html>\n"
)

# Instruments in the shape of "Get instruments" (only the fields the clients read, plus the
# identifying ones). Spot from the docs example; swaps with baseCcy/quoteCcy "" as documented.
OKX_SPOT_INSTRUMENTS: list[dict[str, Any]] = [
    {
        "instType": "SPOT",
        "instId": inst_id,
        "baseCcy": inst_id.split("-")[0],
        "quoteCcy": inst_id.split("-")[1],
        "instFamily": "",
        "uly": "",
        "settleCcy": "",
        "ctType": "",
        "state": state,
    }
    for inst_id, state in (
        ("BTC-USDT", "live"),
        ("ETH-USDT", "live"),
        ("SOL-USDT", "live"),
        ("ETH-BTC", "live"),
        ("OLD-USDT", "suspend"),
        ("NEW-USDT", "preopen"),
    )
]
OKX_SWAP_INSTRUMENTS: list[dict[str, Any]] = [
    {
        "instType": "SWAP",
        "instId": f"{family}-SWAP",
        "baseCcy": "",
        "quoteCcy": "",
        "instFamily": family,
        "uly": family,
        "settleCcy": settle,
        "ctType": ct_type,
        "ctValCcy": family.split("-")[0] if ct_type == "linear" else "USD",
        "state": state,
    }
    for family, settle, ct_type, state in (
        ("BTC-USDT", "USDT", "linear", "live"),
        ("ETH-USDT", "USDT", "linear", "live"),
        ("DOGE-USDT", "USDT", "linear", "live"),
        ("BTC-USD", "BTC", "inverse", "live"),
        ("BTC-USDC", "USDC", "linear", "live"),
        ("LUNA-USDT", "USDT", "linear", "suspend"),
    )
]


def okx_api_key(rng: random.Random | None = None) -> str:
    """OKX keys are UUIDs (`37c541a1-****-****-****-10fe7a038418` in the docs)."""
    rng = rng or random.Random()
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def okx_secret(rng: random.Random | None = None) -> str:
    """32 upper-case hex characters, like the docs' `22582BD0CFF14C41EDBF1AB98506286D`."""
    rng = rng or random.Random()
    return f"{rng.getrandbits(128):032X}"


def okx_passphrase(rng: random.Random | None = None) -> str:
    rng = rng or random.Random()
    return "Pp-" + "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(10))


def okx_signature(secret: str, prehash: str) -> str:
    """base64 HMAC-SHA256 (§2.2)."""
    return base64.b64encode(hmac_sha256(secret, prehash)).decode()


def parse_timestamp_ms(value: str) -> int | None:
    """`2020-12-08T09:08:57.715Z` → ms; None for anything else (a local offset, epoch ms)."""
    try:
        moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    return int(moment.timestamp() * 1000)


class OkxAPI(HostAPI):
    exchange = "okx"

    def register(self) -> None:
        # Rate limits of the docs (§2.3, §2.5, §2.7): public per IP, private per User ID.
        self.add("GET", "/api/v5/public/time", self.time, pool="time")
        self.add("GET", "/api/v5/public/instruments", self.instruments, pool="instruments")
        self.add("GET", "/api/v5/account/config", self.config, signed=True, pool="config")
        self.add("GET", "/api/v5/account/balance", self.balance, signed=True, pool="balance")

    def fail(self, code: str, msg: str, status: int, **headers: str) -> SimResponse:
        return json_response(status, {"code": code, "msg": msg, "data": []}, headers)

    def error(self, kind: str, request: SimRequest, **opts: Any) -> SimResponse:
        status = opts.get("status")
        if kind == "ip_not_allowed":
            # 50110 names the caller (§2.6: "Your IP {param0} is not included in your API
            # key's IP whitelist.").
            ip = opts.get("ip", DEFAULT_FAULT_IP)
            return self.fail(
                "50110",
                f"Your IP {ip} is not included in your API key's IP whitelist.",
                status or 401,
            )
        if kind == "invalid_signature":
            return self.fail("50113", "Invalid signature.", status or 401)
        if kind == "account_frozen":
            return self.fail("50100", "API frozen, please contact customer service.", status or 400)
        if kind == "maintenance":
            return self.fail("50001", "Service temporarily unavailable", status or 503)
        if kind == "html_502":
            return html_502()
        if kind == "rate_limited":
            # 50011 with 429 (§2.6). OKX documents no Retry-After (§2.6, §2.7), so none is
            # sent, whatever the limiter computed.
            return self.fail("50011", "Too Many Requests", status or 429)
        if kind == "ip_banned":
            retry = opts.get("retry_after")
            headers = [("Retry-After", str(retry))] if retry else []
            return SimResponse(status or 403, WAF_403, headers, content_type="text/html")
        if kind == "not_found":
            return self.fail("404", "Not Found", 404)
        if kind == "method_not_allowed":
            return self.fail("405", "Method Not Allowed", 405)
        raise ValueError(kind)

    def key_id(self, request: SimRequest) -> str | None:
        return request.headers.get("OK-ACCESS-KEY")

    def demo_environment(self, request: SimRequest) -> bool:
        # Demo Trading is chosen by the header on every request (okx-docs "Demo Trading
        # Services"), on this host as on the demo one.
        return request.headers.get(DEMO_HEADER) == "1"

    def authenticate(self, request: SimRequest) -> SimKey | SimResponse:
        headers = request.headers
        api_key = headers.get("OK-ACCESS-KEY")
        signature = headers.get("OK-ACCESS-SIGN")
        timestamp = headers.get("OK-ACCESS-TIMESTAMP")
        passphrase = headers.get("OK-ACCESS-PASSPHRASE")
        # Texts of the "API Class" table (§2.6).
        if not api_key:
            return self.fail("50103", 'Request header "OK-ACCESS-KEY" cannot be empty.', 401)
        if not passphrase:
            return self.fail("50104", 'Request header "OK-ACCESS-PASSPHRASE" cannot be empty.', 401)
        if not signature:
            return self.fail("50106", 'Request header "OK-ACCESS-SIGN" cannot be empty.', 401)
        if not timestamp:
            return self.fail("50107", 'Request header "OK-ACCESS-TIMESTAMP" cannot be empty.', 401)
        sent_ms = parse_timestamp_ms(timestamp)
        if sent_ms is None:
            return self.fail("50112", "Invalid OK-ACCESS-TIMESTAMP.", 401)
        if abs(sent_ms - self.now_ms()) > TIMESTAMP_TOLERANCE_MS:
            return self.fail("50102", "Timestamp request expired.", 401)
        key = self.sim.get_key("okx", api_key)
        if key is None:
            return self.fail("50119", "API key doesn't exist", 200)
        if key.demo != self.demo_environment(request):
            return self.fail("50101", "APIKey does not match current environment.", 401)
        # Sent in clear and compared as typed: case-sensitive (§2.2, §2.8).
        if not hmac.compare_digest(passphrase.encode(), (key.passphrase or "").encode()):
            return self.fail("50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect.', 401)
        prehash = f"{timestamp}{request.method}{request.target}{request.body_text}"
        if not hmac.compare_digest(signature.encode(), okx_signature(key.secret, prehash).encode()):
            return self.fail("50113", "Invalid signature.", 401)
        if not key.ip_allowed(request.caller_ip):
            return self.error("ip_not_allowed", request, ip=request.caller_ip)
        return key

    # --- endpoints ---------------------------------------------------------------------------

    def time(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        return json_response(200, {"code": OK, "msg": "", "data": [{"ts": str(self.now_ms())}]})

    def instruments(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        kind = request.params.get("instType")
        rows = {"SPOT": OKX_SPOT_INSTRUMENTS, "SWAP": OKX_SWAP_INSTRUMENTS}.get(kind or "")
        if rows is None:
            # Parameter errors are in OKX's 51000 class ("Parameter {param0} error").
            return self.fail("51000", "Parameter instType error", 400)
        return json_response(200, {"code": OK, "msg": "", "data": rows})

    @staticmethod
    def account_level(key: SimKey) -> int:
        # acctLv 1 (Spot mode) cannot trade swaps: a key "without futures" is a key of a
        # Spot-mode account, OKX having no separate futures permission (§2.3, §9).
        return int(key.extra.get("acct_lv", 2 if key.futures else 1))

    def config(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        perm = ["read_only"]
        if key.withdrawal:
            perm.append("withdraw")
        if key.trade:
            perm.append("trade")
        uid = str(key.uid)
        # Field set of the docs example (§2.3), trimmed to the stable fields.
        data = {
            "acctLv": str(self.account_level(key)),
            "acctStpMode": "cancel_maker",
            "autoLoan": False,
            "ctIsoMode": "automatic",
            "enableSpotBorrow": False,
            "greeksType": "PA",
            "feeType": "0",
            "ip": ",".join(key.ip_whitelist or ()),
            "type": "0",
            "kycLv": "2",
            "label": key.remark,
            "level": "Lv1",
            "levelTmp": "",
            "liquidationGear": "-1",
            "mainUid": uid,
            "mgnIsoMode": "automatic",
            "opAuth": "0",
            "perm": ",".join(perm),
            "posMode": key.extra.get("pos_mode", "net_mode"),
            "roleType": "0",
            "spotBorrowAutoRepay": False,
            "spotOffsetType": "",
            "spotRoleType": "0",
            "spotTraderInsts": [],
            "stgyType": "0",
            "traderInsts": [],
            "uid": uid,
            "settleCcy": "USDT",
            "settleCcyList": ["USD", "USDC", "USDG"],
        }
        return json_response(200, {"code": OK, "data": [data], "msg": ""})

    def balance(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        # "Get balance": assets with a non-zero balance; availEq only in Futures mode and the
        # margin modes ("" in Spot mode) (§2.5, docs example).
        margin_mode = self.account_level(key) >= 2
        wanted = request.params.get("ccy")
        details = []
        for asset, (free, locked) in key.balances.items():
            if wanted and asset not in wanted.split(","):
                continue
            equity = free + locked
            if equity == 0:
                continue
            details.append(
                {
                    "availBal": plain(free),
                    "availEq": plain(free) if margin_mode else "",
                    "cashBal": plain(equity),
                    "ccy": asset,
                    "eq": plain(equity),
                    "frozenBal": plain(locked),
                    "ordFrozen": plain(locked),
                    "uTime": str(self.now_ms()),
                }
            )
        total = sum((free + locked for free, locked in key.balances.values()), Decimal(0))
        account = {
            "adjEq": "",
            "availEq": plain(total) if margin_mode else "",
            "details": details,
            "totalEq": plain(total),
            "uTime": str(self.now_ms()),
        }
        return json_response(200, {"code": OK, "data": [account], "msg": ""})


class OkxLiveAPI(OkxAPI):
    role = "okx"


class OkxDemoAPI(OkxAPI):
    # https://openapi.okx.com, OKX's Demo Trading REST domain (okx-docs 2026-06/07, §2.1).
    role = "okx_demo"


SIM = SimExchange(
    slug="okx",
    hosts={"okx": OkxLiveAPI, "okx_demo": OkxDemoAPI},
    pools=(
        # Sliding 2 s windows (the docs give "N requests per 2 seconds"); config and balance
        # per User ID, time per IP, instruments per IP and instrument type.
        RatePool("okx", "time", 10, 2.0, per_endpoint=True, fixed_window=False),
        RatePool("okx", "instruments", 20, 2.0, per_endpoint=True, fixed_window=False),
        RatePool("okx", "config", 5, 2.0, per_endpoint=True, fixed_window=False),
        RatePool("okx", "balance", 10, 2.0, per_endpoint=True, fixed_window=False),
    ),
    credentials=lambda rng: (okx_api_key(rng), okx_secret(rng), okx_passphrase(rng)),
    needs_passphrase=True,
)
