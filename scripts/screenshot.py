"""Regenerate the README's pictures of brief.html: the seed brief, in headless Chromium.

    python scripts/screenshot.py

writes docs/brief.png (the top of the brief) and docs/brief-article.png (an article side by side with its
translation, its quotes highlighted). It runs `briefer summarize fixtures/articles --offline` into a temporary
folder (no network, no key) and opens the page with Debian's Chromium through Playwright (the dev extra):
`apt-get install chromium`, or set BRIEFER_CHROMIUM to another Chromium.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
from pathlib import Path

from briefer.pipeline import RunConfig, run

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the PNG files [docs/]")
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--height", type=int, default=1300)
    args = parser.parse_args()
    chromium = os.environ.get("BRIEFER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(RunConfig(folder=ROOT / "fixtures" / "articles", out_dir=Path(tmp), date="2026-11-22",
                                  offline=True)))
        page_url = (Path(tmp) / "brief.html").as_uri()
        args.out.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=ARGS)
            page = browser.new_page(viewport={"width": args.width, "height": args.height}, color_scheme="light")
            page.goto(page_url)
            page.screenshot(path=str(args.out / "brief.png"))
            page.goto(page_url + "#a1-text")
            page.screenshot(path=str(args.out / "brief-article.png"))
            browser.close()
    print(f"wrote {args.out / 'brief.png'} and {args.out / 'brief-article.png'}")


if __name__ == "__main__":
    main()
