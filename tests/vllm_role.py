"""Plays `vllm run-batch`'s role in tests: reads a Batch-API requests file, answers every body with
the echo model, and writes the results in the Batch/vLLM output format.

    python tests/vllm_role.py -i requests.jsonl -o results.jsonl [--error N] [--invalid N] [--broken N]

`--error N` turns the N-th request (1-based, repeatable) into an error line (HTTP 500 as vLLM writes
it), `--invalid N` answers it with a translation missing its last paragraph (valid JSON, wrong answer: kept
in part), `--broken N` with an empty English headline (nothing usable). Answers are built by the same
`completion()` the test server uses for a live request.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import echo_model  # noqa: E402
from fake_openai import completion  # noqa: E402


def answer_line(n: int, request: dict[str, Any], *, error: bool = False, invalid: bool = False,
                responder: Any = echo_model.respond, broken: bool = False) -> dict[str, Any]:
    body = request["body"]
    line: dict[str, Any] = {"id": f"vllm-{n:08x}", "custom_id": request["custom_id"]}
    if error:
        line["response"] = {"status_code": 500, "request_id": f"vllm-batch-{n:08x}",
                            "body": {"error": {"message": "CUDA out of memory", "type": "InternalServerError"}}}
        line["error"] = None
        return line
    answer = responder(body)
    if invalid:
        answer = {**answer, "translation_en": answer["translation_en"][:-1]}
    if broken:
        answer = {**answer, "headline_en": ""}
    line["response"] = {"status_code": 200, "request_id": f"vllm-batch-{n:08x}", "body": completion(body, answer)}
    line["error"] = None
    return line


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-i", dest="input", type=Path, required=True)
    parser.add_argument("-o", dest="output", type=Path, required=True)
    parser.add_argument("--error", type=int, action="append", default=[])
    parser.add_argument("--invalid", type=int, action="append", default=[])
    parser.add_argument("--broken", type=int, action="append", default=[])
    args = parser.parse_args()
    with args.input.open(encoding="utf-8") as src, args.output.open("w", encoding="utf-8") as dst:
        for n, raw in enumerate(src, start=1):
            line = answer_line(n, json.loads(raw), error=n in args.error, invalid=n in args.invalid,
                               broken=n in args.broken)
            dst.write(json.dumps(line, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
