"""The floor: a careful hand-written asyncio + instructor loop over the same server and articles.
    python benchmarks/baseline.py FOLDER BASE_URL CONCURRENCY   (prints wall seconds)"""
import asyncio
import hashlib
import sys
import time
from pathlib import Path

import instructor
import openai

from briefer.models import ArticleExtraction


async def main(folder: Path, base_url: str, concurrency: int) -> None:
    client = instructor.from_openai(openai.AsyncOpenAI(api_key="x", base_url=base_url, max_retries=0))
    slots = asyncio.Semaphore(concurrency)

    async def one(path: Path) -> ArticleExtraction:
        title, *paragraphs = path.read_text(encoding="utf-8").splitlines()
        data = "\n".join([f"HEADLINE: {title}", *(f"[{n}] {p}" for n, p in enumerate(paragraphs, 1))])
        tag = "DATA-" + hashlib.sha256(data.encode()).hexdigest()[:16]
        async with slots:
            return await client.chat.completions.create(  # type: ignore[no-any-return]
                model="m", response_model=ArticleExtraction, max_retries=0, messages=[
                    {"role": "system", "content": "Summarise and translate the article between the delimiters."},
                    {"role": "user", "content": f"<<<{tag}\n{data}\n{tag}>>>"}])

    started = time.perf_counter()
    answers = await asyncio.gather(*(one(p) for p in sorted(folder.glob("*.txt"))))
    print(f"{time.perf_counter() - started:.3f} {len(answers)}")


asyncio.run(main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])))
