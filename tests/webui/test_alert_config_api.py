"""The administrator's 预警规则与推送: every threshold of the scan, and the push channels with no secret in clear."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from fastapi.testclient import TestClient

from xinfang.alerts import config
from xinfang.analytics.warning import WarningConfig
from xinfang.runtime import Runtime

Auth = Callable[[str], dict[str, str]]
Login = Callable[[str], str]

SECRETS = (
    "wecomKEY0123456789abcdef",
    "dingACCESS0123456789xyz",
    "SECsigning0123456789",
    "HeaderToken-999",
    "smtp-Passw0rd!",
    "sms-token-777",
    "13905981234",
    "leader.wang@example.gov",
    "ops-user",
    "pathSecretABCDEFGH12345678",
)
CHANNELS = [
    {
        "name": "leaders-wecom",
        "type": "wecom",
        "url": f"https://qyapi.example.gov/cgi-bin/webhook/send?key={SECRETS[0]}",
        "tiers": ["red"],
    },
    {
        "name": "duty-dingtalk",
        "type": "dingtalk",
        "url": f"https://oapi.example.gov/robot/send?access_token={SECRETS[1]}",
        "secret": SECRETS[2],
        "tiers": ["red", "yellow"],
    },
    {
        "name": "ops",
        "type": "webhook",
        "url": f"http://{SECRETS[8]}:pw@10.0.0.5:8080/hooks/{SECRETS[9]}/xinfang",
        "headers": {"X-Token": SECRETS[3]},
    },
    {
        "name": "mail",
        "type": "email",
        "host": "smtp.example.gov",
        "port": 465,
        "sender": "xfj@example.gov",
        "to": [SECRETS[7]],
        "username": "xfj",
        "password": SECRETS[4],
    },
    {"name": "sms", "type": "sms", "url": "http://sms-gw/send", "to": [SECRETS[6]], "token": SECRETS[5]},
]


def test_every_threshold_is_described() -> None:
    names = {f.name for f in dataclasses.fields(WarningConfig)}
    assert names == set(config.FIELDS), "describe new WarningConfig fields in alerts.config.FIELDS"


def test_the_admin_reads_the_rules_and_the_masked_channels(
    client: TestClient, auth: Auth, seeded: Runtime
) -> None:
    seeded.settings.alert_channels = CHANNELS
    rules = client.get("/api/alerts/rules", headers=auth("admin"))
    assert rules.status_code == 200, rules.text
    body = rules.json()
    assert [c[0] for c in body["columns"]] == ["group", "label", "value", "name"]
    by_name = {r["name"]: r for r in body["items"]}
    assert len(by_name) == len(dataclasses.fields(WarningConfig))
    assert by_name["p_red"]["value"] == "1e-06" and by_name["p_red"]["group"] == "负二项回归"
    assert by_name["group_visit_red_headcount"]["value"] == "20"
    assert by_name["risk_red_types"]["value"] == "扬言自伤自杀、扬言暴力/报复"
    assert by_name["scan_max_radius_km"]["value"] == "(自动)"

    channels = client.get("/api/alerts/channels", headers=auth("admin"))
    assert channels.status_code == 200, channels.text
    text = channels.text
    leaked = [s for s in SECRETS if s in text]
    assert leaked == [], f"secrets in clear: {leaked}"
    rows = {r["name"]: r for r in channels.json()["items"]}
    assert next(iter(rows)) == "inapp" and rows["inapp"]["type"] == "站内消息"
    assert rows["leaders-wecom"]["target"] == "https://qyapi.example.gov/cgi-bin/webhook/send?key=***"
    assert rows["leaders-wecom"]["tiers"] == "红色" and rows["duty-dingtalk"]["tiers"] == "红色、黄色"
    assert rows["duty-dingtalk"]["secrets"] == "签名密钥已设置"
    assert rows["ops"]["target"] == "http://***@10.0.0.5:8080/hooks/***/xinfang"
    assert rows["ops"]["secrets"] == "请求头 X-Token 已设置" and rows["ops"]["tiers"] == "红色"
    assert (
        rows["mail"]["target"] == "smtp://smtp.example.gov:465"
        and rows["mail"]["recipients"] == "l***@example.gov"
    )
    assert rows["mail"]["secrets"] == "口令已设置、用户名已设置"
    assert rows["sms"]["recipients"] == "139****1234" and rows["sms"]["secrets"] == "令牌已设置"


def test_only_the_admin_reads_the_configuration(client: TestClient, auth: Auth, login: Login) -> None:
    for who in ("supervisor", "leader", "clerk", "handler_rsj"):
        for url in ("/api/alerts/rules", "/api/alerts/channels"):
            assert client.get(url, headers=auth(who)).status_code == 403, (who, url)
    assert client.get("/api/alerts/rules").status_code == 401
    login("admin")
    page = client.get("/admin?section=alerts").text
    assert 'id="alert-rules"' in page and 'id="alert-channels"' in page and "XINFANG_ALERT_CHANNELS" in page
