"""HTX spot (host `htx`) and USDT-margined swaps (host `htx_futures`).

Sources: exchanges-more.md §6 (HTX's official Python SDK, the API-key announcement, observed
error bodies) and HTX's own API pages as crawled in github rosssaunders/coincise `docs/htx/`
("htx-docs"). Signature Version 2 is verified here independently of the client: the host is
the `Host` header the request arrived with, exactly as HTX verifies the host it was called on.

Key traits (`SimKey.extra`): `sub_user=True` (the api-key query is refused, as HTX documents it
for parent users), `no_spot_account=True` (no spot account listed), `multi_assets=True` (the
futures account is in Multi-Assets Collateral mode). `futures=False` means no futures account
opened; `expires_at_ms` sets `validDays` (unbound keys otherwise show 90, bound ones -1).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import re
import string
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from .base import (
    HostAPI,
    RatePool,
    Route,
    SimExchange,
    SimKey,
    SimRequest,
    SimResponse,
    ban_page,
    html_502,
    json_response,
    plain,
)
from .signing import SignedRequest

DEFAULT_FAULT_IP = "198.51.100.7"
# "时间戳有效时间5分钟" (exchanges-more.md §6.2).
TIMESTAMP_TOLERANCE_S = 300
# The spot account id the simulator gives a user: derived from its uid.
ACCOUNT_ID_OFFSET = 7_000_000

# --- Signing primitives (exchanges-more.md §6.2), for the simulator and for tests ----------


def htx_signature(secret: str, method: str, host: str, path: str, params: dict[str, str]) -> str:
    """base64 HMAC-SHA256 of METHOD\\nhost\\npath\\nsorted, URL-encoded params."""
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in pairs)
    text = "\n".join([method.upper(), host, path, query])
    return base64.b64encode(
        hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    ).decode()


def htx_request(
    base_url: str,
    method: str,
    path: str,
    api_key: str,
    secret: str,
    params: dict[str, str] | None = None,
    *,
    body: str = "",
    timestamp: str | None = None,
) -> SignedRequest:
    """A request signed for the host of `base_url` (with its port)."""
    host = base_url.split("://", 1)[1].split("/", 1)[0]
    auth = {
        "AccessKeyId": api_key,
        "SignatureMethod": "HmacSHA256",
        "SignatureVersion": "2",
        "Timestamp": timestamp or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        **(params or {}),
    }
    auth["Signature"] = htx_signature(secret, method, host, path, auth)
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in auth.items())
    headers = {"Content-Type": "application/json"}
    return SignedRequest(method, f"{base_url}{path}?{query}", headers, body)


def htx_key_material(rng: random.Random) -> tuple[str, str, None]:
    """Keys shaped like the docs' `e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx` (§6.2)."""

    def part(n: int) -> str:
        return "".join(rng.choice(string.hexdigits.lower()[:16]) for _ in range(n))

    def key() -> str:
        return "-".join([part(8), part(8), part(8), part(5)])

    return key(), key(), None


# --- Market data (shapes from htx-docs and ccxt:htx.py fetch_markets examples) -------------

HTX_SYMBOLS: list[dict[str, Any]] = [
    {
        "base-currency": base,
        "quote-currency": "usdt",
        "price-precision": 2,
        "amount-precision": 6,
        "symbol-partition": "main",
        "symbol": f"{base}usdt",
        "state": state,
        "value-precision": 8,
        "min-order-amt": 0.0001,
        "max-order-amt": 1000,
        "min-order-value": 5,
        "api-trading": api,
        "tags": "",
    }
    for base, state, api in (
        ("btc", "online", "enabled"),
        ("eth", "online", "enabled"),
        ("ht", "online", "disabled"),
        ("old", "offline", "enabled"),
    )
]

HTX_CONTRACTS: list[dict[str, Any]] = [
    {
        "symbol": symbol,
        "contract_code": code,
        "contract_size": 0.001,
        "price_tick": 0.1,
        "delivery_date": "" if business == "swap" else "20261225",
        # Delivery in ms (25 Dec 2026 08:00 UTC) for dated futures; "" for swaps.
        "delivery_time": "" if business == "swap" else "1798185600000",
        "create_date": "20200325",
        "contract_status": status,
        "settlement_date": "1764230400000",
        "support_margin_mode": "all",
        "business_type": business,
        "pair": f"{symbol}-USDT",
        "contract_type": "swap" if business == "swap" else "quarter",
        "trade_partition": "USDT",
    }
    for symbol, code, status, business in (
        ("BTC", "BTC-USDT", 1, "swap"),
        ("ETH", "ETH-USDT", 1, "swap"),
        ("SOL", "SOL-USDT", 3, "swap"),
        ("BTC", "BTC-USDT-261225", 1, "futures"),
    )
]


