"""One article to one `ArticleSummary`. Knows nothing about other articles.

An article longer than the input budget is read in parts and joined (chunking.py); the
result has the same shape as for a short article.

After the model answers, briefer checks every evidence quote against the source itself
(grounding.py), and every date against the words it rests on (datecheck.py). With quotes it
cannot find, it re-asks the model with the list, a bounded number of times, and keeps the answer
with the most verified quotes. Unverified quotes that remain are kept and flagged, never silently
dropped. Each re-ask is an ordinary request through the gateway, so it is cached, recorded and
replayed like the first one.

What briefer kept of an answer that stayed invalid (ArticleExtraction.keep_valid), and what it drops
here, becomes the article's `warnings`: repeated items (a loop the schema's maxItems closed), entities
none of whose spellings is in the article, a translation without one item per paragraph. An article with
warnings is shown as kept in part, never as clean.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel

from briefer.errors import ArticleFailed, MissingRecording
from briefer.ingest.folder import Article
from briefer.model.answers import Call, Gateway
from briefer.model.costs import part_input_budget
from briefer.model.prompts import Prompts, boundary_for
from briefer.models import (
    TRANSLATION_INCOMPLETE,
    ArticleDigest,
    ArticleExtraction,
    ArticleSummary,
    Entity,
    GroundedClaim,
    GroundedEvent,
    GroundedKeyPoint,
    Grounding,
    Span,
    translation_warning,
)
from briefer.text.names import NameFinder
from briefer.text.tokens import estimate_tokens
from briefer.worker import in_worker

from .chunking import assemble, reduce_payload, split_paragraphs
from .datecheck import check_event_date, check_published
from .grounding import Located, Source
from .support import Evidence, Named, check

T = TypeVar("T", bound=BaseModel)

PROMPT = "extract"
REASK_PROMPT = "extract_reask"
REDUCE_PROMPT = "extract_reduce"
DEFAULT_QUOTE_REASKS = 1
DEFAULT_MAX_INPUT_TOKENS = 12_000  # estimated tokens of article text per request


@dataclass(frozen=True)
class Part:
    """Part `number` of `of` of a long article: body paragraphs [start, end)."""

    number: int
    of: int
    start: int
    end: int


def extract_call(article: Article, prompts: Prompts, part: Part | None = None) -> Call:
    """The request for one article, or for one part of a long one: cleaned text as delimited data."""
    paragraphs = list(article.paragraphs)
    p = part or Part(number=0, of=0, start=0, end=len(paragraphs))
    chunk = paragraphs[p.start:p.end]
    text = "\n\n".join((article.title, *chunk))
    rendered = prompts.render(
        PROMPT,
        article_id=article.id,
        parts=p.of,
        part=p.number,
        first=p.start + 1,
        last=p.end,
        total=len(paragraphs),
        dateline=article.dateline,
        title=article.title,
        paragraphs=chunk,
        boundary=boundary_for(text if article.dateline is None else f"{article.dateline}\n{text}"),
    )
    return Call(
        stage="extract",
        subject=f"{article.id}~part{p.number}" if part else article.id,
        prompt=PROMPT,
        prompt_version=rendered.version,
        messages=rendered.messages,
        response_model=ArticleExtraction,
        input_text=text if article.dateline is None else f"{article.dateline}\n{text}",
        context={"paragraph_count": len(chunk)},
    )


def reduce_call(article: Article, parts: list[ArticleExtraction], ranges: list[tuple[int, int]],
                prompts: Prompts) -> Call:
    payload = reduce_payload(parts, ranges)
    rendered = prompts.render(REDUCE_PROMPT, article_id=article.id, parts=parts, payload=payload,
                              boundary=boundary_for(payload))
    return Call(
        stage="extract",
        subject=f"{article.id}~reduce",
        prompt=REDUCE_PROMPT,
        prompt_version=rendered.version,
        messages=rendered.messages,
        response_model=ArticleDigest,
        input_text=payload,
    )


def reask_call(first: Call, answer: ArticleExtraction, missing: list[str], attempt: int, prompts: Prompts) -> Call:
    """A follow-up turn: the previous answer, then the quotes that were not found."""
    rendered = prompts.render(REASK_PROMPT, missing=missing)
    messages = [*first.messages, {"role": "assistant", "content": answer.model_dump_json()}, *rendered.messages]
    return Call(
        stage=first.stage,
        subject=f"{first.subject}~reask{attempt}",
        prompt=f"{first.prompt}+{REASK_PROMPT}",
        prompt_version=f"{first.prompt_version}+{rendered.version}",
        messages=messages,
        response_model=first.response_model,
        input_text=first.input_text + "\n" + json.dumps(messages[-2:], ensure_ascii=False),
        context=first.context,
    )


def source_of(article: Article) -> Source:
    return Source(article.title, article.paragraphs, article.dateline)


def _span(found: Located | None) -> Span | None:
    if found is None:
        return None
    return Span(part=found.part, paragraph=found.paragraph, start=found.start, end=found.end)  # type: ignore[arg-type]


def _once(items: list[T], name: str, warnings: list[str]) -> list[T]:
    """Each item once: a model that loops repeats items whole (the schema's maxItems ends the loop, the
    repeats stay). Said once per list."""
    seen: set[str] = set()
    out = []
    for item in items:
        key = item.model_dump_json()
        if key not in seen:
            seen.add(key)
            out.append(item)
    if dropped := len(items) - len(out):
        warnings.append(f"{name}: {dropped} repeated item{'s' if dropped > 1 else ''} dropped")
    return out


def _named_in(article: Article, entities: list[Entity], warnings: list[str]) -> list[Entity]:
    """The entities at least one of whose spellings is in the article (as names are found: text/names.py).
    Others ("Iraq" given as the original spelling in an Arabic article) are dropped, with a warning."""
    finder = NameFinder([article.title, *([article.dateline] if article.dateline else []), *article.paragraphs])
    kept = [e for e in entities if any(finder.found(n) for n in e.names_original)]
    dropped = [e for e in entities if e not in kept]
    if dropped:
        shown = "; ".join(f"{e.name_en} ({', '.join(e.names_original)})" for e in dropped[:5])
        more = f" and {len(dropped) - 5} more" if len(dropped) > 5 else ""
        warnings.append(f"entities dropped, none of their spellings is in the article: {shown}{more}")
    return kept


def ground(article: Article, extraction: ArticleExtraction, source: Source | None = None) -> ArticleSummary:
    """The summary with every quote checked against the source, and what briefer could not keep as the model
    gave it in `warnings`."""
    src = source or source_of(article)
    warnings = extraction.kept_warnings
    # Entities, claims and events, where a loop fills a list (key points are the model's own selection, and a long
    # article's digest may pick the same point from two parts: they stay as given).
    extraction = extraction.model_copy(update={
        "claims": _once(extraction.claims, "claims", warnings),
        "events": _once(extraction.events, "events", warnings),
        "entities": _named_in(article, _once(extraction.entities, "entities", warnings), warnings),
    })
    if len(extraction.translation_en) != len(article.paragraphs) and not any(
            w.startswith(TRANSLATION_INCOMPLETE) for w in warnings):
        warnings.append(translation_warning(len(extraction.translation_en), len(article.paragraphs)))
    key_points = []
    for k in extraction.key_points:
        at = src.locate(k.evidence_quote)
        key_points.append(GroundedKeyPoint(**k.model_dump(), verified=at is not None, span=_span(at)))
    claims = []
    for c in extraction.claims:
        at = src.locate(c.evidence_quote)
        claims.append(GroundedClaim(**c.model_dump(), verified=at is not None, span=_span(at)))
    date_at = src.locate(extraction.date_evidence) if extraction.date_evidence else None
    published = check_published(extraction.published, extraction.date_basis, extraction.date_evidence,
                                date_at is not None, article.dateline, extraction.language)
    events = []
    for ev in extraction.events:
        at = src.locate(ev.evidence_quote)
        when = check_event_date(ev.date, None if ev.basis_missing else ev.date_basis, ev.evidence_quote,
                                at is not None, published.date, extraction.language)
        events.append(GroundedEvent(**ev.model_dump(exclude={"date", "date_basis"}), date=when.date,
                                    date_basis=when.basis, verified=at is not None, span=_span(at),
                                    date_as_given=when.as_given, date_note=when.note))
    key_points, claims, events = _supported(article, extraction, published.date, key_points, claims, events)
    checked = [(k.evidence_quote, k.verified) for k in key_points] + [(c.evidence_quote, c.verified) for c in claims]
    checked += [(e.evidence_quote, e.verified) for e in events]
    if extraction.date_evidence:
        checked.append((extraction.date_evidence, date_at is not None))
    verified = sum(ok for _q, ok in checked)
    data = extraction.model_dump(exclude={"key_points", "claims", "events", "published", "date_basis"})
    return ArticleSummary(
        id=article.id,
        source_path=article.source_path,
        content_sha256=article.content_sha256,
        cleaning=article.cleaning,
        **data,
        published=published.date,
        date_basis=published.basis,
        published_as_given=published.as_given,
        published_note=published.note,
        date_evidence_verified=(date_at is not None) if extraction.date_evidence else None,
        date_evidence_span=_span(date_at),
        key_points=key_points,
        claims=claims,
        events=events,
        dateline=article.dateline,
        url=article.url,
        canonical_url=article.canonical_url,
        site_name=article.site_name,
        page_title=article.page_title,
        page_published=article.page_date,
        paragraphs_original=list(article.paragraphs),
        grounding=Grounding(
            quotes=len(checked),
            verified=verified,
            rate=round(verified / len(checked), 4) if checked else None,
            unverified=[q for q, ok in checked if not ok],
        ),
        warnings=list(dict.fromkeys(warnings)),
    )


def _supported(article: Article, extraction: ArticleExtraction, published: str | None,
               key_points: list[GroundedKeyPoint], claims: list[GroundedClaim],
               events: list[GroundedEvent]) -> tuple[list[GroundedKeyPoint], list[GroundedClaim], list[GroundedEvent]]:
    """Each statement with briefer's check of it against its quote (support.py)."""
    named = [Named(e.name_en, tuple(e.names_original)) for e in extraction.entities]
    whole = [article.title, *([article.dateline] if article.dateline else []), *article.paragraphs]

    def evidence(quote: str, span: Span | None, attribution: str | None, in_text: bool,
                 dates: tuple[str, ...] = ()) -> Evidence:
        context: list[str] = []
        context_en: list[str] = []
        if span is not None and span.part == "body" and span.paragraph is not None:
            # The quote's paragraph, and the one before it: where a subject the quote carries as a pronoun
            # («وأضاف», "he added") is named.
            at = range(max(0, span.paragraph - 1), span.paragraph + 1)
            context = [article.paragraphs[i] for i in at]
            context_en = [extraction.translation_en[i] for i in at if i < len(extraction.translation_en)]
        elif span is not None and span.part == "headline":
            context, context_en = [article.title], [extraction.headline_en]
        return Evidence(quote=quote, language=extraction.language, found=span is not None, context=context,
                        context_en=context_en, article_text=whole, entities=named, reference=published,
                        dates=dates, attribution=attribution, attribution_in_text=in_text)

    return (
        [k.model_copy(update={"support": check(k.text_en, evidence(k.evidence_quote, k.span, k.attributed_to, True))})
         for k in key_points],
        [c.model_copy(update={"support": check(c.claim_en, evidence(c.evidence_quote, c.span, c.speaker_en, False))})
         for c in claims],
        [e.model_copy(update={"support": check(e.description_en, evidence(
            e.evidence_quote, e.span, e.attributed_to, False, (e.date,) if e.date else ()))}) for e in events],
    )


