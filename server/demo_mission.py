"""A plausible demo mission for ``peacewatch seed``: Ituri province, eastern DRC.

Four contingents with bases, users of every role, enrolled tablets, reference data (place names
in English/French/Arabic, IDP sites and other sensitive sites, the mission area), patrol routes,
and N reports of all three kinds clustered in space and time the way violence clusters: chronic
hotspots around Djugu's IDP sites, an emerging one near Fataki in the last weeks, sparse background
elsewhere. Some events are reported by two contingents (duplicates), a few reports were edited
on two tablets (conflicts), and HQ has reviewed some. Deterministic for a given seed.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# name, (en, fr, ar), lat, lon
PLACES: list[tuple[str, str, str, float, float]] = [
    ("Bunia", "Bunia", "بونيا", 1.5593, 30.2526),
    ("Djugu", "Djugu", "دجوغو", 1.9236, 30.5008),
    ("Fataki", "Fataki", "فاتاكي", 1.9800, 30.6600),
    ("Mahagi", "Mahagi", "ماهاجي", 2.3069, 30.9964),
    ("Mongbwalu", "Mongbwalu", "مونغبوالو", 1.9500, 30.0333),
    ("Irumu", "Irumu", "إيرومو", 1.4500, 29.8667),
    ("Komanda", "Komanda", "كوماندا", 1.3667, 29.7667),
    ("Drodro", "Drodro", "درودرو", 1.7700, 30.5300),
    ("Nizi", "Nizi", "نيزي", 1.7333, 30.3000),
    ("Kasenyi", "Kasenyi", "كاسيني", 1.4000, 30.4300),
    ("Tchomia", "Tchomia", "تشوميا", 1.4200, 30.4800),
    ("Boga", "Boga", "بوغا", 1.0500, 30.0000),
    ("Gety", "Gety", "غيتي", 1.2200, 30.2300),
    ("Aru", "Aru", "آرو", 2.8700, 30.8400),
    ("Largu", "Largu", "لارغو", 1.8500, 30.6200),
    ("Bule", "Bule", "بولي", 1.8800, 30.4200),
]
SENSITIVE_SITES: list[tuple[str, str, str, str, float, float]] = [
    ("idp_site", "Rhoe IDP site", "Site de déplacés de Rhoe", "موقع نازحي روي", 1.8050, 30.5800),
    ("idp_site", "Plaine Savo IDP site", "Site de déplacés de Plaine Savo", "موقع نازحي بلين سافو", 1.8900, 30.7100),
    ("idp_site", "Djaiba IDP site", "Site de déplacés de Djaiba", "موقع نازحي دجايبا", 1.9400, 30.6900),
    ("health_centre", "Drodro health centre", "Centre de santé de Drodro", "مركز درودرو الصحي", 1.7720, 30.5330),
    ("school", "Fataki primary school", "École primaire de Fataki", "مدرسة فاتاكي الابتدائية", 1.9820, 30.6580),
    ("market", "Komanda market", "Marché de Komanda", "سوق كوماندا", 1.3690, 29.7690),
]
MISSION_AREA = [(28.9, 0.8), (31.3, 0.8), (31.3, 3.0), (28.9, 3.0), (28.9, 0.8)]

# code, name, country, base place
CONTINGENTS = [
    ("BANBAT", "Bangladesh Battalion", "Bangladesh", "Bunia"),
    ("NEPBAT", "Nepal Battalion", "Nepal", "Djugu"),
    ("URUBAT", "Uruguay Battalion", "Uruguay", "Mahagi"),
    ("PAKBAT", "Pakistan Battalion", "Pakistan", "Komanda"),
]
DEMO_PASSWORD = "peacewatch-demo"

# (centre place, radius km, share of incidents, first day (days ago), last day)
CLUSTERS = [
    ("Drodro", 4.0, 0.22, 120, 0),  # chronic: IDP sites attacked throughout
    ("Fataki", 3.5, 0.12, 21, 0),  # emerging: the last three weeks
    ("Komanda", 3.0, 0.08, 120, 60),  # historical: quieter lately
    ("Mongbwalu", 3.0, 0.06, 90, 0),
]
INCIDENT_CATEGORIES = [
    ("attack_on_civilians", 0.25), ("armed_clash", 0.12), ("killing", 0.08), ("abduction", 0.08),
    ("looting", 0.08), ("arson", 0.06), ("displacement", 0.08), ("armed_group_movement", 0.1),
    ("threat_intimidation", 0.06), ("explosive_hazard", 0.03), ("restriction_of_movement", 0.03),
    ("demonstration", 0.03),
]
HR_CATEGORIES = [("conflict_related_sexual_violence", 0.4), ("arbitrary_detention", 0.25),
                 ("torture_ill_treatment", 0.15), ("child_recruitment", 0.2)]
TITLES = {
    "attack_on_civilians": "Armed men attacked civilians near {p}",
    "armed_clash": "Exchange of fire between armed groups near {p}",
    "killing": "Civilians killed near {p}",
    "abduction": "Villagers abducted on the road to {p}",
    "looting": "Shops looted in {p}",
    "arson": "Houses burned in {p}",
    "displacement": "Families fleeing towards {p}",
    "armed_group_movement": "Armed group column seen moving near {p}",
    "threat_intimidation": "Threats against community leaders in {p}",
    "explosive_hazard": "Suspected explosive device near {p}",
    "restriction_of_movement": "Road block preventing access to {p}",
    "demonstration": "Demonstration in {p}",
    "conflict_related_sexual_violence": "Sexual violence reported near {p}",
    "arbitrary_detention": "Arbitrary detention reported in {p}",
    "torture_ill_treatment": "Ill-treatment of detainees in {p}",
    "child_recruitment": "Children recruited by an armed group near {p}",
}


@dataclass(frozen=True)
class PlannedVersion:
    """One version to store: whose device sends it, its body and parents (by index in the plan)."""

    username: str
    body: dict[str, Any]
    parent_indexes: tuple[int, ...] = ()


def _weighted(rng: random.Random, items: list[tuple[str, float]]) -> str:
    return rng.choices([c for c, _ in items], weights=[w for _, w in items])[0]


def _jitter(rng: random.Random, lat: float, lon: float, km: float) -> tuple[float, float]:
    # Gaussian scatter, ~km standard distance; 1 degree is ~111 km at the equator.
    return round(lat + rng.gauss(0, km / 111), 6), round(lon + rng.gauss(0, km / 111), 6)


def _iso(t: datetime) -> str:
    return t.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _place(name: str) -> tuple[float, float]:
    for en, _fr, _ar, lat, lon in PLACES:
        if en == name:
            return lat, lon
    raise KeyError(name)


def _nearest_place(lat: float, lon: float) -> str:
    return min(PLACES, key=lambda p: (p[3] - lat) ** 2 + (p[4] - lon) ** 2)[0]


def plan_reports(n: int, *, now: datetime, seed: int = 7) -> list[PlannedVersion]:
    """The versions of ``n`` reports (plus edits, duplicates' second reports and conflicts)."""
    rng = random.Random(seed)
    plan: list[PlannedVersion] = []
    contingents = [c[0] for c in CONTINGENTS]
    n_patrol = int(n * 0.25)
    n_hr = int(n * 0.08)
    n_incident = n - n_patrol - n_hr

    def author(contingent: str) -> str:
        return f"{contingent.lower()}.patrol{rng.randint(1, 2)}"

    def base(kind: str, category: str, contingent: str, lat: float, lon: float, t: datetime) -> dict[str, Any]:
        place = _nearest_place(lat, lon)
        return {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "kind": kind, "category": category, "event_time": _iso(t),
            "location": {"lat": lat, "lon": lon, "precision_m": rng.choice([10, 10, 25, 100]), "source": "gps",
                         "place": place},
            "title": TITLES.get(category, "Patrol report {p}").format(p=place),
            "description": "", "contingent": contingent, "author": author(contingent), "language": "en",
        }

    # Incidents: clusters plus background; a share is re-reported by a second contingent.
    for _ in range(n_incident):
        r = rng.random()
        acc = 0.0
        cluster = None
        for c in CLUSTERS:
            acc += c[2]
            if r < acc:
                cluster = c
                break
        if cluster:
            clat, clon = _place(cluster[0])
            lat, lon = _jitter(rng, clat, clon, cluster[1])
            days_ago = rng.uniform(cluster[4], cluster[3])
        else:
            plat, plon = _place(rng.choice(PLACES)[0])
            lat, lon = _jitter(rng, plat, plon, 8)
            days_ago = rng.uniform(0, 120)
        t = now - timedelta(days=days_ago, minutes=rng.randint(0, 600))
        category = _weighted(rng, INCIDENT_CATEGORIES)
        contingent = min(CONTINGENTS, key=lambda c: sum((a - b) ** 2 for a, b in zip(_place(c[3]), (lat, lon), strict=True)))[0]
        body = base("incident", category, contingent, lat, lon, t)
        killed = rng.choice([0, 0, 0, 1, 2, 3, 5]) if category in ("attack_on_civilians", "killing", "armed_clash") else 0
        body |= {
            "casualties": {"killed": killed, "injured": rng.choice([0, 0, 1, 2, 4]),
                           "abducted": rng.choice([0, 0, 0, 3]) if category == "abduction" else 0,
                           "displaced": rng.choice([0, 50, 200, 1200]) if category == "displacement" else 0},
            "severity": min(5, 2 + (killed > 0) + (killed > 2) + rng.randint(0, 1)),
            "confidentiality": "public" if category in ("armed_group_movement", "demonstration") else "mission",
            "description": f"Reported by {body['author']} of {contingent}. Local sources confirm the event.",
        }
        plan.append(PlannedVersion(body["author"], body))
        if rng.random() < 0.04:
            other = rng.choice([c for c in contingents if c != contingent])
            dlat, dlon = _jitter(rng, lat, lon, 0.4)
            dup = base("incident", category, other, dlat, dlon, t + timedelta(minutes=rng.randint(-90, 90)))
            dup |= {"casualties": body["casualties"], "severity": body["severity"],
                    "confidentiality": body["confidentiality"],
                    "title": body["title"], "description": f"Second-hand account received by {other}."}
            plan.append(PlannedVersion(dup["author"], dup))
        elif rng.random() < 0.05:
            edited = body | {"description": body["description"] + " Update: casualty figures confirmed by the clinic."}
            plan.append(PlannedVersion(body["author"], edited, (len(plan) - 1,)))

    # Human-rights concerns: restricted categories are restricted.
    for _ in range(n_hr):
        plat, plon = _place(rng.choice(["Drodro", "Fataki", "Djugu", "Bunia", "Komanda"]))
        lat, lon = _jitter(rng, plat, plon, 5)
        t = now - timedelta(days=rng.uniform(0, 120))
        category = _weighted(rng, HR_CATEGORIES)
        contingent = rng.choice(contingents)
        body = base("hr_concern", category, contingent, lat, lon, t)
        body |= {
            "severity": rng.randint(3, 5), "confidentiality": "restricted",
            "description": "Account given by a survivor to the patrol; referred to the protection team.",
            "victims": [{"sex": rng.choice(["female", "female", "male"]), "age_group": rng.choice(["adult", "child"]),
                         "count": rng.randint(1, 3), "consent_to_share": False, "name": f"Survivor {rng.randint(100, 999)}"}],
            "witnesses": [{"sex": "unknown", "age_group": "adult", "count": 1, "consent_to_share": True}],
            "alleged_perpetrators": [{"sex": "male", "age_group": "adult", "count": rng.randint(1, 6),
                                      "consent_to_share": False}],
        }
        plan.append(PlannedVersion(body["author"], body))

    # Patrols: from each base out to villages and back, mostly nil reports.
    for _ in range(n_patrol):
        code, _name, _country, base_place = rng.choice(CONTINGENTS)
        blat, blon = _place(base_place)
        dest = rng.choice(PLACES)
        dlat, dlon = dest[3], dest[4]
        if (dlat - blat) ** 2 + (dlon - blon) ** 2 > 0.5**2:
            dlat, dlon = _jitter(rng, blat, blon, 15)
        steps = 8
        route = [{"lat": round(blat + (dlat - blat) * i / steps + rng.gauss(0, 0.004), 6),
                  "lon": round(blon + (dlon - blon) * i / steps + rng.gauss(0, 0.004), 6)} for i in range(steps + 1)]
        start = now - timedelta(days=rng.uniform(0, 60), hours=rng.randint(0, 12))
        end = start + timedelta(hours=rng.randint(2, 9))
        nil = rng.random() < 0.7
        body = base("patrol", "patrol_nil" if nil else "patrol_routine", code, blat, blon, start)
        body |= {
            "title": f"{rng.choice(['Vehicle', 'Foot'])} patrol {base_place} - {_nearest_place(dlat, dlon)}",
            "patrol_type": rng.choice(["vehicle", "vehicle", "foot"]), "start_time": _iso(start), "end_time": _iso(end),
            "route": route, "observations": "Nothing to report." if nil else "Population calm; market open.",
            "nil_report": nil, "confidentiality": "mission", "severity": 1,
        }
        body.pop("location")
        plan.append(PlannedVersion(body["author"], body))

    # Conflicts: a few reports edited on two tablets before either synced.
    incidents = [i for i, v in enumerate(plan) if v.body["kind"] == "incident" and not v.parent_indexes]
    for idx in rng.sample(incidents, k=min(3, len(incidents))):
        original = plan[idx].body
        c = original["contingent"].lower()
        left = original | {"casualties": original.get("casualties", {}) | {"killed": original["casualties"]["killed"] + 1}}
        right = original | {"severity": 5, "description": original["description"] + " Commander's correction."}
        plan.append(PlannedVersion(f"{c}.patrol1", left, (idx,)))
        plan.append(PlannedVersion(f"{c}.patrol2", right, (idx,)))
    return plan
