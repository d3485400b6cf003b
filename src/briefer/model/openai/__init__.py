"""The only package that imports `openai` and `instructor` (ruff's banned-api holds every other module to it).

client (ModelClient), transport (retries, one HTTP attempt), failures (errors in one line), body (the one
request-body builder, live and batch), parse (reading answers), files (the Files and Batches API), modes (the
ModeSpec table), wire (what passes the HTTP client). Importing this package loads no SDK: each module imports
the SDKs inside the functions that need them, the first request does.
"""