class HtxAPI(HostAPI):
    exchange = "htx"
    # Derivatives answer `err_code`/`err_msg` (numbers), spot `err-code`/`err-msg` (§6.6).
    derivatives = False

    # -- wording ----------------------------------------------------------------------------

    def fail(self, code: str | int, message: str, status: int = 200, **headers: str) -> SimResponse:
        if self.derivatives:
            body: dict[str, Any] = {
                "status": "error",
                "err_code": code,
                "err_msg": message,
                "ts": self.now_ms(),
            }
        else:
            body = {"status": "error", "err-code": code, "err-msg": message, "data": None}
        return json_response(status, body, headers)

    def signature_invalid(self, cause: str) -> SimResponse:
        """The spot gateway's one code for most auth failures, cause in the message (§6.6)."""
        return self.fail("api-signature-not-valid", f"Signature not valid: {cause}")

    def error(self, kind: str, request: SimRequest, **opts: Any) -> SimResponse:
        status = opts.get("status")
        if kind == "ip_not_allowed":
            ip = opts.get("ip", DEFAULT_FAULT_IP)
            if self.derivatives:
                # htx-docs usdtm error table: 12005 "Incorrect IP address." (no IP in it).
                return self.fail(12005, "Incorrect IP address.", status or 200)
            # Observed: "Incorrect IP address [IP地址错误]:104.128.67.45" (huobi_Python#110).
            return self.signature_invalid(f"Incorrect IP address [IP地址错误]:{ip}")
        if kind == "invalid_signature":
            if self.derivatives:
                return self.fail(12008, "Verification failed.", status or 200)
            return self.signature_invalid("Verification failure [校验失败]")
        if kind == "account_frozen":
            if self.derivatives:
                return self.fail(12009, "The user is locked or doesn't exist.", status or 200)
            # htx-docs spot "Error Code" (Trading): the account is locked.
            return self.fail(
                "operation-forbidden-for-lock-account-state",
                "The operation is forbidden when the account is locked",
                status or 200,
            )
        if kind == "maintenance":
            if self.derivatives:
                return self.fail(
                    1431,
                    "The system is in maintenance and is expected to resume at "
                    "2026-11-27 16:00:00 (GMT+8).",
                    status or 200,
                )
            # ccxt:htx.py exceptions: {"err-code":"system-maintenance",...}.
            return self.fail("system-maintenance", "System is in maintenance!", status or 200)
        if kind == "html_502":
            return html_502()
        if kind == "rate_limited":
            retry = str(int(opts.get("retry_after", 2)))
            if self.derivatives:
                return self.fail(
                    1032,
                    "The number of access exceeded the limit.",
                    status or 429,
                    **{"Retry-After": retry},
                )
            return self.fail(
                "base-request-exceed-frequency-limit",
                "Frequency of requests has exceeded the limit, please try again later",
                status or 429,
                **{"Retry-After": retry},
            )
        if kind == "ip_banned":
            return ban_page(
                status or 403, b"<html><body><h1>403 Forbidden</h1></body></html>", opts
            )
        if kind == "not_found":
            return self.fail("invalid-parameter", "url not found", 404)
        if kind == "method_not_allowed":
            return self.fail("invalid-parameter", "method not allowed", 405)
        raise ValueError(kind)

    # -- authentication -----------------------------------------------------------------------

    def key_id(self, request: SimRequest) -> str | None:
        return request.params.get("AccessKeyId")

    def authenticate(self, request: SimRequest) -> SimKey | SimResponse:
        params = request.params
        api_key = params.get("AccessKeyId")
        signature = params.get("Signature")
        timestamp = params.get("Timestamp")
        if (
            not api_key
            or not signature
            or params.get("SignatureMethod") != "HmacSHA256"
            or params.get("SignatureVersion") != "2"
        ):
            if self.derivatives:
                return self.fail(12002, "Incorrect signature version.")
            return self.fail("api-signature-not-valid", "Signature not valid: 缺少必要参数")
        if not self._fresh(timestamp):
            if self.derivatives:
                return self.fail(12001, "Invalid submission time.")
            return self.signature_invalid("无效的提交时间")
        key = self.sim.get_key("htx", api_key)
        if key is not None and key.expires_at_ms is not None and key.expires_at_ms < self.now_ms():
            # How HTX words an expired key on the spot host is UNVERIFIED; derivatives 12004.
            if self.derivatives:
                return self.fail(12004, "Private key is expired.")
            key = None
        if key is None:
            if self.derivatives:
                # ccxt:htx.py exceptions '403': {"err_code":403,"err_msg":"Incorrect Access key
                # [Access key错误]"}.
                return self.fail(403, "Incorrect Access key [Access key错误]")
            return self.signature_invalid("Incorrect Access key [Access key错误]")
        host = request.headers.get("Host") or ""
        expected = htx_signature(key.secret, request.method, host, request.path, params)
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            return self.error("invalid_signature", request)
        if not key.ip_allowed(request.caller_ip):
            return self.error("ip_not_allowed", request, ip=request.caller_ip)
        return key

    def _fresh(self, timestamp: str | None) -> bool:
        try:
            when = datetime.strptime(timestamp or "", "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
        except ValueError:
            return False
        return abs(when.timestamp() - self.now_ms() / 1000) <= TIMESTAMP_TOLERANCE_S


class HtxSpotAPI(HtxAPI):
    role = "htx"
    _BALANCE = re.compile(r"/v1/account/accounts/(\d+)/balance")
    _BALANCE_TEMPLATE = "/v1/account/accounts/{account-id}/balance"

    def register(self) -> None:
        self.add("GET", "/v1/common/timestamp", self.timestamp, pool="public")
        self.add("GET", "/v1/common/symbols", self.symbols, pool="public")
        self.add("GET", "/v2/user/uid", self.uid, signed=True, pool="private")
        self.add("GET", "/v2/user/api-key", self.api_key_info, signed=True, pool="private")
        self.add("GET", "/v1/account/accounts", self.accounts, signed=True, pool="private")
        self.add("GET", self._BALANCE_TEMPLATE, self.balance, signed=True, pool="private")

    def match(self, method: str, path: str) -> Route | None:
        if self._BALANCE.fullmatch(path):
            path = self._BALANCE_TEMPLATE
        return super().match(method, path)

    def timestamp(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        return json_response(200, {"status": "ok", "data": self.now_ms()})

    def symbols(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        return json_response(200, {"status": "ok", "data": HTX_SYMBOLS})

    def uid(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        return json_response(200, {"code": 200, "data": key.uid})

    def api_key_info(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        if key.extra.get("sub_user"):
            # Parent users only (htx-docs get_api_key_query.md); the refusal's exact code is
            # UNVERIFIED: 1002 "forbidden" is the v2 code for an operation a user may not do.
            return json_response(200, {"code": 1002, "message": "forbidden"})
        if request.params.get("uid") != str(key.uid):
            return json_response(200, {"code": 2002, "message": "invalid field value"})
        permissions = ["readOnly"]
        if key.trade:
            permissions.append("trade")
        if key.withdrawal:
            permissions.append("withdraw")
        if key.expires_at_ms is not None:
            valid_days = max(0, (key.expires_at_ms - self.now_ms()) // 86_400_000)
        else:
            # Keys bound to IPs do not expire; unbound ones last 90 days (§6.3).
            valid_days = -1 if key.ip_whitelist else 90
        row = {
            "accessKey": key.api_key,
            "status": "normal",
            "note": key.remark,
            "permission": ",".join(permissions),
            "ipAddresses": ",".join(key.ip_whitelist or ()),
            "validDays": valid_days,
            "createTime": key.created_at_ms,
            "updateTime": key.created_at_ms,
        }
        wanted = request.params.get("accessKey")
        rows = [row] if not wanted or wanted == key.api_key else []
        # Shape of the docs' success example (htx-docs get_api_key_query.md).
        return json_response(200, {"code": 200, "message": "success", "data": rows, "ok": True})

    def accounts(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        rows = []
        if not key.extra.get("no_spot_account"):
            rows.append(
                {
                    "id": key.uid + ACCOUNT_ID_OFFSET,
                    "type": "spot",
                    "subtype": "",
                    "state": "working",
                }
            )
        rows.append(
            {
                "id": key.uid + 2 * ACCOUNT_ID_OFFSET,
                "type": "otc",
                "subtype": "",
                "state": "working",
            }
        )
        return json_response(200, {"status": "ok", "data": rows})

    def balance(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        match = self._BALANCE.fullmatch(request.path)
        if not match or int(match.group(1)) != key.uid + ACCOUNT_ID_OFFSET:
            # htx-docs "Account" error codes: 1002 forbidden, "the account Id and UID doesn't
            # match"; the v1 wording of it is UNVERIFIED.
            return self.fail("account-get-accounts-inexistent-error", "account not exist")
        rows = []
        for asset, (free, locked) in key.balances.items():
            rows.append({"currency": asset.lower(), "type": "trade", "balance": plain(free)})
            rows.append({"currency": asset.lower(), "type": "frozen", "balance": plain(locked)})
        return json_response(
            200,
            {
                "status": "ok",
                "data": {
                    "id": key.uid + ACCOUNT_ID_OFFSET,
                    "type": "spot",
                    "state": "working",
                    "list": rows,
                },
            },
        )


class HtxFuturesAPI(HtxAPI):
    role = "htx_futures"
    derivatives = True

    def register(self) -> None:
        self.add("GET", "/api/v1/timestamp", self.timestamp, pool="futures_public")
        self.add(
            "GET", "/linear-swap-api/v1/swap_contract_info", self.contracts, pool="futures_public"
        )
        self.add(
            "POST",
            "/linear-swap-api/v1/swap_cross_account_info",
            self.cross_account,
            signed=True,
            pool="futures_private",
        )

        # Multi-Assets Collateral mode (htx-docs get_asset_mode.md, get_account_balance.md).
        self.add(
            "GET", "/v5/account/asset_mode", self.asset_mode, signed=True, pool="futures_private"
        )
        self.add("GET", "/v5/account/balance", self.v5_balance, signed=True, pool="futures_private")

    def timestamp(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        return json_response(200, {"status": "ok", "ts": self.now_ms()})

    def asset_mode(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        mode = 1 if key.extra.get("multi_assets") else 0
        return json_response(
            200,
            {"code": 200, "msg": "Success", "data": {"assets_mode": mode}, "ts": self.now_ms()},
        )

    def v5_balance(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        if not key.futures:
            # The v5 wording of "not opened" is UNVERIFIED; the code is the v1 one.
            return json_response(
                200,
                {
                    "code": 1220,
                    "msg": "You don’t have access permission as you have not opened contracts "
                    "trading.",
                    "data": None,
                    "ts": self.now_ms(),
                },
            )
        details = [
            {
                "currency": asset,
                "equity": plain(free + locked),
                "available": plain(free),
                "withdraw_available": plain(free),
                "profit_unreal": "0",
                "initial_margin": "0",
                "maintenance_margin": "0",
            }
            for asset, (free, locked) in key.balances.items()
        ]
        usdt_free, usdt_locked = key.balances.get("USDT", (0, 0))
        data = {
            "state": "1",
            "equity": plain(usdt_free + usdt_locked),
            "available_margin": plain(usdt_free),
            "details": details,
        }
        return json_response(
            200, {"code": 200, "msg": "Success", "data": data, "ts": self.now_ms()}
        )

    def contracts(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        return json_response(200, {"status": "ok", "data": HTX_CONTRACTS, "ts": self.now_ms()})

    def cross_account(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        if not key.futures:
            # ccxt:htx.py exceptions '1220' (observed body).
            return self.fail(
                1220,
                "You don’t have access permission as you have not opened contracts trading.",
            )
        free, locked = key.balances.get("USDT", (0, 0))
        equity = free + locked
        row = {
            "margin_mode": "cross",
            "margin_account": "USDT",
            "margin_asset": "USDT",
            "margin_balance": float(equity),
            "margin_static": float(equity),
            "margin_position": 0,
            "margin_frozen": float(locked),
            "profit_real": 0,
            "profit_unreal": 0,
            "withdraw_available": float(free),
            "risk_rate": None,
            "position_mode": "dual_side",
            "contract_detail": [],
            "futures_contract_detail": [],
        }
        return json_response(200, {"status": "ok", "data": [row], "ts": self.now_ms()})


SIM = SimExchange(
    slug="htx",
    hosts={"htx": HtxSpotAPI, "htx_futures": HtxFuturesAPI},
    pools=(
        # Spot private endpoints: 100 times / 2 s per UID and endpoint (htx-docs); the public
        # time has no documented figure (UNVERIFIED): 100 / s per IP is assumed.
        RatePool("htx", "private", 100, 2.0, per_endpoint=True, fixed_window=False),
        RatePool("htx", "public", 100, 1.0, per_endpoint=True, fixed_window=False),
        # Derivatives: private read 72 / 3 s per UID, public 240 / 3 s per IP (htx-docs usdtm).
        RatePool("htx", "futures_private", 72, 3.0, per_endpoint=False, fixed_window=False),
        RatePool("htx", "futures_public", 240, 3.0, per_endpoint=False, fixed_window=False),
    ),
    credentials=htx_key_material,
)