def needs_parts(article: Article, max_input_tokens: int) -> bool:
    return estimate_tokens(article.clean_text) > _part_budget(max_input_tokens) and len(article.paragraphs) > 1


def _part_budget(max_input_tokens: int) -> int:
    """Article tokens per request: --max-input-tokens, and no more than a complete answer fits in (its translation
    and quotes grow with the text: a 10,000-token article's answer is about 36,000 tokens, over any model's output
    limit, so it is read in parts whose answers each fit)."""
    return min(max_input_tokens, part_input_budget())


def parts_of(article: Article, max_input_tokens: int) -> list[Part]:
    """The parts a long article is read in, split at paragraph boundaries; [] when it is read whole."""
    if not needs_parts(article, max_input_tokens):
        return []
    ranges = split_paragraphs(article.paragraphs, _part_budget(max_input_tokens))
    return [Part(n, len(ranges), start, end) for n, (start, end) in enumerate(ranges, start=1)]


def planned_calls(article: Article, prompts: Prompts, max_input_tokens: int) -> list[Call]:
    """The extract requests an article needs (one, or one per part), for planning and dry runs."""
    parts = parts_of(article, max_input_tokens)
    return [extract_call(article, prompts, p) for p in parts] or [extract_call(article, prompts)]


async def read_in_parts(article: Article, parts: list[Part], gateway: Gateway, prompts: Prompts) -> ArticleExtraction:
    """Map: each part extracted (and translated) on its own. Reduce: one call over the parts."""
    answers = []
    for part in parts:
        answer = await gateway.ask(extract_call(article, prompts, part))
        assert isinstance(answer, ArticleExtraction)
        answers.append(answer)
    digest = await gateway.ask(reduce_call(article, answers, [(p.start, p.end) for p in parts], prompts))
    assert isinstance(digest, ArticleDigest)
    return assemble(article.title, answers, digest, len(article.paragraphs), [(p.start, p.end) for p in parts])


