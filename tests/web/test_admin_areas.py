"""The administrator sets a contingent's area of responsibility on the contingents page."""

from __future__ import annotations

from factories import PASSWORD
from tests.web.helpers import csrf_of, sign_in


def test_admin_sets_an_area_on_the_contingents_page(client, mission) -> None:
    sign_in(client, "admin", PASSWORD)
    page = client.get("/admin/contingents")
    assert page.status_code == 200 and 'id="area-form"' in page.text and "import-basemap" in page.text
    form = {"csrf": csrf_of(page.text), "contingent": "ALPHA", "west": "30.1", "south": "1.45", "east": "30.45",
            "north": "1.7", "minzoom": "9", "maxzoom": "14", "max_mb": "150"}
    r = client.post("/admin/contingents/area", data=form)
    assert r.status_code == 303 and r.headers["location"].endswith("done=area:ALPHA")
    areas = client.get("/api/v1/admin/areas", headers=mission.headers("admin")).json()["areas"]
    assert areas == [{"contingent": "ALPHA", "bounds": [30.1, 1.45, 30.45, 1.7], "minzoom": 9, "maxzoom": 14,
                      "max_bytes": 150 * 1024 * 1024}]
    assert "30.1, 1.45, 30.45, 1.7 · z9-14 · 150.0 MB" in client.get("/admin/contingents").text

    bad = client.post("/admin/contingents/area", data=form | {"east": "thirty"})
    assert bad.status_code == 422 and "east" in bad.text
    bad = client.post("/admin/contingents/area", data=form | {"east": "29"})
    assert bad.status_code == 422 and "bounds" in bad.text
    bad = client.post("/admin/contingents/area", data=form | {"contingent": "NOPE"})
    assert bad.status_code == 404
    # Nothing half-written: the refused posts left ALPHA's area as it was.
    assert client.get("/api/v1/admin/areas", headers=mission.headers("admin")).json()["areas"] == areas

    client.cookies.clear()
    sign_in(client, "commander_a", PASSWORD)
    page = client.get("/reports")
    refused = client.post("/admin/contingents/area", data=form | {"csrf": csrf_of(page.text) if 'name="csrf"' in
                                                                   page.text else ""})
    assert refused.status_code == 403
