"""readability-lxml over every <name>.html of a directory, one process, one thread: the
reference of bench/extract-bench. Writes <name>.txt (the summary's text) to OUT_DIR when given.
Prints: "docs N seconds S docs_s X" (time from the first read to the last summary; the
interpreter and lxml start-up are not counted).

    /usr/bin/python3 bench/readability_batch.py PAGES_DIR [OUT_DIR]
"""
import pathlib
import sys
import time

import lxml.html
from readability import Document


def main():
    pages = sorted(pathlib.Path(sys.argv[1]).glob("*.html"))
    out_dir = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else None
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for page in pages:
        html = page.read_text(encoding="utf-8", errors="replace")
        summary = Document(html).summary(html_partial=True)
        if out_dir:
            text = lxml.html.fromstring(summary).text_content() if summary.strip() else ""
            (out_dir / (page.stem + ".txt")).write_text(text, encoding="utf-8")
    seconds = time.perf_counter() - start
    print(f"docs {len(pages)} seconds {seconds:.3f} docs_s {len(pages) / seconds:.1f}")


if __name__ == "__main__":
    main()
