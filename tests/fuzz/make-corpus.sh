#!/usr/bin/env bash
# Builds the seed corpora of the fuzz targets from the fixture sites:
#   tests/fuzz/make-corpus.sh OUT_DIR
# OUT_DIR/{selector,extract,sanitize,feed}/ get one file per seed. Idempotent (files are named
# by content hash), so a corpus grown by earlier runs is kept.
set -euo pipefail

out=${1:?usage: make-corpus.sh OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
fixtures="$here/../fixtures/sites"
mkdir -p "$out"/selector "$out"/extract "$out"/sanitize "$out"/feed

python3 - "$fixtures" "$out" <<'PY'
import hashlib, json, pathlib, sys

fixtures, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])

def put(kind, data):
    if isinstance(data, str):
        data = data.encode()
    (out / kind / hashlib.sha1(data).hexdigest()).write_bytes(data)

extra_selectors = [
    "div.a > p:first-child", "*", "a[href^='http']", "p:not(.x, #y)", "td.caption, figcaption",
    "img[data-src$=\".jpg\"]", "ul li:last-of-type", "[lang|=vi]", "div  >  span ~ b", "#",
    "a[", ":not(", "p:nth-child(2)", "\\30 x",
]
for s in extra_selectors:
    put("selector", s)

for site in sorted(fixtures.iterdir()):
    config = site / "site.json"
    if not config.is_file():
        continue
    sel = json.loads(config.read_text())["selectors"]
    for value in sel.values():
        for s in value if isinstance(value, list) else [value]:
            if isinstance(s, str):
                put("selector", s)
    remove = sel.get("remove", [""])
    head = "|".join([sel.get("title", ""), sel.get("lead", ""), sel.get("body", ""),
                     sel.get("author", ""), sel.get("published", ""), sel.get("caption", ""),
                     sel.get("next_page", ""), remove[0] if remove else ""])
    for page in sorted(site.rglob("*")):
        if not page.is_file():
            continue
        data = page.read_bytes()
        if page.suffix in (".rss", ".xml", ".atom"):
            put("feed", data)
        elif b"<html" in data[:2000].lower() or page.suffix in (".html", ".htm", ".aspx", ""):
            if b"<" not in data[:200]:
                continue
            put("sanitize", data)
            put("extract", head.encode() + b"\n" + data)
            put("extract", b"\n" + data)  # no rules: the generic extractor
PY
echo "corpus in $out: $(find "$out" -type f | wc -l) files" >&2
