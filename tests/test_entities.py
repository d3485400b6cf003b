"""Who's who (issue 11 §5): spellings grounded in their article, particles stripped, roles, grouping,
and the alias file."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from briefer.brief.aliases import NO_ALIASES, Aliases, aliases_for, load_aliases
from briefer.brief.facts import join_entities, needed_entities
from briefer.cli import app
from briefer.errors import UsageError
from briefer.models import BriefEntity, Story
from briefer.pipeline import RunConfig, run
from briefer.text.names import NameFinder, adjective_of, strip_particles
from conftest import FIXTURES
from test_merge import summary


def ent(name_en: str, *originals: str, type: str = "organization", role: str = "") -> dict[str, Any]:
    return {"name_en": name_en, "names_original": list(originals), "type": type, "role_en": role}


def variants(e: BriefEntity) -> dict[str, list[str]]:
    return {v.name: v.article_ids for v in e.variants}


def by_name(entities: list[BriefEntity], name: str) -> BriefEntity:
    return next(e for e in entities if e.name_en == name)


def aliases(tmp_path: Path, text: str) -> Aliases:
    path = tmp_path / "aliases.toml"
    path.write_text(text, encoding="utf-8")
    return load_aliases(path)


@pytest.mark.parametrize(("written", "name"), [
    ("للحرس الثوري الإيراني", "الحرس الثوري الإيراني"),
    ("والأمريكية", "الأمريكية"),
    ("وبالعراق", "العراق"),
    ("فللعراق", "العراق"),
    ("كالعادة", "العادة"),
    ("بغداد", "بغداد"),  # a name that begins with such a letter is left alone
    ("واشنطن", "واشنطن"),
    ("فرهاد علاء الدين", "فرهاد علاء الدين"),
    ("اللواء", "اللواء"),
])
def test_particles_attached_before_the_article_are_stripped(written: str, name: str) -> None:
    assert strip_particles(written) == name


def test_particles_are_stripped_when_joining() -> None:
    # «للحرس الثوري الإيراني» in one article, «الحرس الثوري الإيراني» in another: one name.
    a = summary("a", entities=[ent("IRGC", "للحرس الثوري الإيراني")])
    b = summary("b", entities=[ent("Islamic Revolutionary Guard Corps", "الحرس الثوري الإيراني")])
    [irgc] = join_entities([a, b])
    assert irgc.article_ids == ["a", "b"]
    assert variants(irgc) == {"IRGC": ["a"], "Islamic Revolutionary Guard Corps": ["b"],
                              "الحرس الثوري الإيراني": ["a", "b"]}


def test_a_bare_particle_is_stripped_only_before_a_known_spelling() -> None:
    a = summary("a", entities=[ent("Iran", "وإيران", type="place")])
    b = summary("b", entities=[ent("Iran", "إيران", type="place")])
    c = summary("c", entities=[ent("Biden", "بايدن", type="person")])  # «ايدن» is no spelling: kept whole
    entities = join_entities([a, b, c])
    assert variants(by_name(entities, "Iran")) == {"Iran": ["a", "b"], "إيران": ["a", "b"]}
    assert "بايدن" in variants(by_name(entities, "Biden"))


def test_spellings_not_in_the_article_are_dropped_and_join_nothing() -> None:
    a = summary("a", entities=[ent("Qaani", "قاآني", "سليماني", type="person")], text="وقال قاآني")
    b = summary("b", entities=[ent("Qasem Soleimani", "سليماني", type="person")])
    entities = join_entities([a, b])
    assert variants(by_name(entities, "Qaani")) == {"Qaani": ["a"], "قاآني": ["a"]}
    assert by_name(entities, "Qasem Soleimani").article_ids == ["b"]


def test_a_spelling_found_with_other_diacritics_or_hamza_counts() -> None:
    finder = NameFinder(["عنوان", "التقى قآاني بالسودانيّ في بغداد"])
    assert finder.found("قاآني") and finder.found("السوداني") and finder.found("بغداد")
    assert not finder.found("بغدا") and not finder.found("سليماني")
    # ل + ال is written لل: the name with its article is there.
    assert NameFinder(["رسالة للحرس الثوري"]).found("الحرس الثوري")
    assert not NameFinder(["رسالة لحرس الثوري"]).found("الحرس الثوري")


def test_a_spelling_that_names_two_things_is_dropped() -> None:
    text = "بيان وزارتي الدفاع العراقية، والأمريكية"
    a = summary("a", entities=[ent("US Department of Defense", "وزارتي الدفاع العراقية، والأمريكية")], text=text)
    [dod] = join_entities([a])
    assert variants(dod) == {"US Department of Defense": ["a"]}


def test_adjectives_are_not_spellings_of_a_place() -> None:
    a = summary("a", entities=[ent("Iran", "إيران", "الإيراني", "الإيرانيون", type="place")])
    b = summary("b", entities=[ent("Israel", "الإسرائيلية", type="place")])
    c = summary("c", entities=[ent("Israel", "إسرائيل", type="place")])
    entities = join_entities([a, b, c])
    assert variants(by_name(entities, "Iran")) == {"Iran": ["a"], "إيران": ["a"]}
    assert variants(by_name(entities, "Israel")) == {"Israel": ["b", "c"], "إسرائيل": ["c"]}
    assert adjective_of("الأمريكي", ["أمريكا"]) and not adjective_of("السوداني", ["محمد شياع السوداني"])


def test_role_is_the_most_common_one_and_stops_before_what_the_entity_did() -> None:
    people = [summary("a", entities=[ent("Sudani", "السوداني", type="person", role="Prime Minister of Iraq; met X")]),
              summary("b", entities=[ent("Sudani", "السوداني", type="person", role="Iraqi premier")]),
              summary("c", entities=[ent("Sudani", "السوداني", type="person", role="Prime minister of Iraq.")])]
    [sudani] = join_entities(people)
    assert sudani.role_en == "Prime Minister of Iraq"
    [nobody] = join_entities([summary("a", entities=[ent("X", "س", type="person")])])
    assert nobody.role_en is None


def test_people_then_organisations_then_places_then_other() -> None:
    a = summary("a", entities=[ent("Baghdad", "بغداد", type="place"), ent("F-16", "إف 16", type="other"),
                               ent("Reuters", "رويترز"), ent("Qaani", "قاآني", type="person")])
    b = summary("b", entities=[ent("Reuters", "رويترز"), ent("Baghdad", "بغداد", type="place")])
    assert [(e.name_en, e.type) for e in join_entities([a, b])] == [
        ("Qaani", "person"), ("Reuters", "organization"), ("Baghdad", "place"), ("F-16", "other")]


def test_types_keep_entities_apart_but_other_joins_one_type() -> None:
    place = summary("a", entities=[ent("Baghdad", "بغداد", type="place")])
    org = summary("b", entities=[ent("Baghdad", "بغداد", type="organization")])
    org2 = summary("c", entities=[ent("Iraqi government", "بغداد", type="organization")])
    assert [(e.type, e.article_ids) for e in join_entities([place, org, org2])] == [
        ("organization", ["b", "c"]), ("place", ["a"])]
    # The armed factions: "other" in one article, an organisation in another, the same spelling.
    other = summary("d", entities=[ent("Iraqi Shiite armed factions", "الفصائل الشيعية المسلحة", type="other")])
    named = summary("e", entities=[ent("Iran-aligned armed factions", "الفصائل الشيعية المسلحة")])
    [factions] = join_entities([other, named])
    assert factions.type == "organization" and factions.article_ids == ["d", "e"]


def test_the_alias_file_joins_entities_under_its_name(tmp_path: Path) -> None:
    rules = aliases(tmp_path, '[[entity]]\nname = "US Department of Defense"\n'
                              'spellings = ["Pentagon", "البنتاجون"]\n')
    a = summary("a", entities=[ent("US Department of Defense", "وزارة الدفاع الأمريكية")])
    b = summary("b", entities=[ent("Pentagon", "البنتاجون"), ent("Pat Ryder", "رايدر", type="person")])
    c = summary("c", entities=[ent("The Pentagon", "للبنتاجون")])  # joined through its spelling, particle stripped
    without = join_entities([a, b, c])
    assert {e.name_en for e in without} == {"US Department of Defense", "Pentagon", "Pat Ryder"}
    dod = by_name(join_entities([a, b, c], rules), "US Department of Defense")
    assert dod.article_ids == ["a", "b", "c"]
    assert set(variants(dod)) == {"US Department of Defense", "Pentagon", "The Pentagon", "وزارة الدفاع الأمريكية",
                                  "البنتاجون"}


def test_the_alias_file_keeps_apart_what_it_says_never_to_join(tmp_path: Path) -> None:
    rules = aliases(tmp_path, '[[never_join]]\nnames = ["Iran", "Tehran"]\n')
    # The model gave Tehran the spelling of Iran: briefer would join them; the alias file forbids it.
    a = summary("a", entities=[ent("Iran", "إيران", type="place")])
    b = summary("b", entities=[ent("Tehran", "طهران", "إيران", type="place")])
    c = summary("c", entities=[ent("Tehran", "طهران", type="place")])
    assert len(join_entities([a, b, c])) == 1
    apart = join_entities([a, b, c], rules)
    assert [(e.name_en, e.article_ids) for e in apart] == [("Tehran", ["b", "c"]), ("Iran", ["a"])]


def test_alias_joins_are_the_same_whatever_the_order_of_the_articles(tmp_path: Path) -> None:
    rules = aliases(tmp_path, '[[entity]]\nname = "DoD"\nspellings = ["Pentagon", "US Department of Defense"]\n')
    s = [summary("a", entities=[ent("Pentagon", "البنتاجون")]),
         summary("b", entities=[ent("US Department of Defense", "وزارة الدفاع")])]
    assert join_entities(s, rules) == join_entities(list(reversed(s)), rules)


@pytest.mark.parametrize(("text", "message"), [
    ("[[entity]\nname = 1", "not a valid TOML file"),
    ("[[entities]]\nname = 'x'", "unknown key 'entities'"),
    ("[[entity]]\nspellings = ['x']", "entity[1].name: must be a non-empty string"),
    ("[[entity]]\nname = 'x'\nspellings = 'y'", "entity[1].spellings: must be a list of non-empty strings"),
    ("[[never_join]]\nnames = ['Iran']", "never_join[1].names: needs at least 2 names"),
])
def test_a_bad_alias_file_names_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)) as info:
        aliases(tmp_path, text)
    assert "aliases.toml" in str(info.value)


def test_the_alias_file_beside_the_folder_is_used_by_default(tmp_path: Path) -> None:
    folder = tmp_path / "today"
    folder.mkdir()
    assert aliases_for(folder) == NO_ALIASES
    (tmp_path / "aliases.toml").write_text('[[entity]]\nname = "X"\nspellings = ["Y"]\n', encoding="utf-8")
    assert aliases_for(folder).names == ("X",)
    with pytest.raises(UsageError, match="no such file"):
        aliases_for(folder, tmp_path / "missing.toml")


def test_cli_option_names_another_alias_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["summarize", str(FIXTURES / "articles"), "--offline", "--out",
                                      str(tmp_path / "out"), "--aliases", str(tmp_path / "missing.toml")])
    assert result.exit_code == 2 and "missing.toml: no such file" in result.output


def test_the_seed_brief_names_the_pentagon_through_the_fixtures_alias_file(tmp_path: Path) -> None:
    brief = asyncio.run(run(RunConfig(folder=FIXTURES / "articles", out_dir=tmp_path, offline=True))).brief
    dod = by_name(brief.entities, "US Department of Defense")
    assert dod.article_ids == ["003_765204c47648eeb1"]
    assert {"Pentagon", "البنتاجون", "وزارة الدفاع الأمريكية"} <= set(variants(dod))
    # No spelling in the brief names two things, none carries a particle before ال.
    names = [v.name for e in brief.entities for v in e.variants]
    assert not [n for n in names if "،" in n or strip_particles(n) != n]


def test_other_things_only_when_a_story_needs_them() -> None:
    jets = BriefEntity(name_en="F-16 fighter jets", variants=[], type="other", article_ids=["a"])
    tanks = BriefEntity(name_en="Abrams tanks", variants=[], type="other", article_ids=["a", "b"])
    office = BriefEntity(name_en="Oval Office", variants=[], type="other", article_ids=["a"])
    qaani = BriefEntity(name_en="Qaani", variants=[], type="person", article_ids=["a"])
    story = Story(title="Talks in the Oval Office", summary="S.", article_ids=["a"], timeline=[], perspectives=[])
    assert [e.name_en for e in needed_entities([jets, tanks, office, qaani], [story])] == [
        "Abrams tanks", "Oval Office", "Qaani"]


def test_adjective_check_against_its_definition_on_random_spellings() -> None:
    """Stems computed once per group (nisba_stems) decide as the definition does: the spelling, without «ال», is a
    name's key (without «ال» and a final «ا»/«ه», at least 3 letters, one word) followed by a nisba ending."""
    import random

    from briefer.text.names import adjective_of_stems, nisba_stems
    from briefer.text.textnorm import match_key

    def by_definition(spelling: str, names: list[str]) -> bool:
        word = match_key(spelling).removeprefix("ال")
        for name in names:
            stem = match_key(name).removeprefix("ال")
            stem = stem[:-1] if stem[-1:] in ("ا", "ه") else stem
            if len(stem) >= 3 and " " not in stem and any(
                    word == stem + end for end in ("ي", "يه", "ية", "يون", "يين", "يان")):
                return True
        return False

    parts = ["ال", "إيران", "أمريكا", "ي", "يه", "ية", "يون", "يين", "يان", "ا", "ه", " ", "سوداني", "Iran", "ـ", "ٌ"]
    rng = random.Random(42)
    for _ in range(3000):
        names = ["".join(rng.choice(parts) for _ in range(rng.randint(0, 4))) for _ in range(rng.randint(0, 5))]
        stems = nisba_stems(names)
        for spelling in names:
            assert adjective_of_stems(spelling, stems) == by_definition(spelling, names), (spelling, names)