async def summarize_article(article: Article, gateway: Gateway, prompts: Prompts,
                            quote_reasks: int | None = None,
                            max_input_tokens: int = DEFAULT_MAX_INPUT_TOKENS) -> ArticleSummary:
    if quote_reasks is None:
        # --max-reasks 0 means no re-ask of any kind: one about quotes costs a whole answer too (minutes on a CPU).
        quote_reasks = min(DEFAULT_QUOTE_REASKS, gateway.endpoint.max_reasks)
    # Locating quotes and checking dates is CPU work with nothing to await: the worker thread does it, so the event
    # loop keeps sending requests (and a host application's tasks keep running) meanwhile.
    source = await in_worker(source_of, article)
    parts = parts_of(article, max_input_tokens)
    if parts:
        return await in_worker(ground, article, await read_in_parts(article, parts, gateway, prompts), source)
    first = extract_call(article, prompts)
    answer = await gateway.ask(first)
    assert isinstance(answer, ArticleExtraction)
    # Each answer's quotes are located once, by ground(); its unverified ones drive the re-ask.
    best, best_summary = answer, await in_worker(ground, article, answer, source)
    for attempt in range(1, quote_reasks + 1):
        missing = list(dict.fromkeys(best_summary.grounding.unverified))
        if not missing:
            break
        try:
            retry = await gateway.ask(reask_call(first, best, missing, attempt, prompts))
        except MissingRecording:
            if gateway.policy.offline:
                break  # replaying a run that never re-asked: keep the answer, quotes flagged
            raise
        except ArticleFailed as exc:
            # The answer in hand stands, its quotes flagged: a failed re-ask about them (or one a batch gave no
            # valid answer to, NotAnswered) takes nothing away. Said, not hidden.
            gateway.warn(f"{exc}; the answer before it is kept, its quotes flagged")
            break
        assert isinstance(retry, ArticleExtraction)
        retry_summary = await in_worker(ground, article, retry, source)
        if len(set(retry_summary.grounding.unverified)) <= len(missing) and \
                len(retry_summary.warnings) <= len(best_summary.warnings):
            best, best_summary = retry, retry_summary
    return best_summary
