"""One article to one `ArticleSummary`. Knows nothing about other articles."""

from __future__ import annotations

from .answers import Call, Gateway
from .ingest import Article
from .models import ArticleExtraction, ArticleSummary
from .prompts import Prompts, boundary_for

PROMPT = "extract"


def extract_call(article: Article, prompts: Prompts) -> Call:
    """The request for one article: its cleaned text as delimited data."""
    text = article.clean_text
    rendered = prompts.render(
        PROMPT,
        article_id=article.id,
        dateline=article.dateline,
        title=article.title,
        paragraphs=list(article.paragraphs),
        boundary=boundary_for(text),
    )
    return Call(
        stage="extract",
        subject=article.id,
        prompt=PROMPT,
        prompt_version=rendered.version,
        messages=rendered.messages,
        response_model=ArticleExtraction,
        input_text=text if article.dateline is None else f"{article.dateline}\n{text}",
        context={"paragraph_count": len(article.paragraphs)},
    )


async def summarize_article(article: Article, gateway: Gateway, prompts: Prompts) -> ArticleSummary:
    extraction = await gateway.ask(extract_call(article, prompts))
    assert isinstance(extraction, ArticleExtraction)
    return ArticleSummary.build(
        id=article.id,
        source_path=article.source_path,
        content_sha256=article.content_sha256,
        cleaning=article.cleaning,
        extraction=extraction,
    )
