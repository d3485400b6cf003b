"""Write the hand-written reference recordings for a fixture folder.

No live model is reachable where briefer's fixtures were made, so the recordings for the seed
articles are answers written by hand as the best model would give them, marked
`"reference": true` in their metadata. This script turns those answers into recordings with the
fingerprint of the current prompts, schema and inputs:

    python scripts/reference_recordings.py fixtures/articles --answers DIR
        DIR/<article-id>.json holds an ArticleExtraction, DIR/brief.json a BriefDraft (DIR/<subject>.json
        for a merge recorded under another subject); a request without a file in DIR keeps its recording.
    python scripts/reference_recordings.py fixtures/articles --refingerprint
        keep the recorded answers and stamp them with the current fingerprint. Only for changes
        that leave the reference answers correct (e.g. rewording a prompt); when the schema grows,
        edit the answers and validate them instead. Every answer is validated either way.
    python scripts/reference_recordings.py fixtures/daily/2024-09-18 --refingerprint --since OUT
        a day compared with an earlier brief (OUT: that day's output, e.g. from
        `briefer summarize fixtures/daily/2024-09-17 --offline --out OUT`). A recording that would not
        change is left as it is (so a symbolic link to a shared recording stays a link).

With an API key, replace all of this by real recordings:
    briefer summarize fixtures/articles --record --out out/
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from briefer.brief.aliases import aliases_for
from briefer.brief.continuity import load_earlier
from briefer.brief.merge import plan
from briefer.extract.article import extract_call, ground
from briefer.ingest.folder import read_folder
from briefer.model.answers import Call, Gateway, Policy
from briefer.model.cache import Recording, RecordingMeta, RecordingStore, ResponseCache, recordings_for
from briefer.model.endpoint import EndpointConfig
from briefer.model.prompts import Prompts
from briefer.models import ArticleExtraction
from briefer.pipeline import DEFAULT_MODEL

NOTE = ("Hand-written reference answer: no live model was reachable when the fixtures were made. "
        "Written as the best model would answer; replace with `briefer summarize fixtures/articles --record`.")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--answers", type=Path, help="folder of hand-written answers")
    src.add_argument("--refingerprint", action="store_true", help="reuse the recorded answers")
    ap.add_argument("--recordings", type=Path, help="default: 'recordings' beside FOLDER")
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--since", type=Path, help="the earlier brief's folder this day is compared with")
    args = ap.parse_args()

    recordings = RecordingStore(args.recordings or recordings_for(args.folder, record=True))  # as a run records
    gateway = Gateway(endpoint=EndpointConfig(model=args.model), cache=ResponseCache(None),
                      recordings=recordings, policy=Policy(offline=True))
    prompts = Prompts()
    folder = read_folder(args.folder)

    def answer_for(call: Call) -> dict[str, Any]:
        given = args.answers / f"{call.subject}.json" if args.answers else None
        if given is not None and given.exists():
            data: dict[str, Any] = json.loads(given.read_text(encoding="utf-8"))
            return data
        old = recordings.load(call.stage, call.subject)
        if old is None:
            sys.exit(f"no recording to re-fingerprint for {call.stage}/{call.subject}")
        if not old.metadata.reference:
            sys.exit(f"{call.stage}/{call.subject} is a real recording: re-record it instead")
        return old.response

    def write(call: Call, data: dict[str, Any]) -> Any:
        obj = call.response_model.model_validate(data, context=call.context)  # fails loudly if invalid
        old = recordings.load(call.stage, call.subject)
        if old and old.fingerprint == gateway.fingerprint(call) and old.response == data and old.metadata.reference:
            print(f"unchanged {recordings.path(call.stage, call.subject)}")
            return obj
        recordings.save(Recording(
            stage=call.stage, subject=call.subject, fingerprint=gateway.fingerprint(call),
            cache_key=gateway.cache_key(call), response=data, usage=None,
            metadata=RecordingMeta(reference=True, recorded_by="hand-written reference (briefer developers)",
                                   recorded_at=dt.date.today().isoformat(), note=NOTE),
        ))
        print(f"wrote {recordings.path(call.stage, call.subject)}")
        return obj

    summaries = []
    for article in folder.articles:
        call = extract_call(article, prompts)
        extraction = write(call, answer_for(call))
        assert isinstance(extraction, ArticleExtraction)
        summary = ground(article, extraction)
        if summary.grounding.unverified:
            sys.exit(f"{article.id}: quotes not found in the article: {summary.grounding.unverified}")
        summaries.append(summary)
    earlier = load_earlier(args.since, lambda line: sys.exit(line)) if args.since else None
    p = plan(summaries, aliases_for(args.folder), earlier=earlier)  # as a run does: aliases.toml beside it
    if p.summaries:
        call = p.call(prompts)
        write(call, answer_for(call))
    asyncio.run(gateway.aclose())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
