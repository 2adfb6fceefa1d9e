"""``peacewatch admin sharing-*`` on the test database (both backends): the key it issues opens the
partner's feed through the API, and revoking from the shell closes it."""

from __future__ import annotations

import json

from peacewatch.server.cli import main


def test_cli_manages_agreements_the_api_serves(db_url, tmp_path, client, mission, capsys) -> None:
    data = ["--data-dir", str(tmp_path / "data"), "--database-url", db_url]
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"kinds": ["incident"], "categories": ["looting"], "location_grid_km": 20}))
    assert main(["admin", "sharing-create", "ocha", "--name", "OCHA", "--policy", f"@{policy}", *data]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["state"] == "active" and created["version"] == 1 and created["policy"]["location_grid_km"] == 20
    assert main(["admin", "sharing-key", "ocha", *data]) == 0
    key = json.loads(capsys.readouterr().out)["key"]
    feed = client.get("/api/v1/share/ocha/feed", headers={"X-Partner-Key": key})
    assert feed.status_code == 200, feed.text
    assert main(["admin", "sharing-change", "ocha", "--policy", '{"kinds": ["incident", "hr_concern"]}', *data]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "awaiting_approval"
    assert client.get("/api/v1/share/ocha/feed", headers={"X-Partner-Key": key}).status_code == 403
    # Bad input names the field and changes nothing.
    assert main(["admin", "sharing-change", "ocha", "--policy", '{"kinds": ["incident"], "min_count": 0}', *data]) == 2
    assert "policy.min_count" in capsys.readouterr().err
    assert main(["admin", "sharing-list", *data]) == 0
    assert [a["version"] for a in json.loads(capsys.readouterr().out)] == [2]
    assert main(["admin", "sharing-push", "ocha", "--url", "https://partner.example/in", *data]) == 0
    pushed = json.loads(capsys.readouterr().out)
    assert pushed["url"] == "https://partner.example/in" and len(pushed["secret"]) >= 32
    assert main(["admin", "sharing-push", "ocha", "--url", "ftp://partner.example/in", *data]) == 2
    assert "url" in capsys.readouterr().err
    assert main(["admin", "sharing-push", "ocha", "--off", *data]) == 0
    assert json.loads(capsys.readouterr().out) == {"partner": "ocha", "url": None, "secret": None}
    assert main(["admin", "sharing-revoke", "ocha", *data]) == 0
    capsys.readouterr()
    assert client.get("/api/v1/share/ocha/feed", headers={"X-Partner-Key": key}).status_code == 403
    assert main(["admin", "sharing-revoke", "nobody", *data]) == 1
