"""A stand-in model for the benchmarks that answers like a model would, so the merge path is exercised
honestly at scale: each article names a minister, a province and a ministry of its story, written as the
article writes them, with the English spelling varying from article to article as models' spellings do
(a handful per entity); dates and topics come from the article; merge answers cite the real ids of the
request (tests/echo_model.py). Synthetic text, never a fixture.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import echo_model  # noqa: E402

FIRST = [("محمد", ["Mohammed", "Muhammad", "Mohammad"]), ("أحمد", ["Ahmed", "Ahmad"]),
         ("علي", ["Ali"]), ("حسين", ["Hussein", "Husain", "Hossein"]), ("إبراهيم", ["Ibrahim", "Ebrahim"]),
         ("عمر", ["Omar", "Umar"]), ("خالد", ["Khalid", "Khaled"]), ("يوسف", ["Yousef", "Yusuf", "Youssef"])]
LAST = [("السوداني", ["al-Sudani", "Al-Sudani", "Sudani"]), ("الحكيم", ["al-Hakim", "Al-Hakeem"]),
        ("العبادي", ["al-Abadi", "Abadi"]), ("الكاظمي", ["al-Kadhimi", "al-Kazemi"]),
        ("الجبوري", ["al-Jubouri", "al-Juburi"]), ("النجفي", ["al-Nujaifi", "al-Nujayfi"])]
MINISTRIES = [("وزارة الكهرباء", ["Ministry of Electricity", "Electricity Ministry"]),
              ("وزارة الموارد المائية", ["Ministry of Water Resources", "Water Resources Ministry"]),
              ("وزارة النفط", ["Ministry of Oil", "Oil Ministry"])]
MONTHS_AR = ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر",
             "ديسمبر"]
_INDEX = re.compile(r"رقم (\d+)")


def story_of(i: int, n: int) -> int:
    return i % max(1, n // 8)  # about 8 articles a story


def facts(i: int, n: int) -> dict[str, Any]:
    s = story_of(i, n)
    first, last = FIRST[s % len(FIRST)], LAST[(s // len(FIRST)) % len(LAST)]
    ministry = MINISTRIES[s % len(MINISTRIES)]
    day = dt.date(2024, 1, 1) + dt.timedelta(days=(s * 3) % 330 + i % 3)
    return {"story": s, "province": s % 25, "first": first, "last": last, "ministry": ministry, "day": day}


def article_text(i: int, n: int) -> str:
    f = facts(i, n)
    name = f"{f['first'][0]} {f['last'][0]}"
    d = f["day"]
    dateline = f"بغداد في {d.day} {MONTHS_AR[d.month - 1]} {d.year}"
    paragraphs = [
        f"{dateline} - قال الوزير {name} إن الاجتماع رقم {i} بحث خطة {f['ministry'][0]} في المحافظة {f['province']}.",
        f"وأضاف {f['last'][0]} أن اللجنة ستقدم تقريرها خلال أسبوعين إلى مجلس الوزراء للمصادقة عليه.",
        "وأشار إلى أن الخطة تشمل إنشاء محطات جديدة وصيانة الشبكات القديمة في الأحياء السكنية.",
        "من جهته، قال نائب في البرلمان إن المواطنين ينتظرون نتائج ملموسة قبل حلول فصل الصيف.",
        f"وتعاني المحافظة {f['province']} من انقطاعات متكررة للتيار الكهربائي منذ سنوات بحسب السكان.",
        f"وختم المسؤول بأن التمويل متوفر وأن العمل سيبدأ فور المصادقة على الخطة رقم {i}.",
    ]
    return f"اجتماع رقم {i} حول خطة {f['ministry'][0]} في المحافظة {f['province']}\n" + "\n".join(paragraphs) + "\n"


def write_articles(folder: Path, n: int) -> None:
    folder.mkdir(parents=True)
    for i in range(n):
        (folder / f"article-{i:05d}.txt").write_text(article_text(i, n), encoding="utf-8")


def make_responder(n: int) -> Any:
    def respond(body: dict[str, Any]) -> dict[str, Any]:
        answer = echo_model.respond(body)
        if echo_model._schema_name(body) != "ArticleExtraction":
            return answer
        text = echo_model._between_boundaries(echo_model._user(body))
        i = int(_INDEX.search(text).group(1))  # type: ignore[union-attr]
        f = facts(i, n)
        pick = i // max(1, n // 8)  # a different article of the same story: maybe another spelling
        first_ar, first_en = f["first"]
        last_ar, last_en = f["last"]
        ministry_ar, ministry_en = f["ministry"]
        d = f["day"]
        answer.update({
            "published": d.isoformat(), "date_basis": "explicit",
            "date_evidence": f"بغداد في {d.day} {MONTHS_AR[d.month - 1]} {d.year}",
            "entities": [
                {"name_en": f"{first_en[pick % len(first_en)]} {last_en[pick % len(last_en)]}",
                 "names_original": [f"{first_ar} {last_ar}", last_ar], "type": "person", "role_en": "minister"},
                {"name_en": ministry_en[pick % len(ministry_en)], "names_original": [ministry_ar],
                 "type": "organization", "role_en": "the ministry in charge"},
                {"name_en": f"Province {f['province']}", "names_original": [f"المحافظة {f['province']}"],
                 "type": "place", "role_en": "where the plan applies"},
                {"name_en": "Council of Ministers", "names_original": ["مجلس الوزراء"], "type": "organization",
                 "role_en": "approves the plan"},
            ],
            "topics": [f"{ministry_en[0].lower()} plan", f"province {f['province']}"],
        })
        return answer

    return respond
