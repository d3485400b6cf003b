"""A merge batch carries only what its own articles use: their entities, their spellings, their ids."""

from __future__ import annotations

from briefer.brief.merge import EntityIndex
from briefer.models import BriefEntity, Variant


def test_a_batch_gets_only_its_own_spellings() -> None:
    iraq = BriefEntity(name_en="Iraq", type="place", article_ids=["a", "b", "c"], variants=[
        Variant(name="العراق", article_ids=["a", "b"]), Variant(name="عراق", article_ids=["c"]),
        Variant(name="Iraq", article_ids=["a", "b", "c"])])
    qaani = BriefEntity(name_en="Esmail Qaani", type="person", article_ids=["c"],
                        variants=[Variant(name="قاآني", article_ids=["c"])])
    index = EntityIndex([iraq, qaani])
    assert index.payload(["b", "a"]) == [
        {"name_en": "Iraq", "type": "place", "article_ids": ["a", "b"], "variants": ["العراق", "Iraq"]}]
    assert [e["name_en"] for e in index.payload(["c"])] == ["Iraq", "Esmail Qaani"]
    assert index.payload(["c"])[0]["variants"] == ["عراق", "Iraq"]
    assert index.payload(["z"]) == []
    assert index.cost("c") > index.cost("a") > 0
