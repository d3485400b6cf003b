"""A stand-in model for the benchmarks that answers like a model would, so the merge path is exercised
honestly at scale: each article names a minister, a province and a ministry of its story, written as the
article writes them, with the English spelling varying from article to article as models' spellings do
(a handful per entity); dates and topics come from the article; merge answers cite the real ids of the
request (tests/echo_model.py). Synthetic text, never a fixture.

Answers come at a realistic size, so that the figures include the real parse and validation cost: a full
translation (as many tokens as the article), and for each paragraph two key points, two claims and an event,
each with a verbatim quote, as the reference answers have for articles of this length (fixtures/recordings:
about 3.4 answer tokens per article token besides the entities).
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
        answer.update(_full_size(text, f"{first_en[0]} {last_en[0]}"))
        return answer

    return respond


_FILLER = ("the minister said the committee would present its report on the plan to the council within two weeks, "
           "and that the work would begin as soon as it is approved")


def _full_size(text: str, minister: str) -> dict[str, Any]:
    """The translation, key points, claims and events of a complete answer: per paragraph, an English text as
    long as a translation (about 4/3 the Arabic's characters) and items whose quotes are the paragraph's words."""
    paragraphs = [m.group(2) for ln in text.split("\n") if (m := echo_model._PARA.match(ln))]
    translation, points, claims, events = [], [], [], []
    for n, p in enumerate(paragraphs, start=1):
        words = p.split()
        english = (f"Paragraph {n}: " + " ".join([_FILLER] * (1 + len(p) * 4 // 3 // len(_FILLER))))[:len(p) * 4 // 3]
        translation.append(english + ".")
        for k, quote in enumerate((" ".join(words[:8]), " ".join(words[-8:]))):
            points.append({"text_en": f"According to {minister}, point {n}.{k + 1}: {_FILLER}.",
                           "evidence_quote": quote, "attributed_to": minister, "single_anonymous_source": False})
            claims.append({"speaker_en": minister, "claim_en": f"Claim {n}.{k + 1}: {_FILLER}.",
                           "evidence_quote": quote, "single_anonymous_source": False})
        events.append({"date": None, "date_basis": None, "description_en": f"Event {n}: {_FILLER}.",
                       "evidence_quote": " ".join(words[2:10]), "attributed_to": minister,
                       "single_anonymous_source": False})
    return {"translation_en": translation, "key_points": points[:15], "claims": claims, "events": events,
            "summary_en": f"{minister} presented a plan. The committee will report within two weeks. "
                          "The council must approve it. Work starts once it is approved."}
