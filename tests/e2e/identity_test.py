#!/usr/bin/python3
"""One record per article however it is reached: every URL of every fetch_urls list in the
fixtures' ground truth (tracking parameters, m./www./second-domain aliases, the no-slash form,
the old domain's 301 after the merger) is linked from a listing page, crawled by the real
binary, and must end up an alias of exactly one record — the article's canonical one.

    /usr/bin/python3 tests/e2e/identity_test.py --baofeed build/app/baofeed
"""
import argparse
import html
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_server import SITES, FixtureServer, write_config  # noqa: E402
from run_twice_test import expected_articles  # noqa: E402

BAOFEED = None
SITE_NAMES = ("baobackan", "baothainguyen", "baosonglo")
LISTING = "every-url.html"


class EveryUrlCollapsesToOneRecord(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="baofeed-identity-")
        sites = os.path.join(cls.tmp, "sites")
        shutil.copytree(SITES, sites)
        cls.truths = [t for s in SITE_NAMES for t in expected_articles(s)]
        # One listing page per site, linking every fetch URL of its articles (and of articles
        # that moved to another site: the merger case).
        for site in SITE_NAMES:
            links = [u for t in cls.truths for u in t["fetch_urls"]
                     if f"{site}." in u.split("/")[2]]
            body = "".join(f'<p><a href="{html.escape(u)}">{i}</a></p>' for i, u in enumerate(links))
            with open(os.path.join(sites, site, "www", LISTING), "w", encoding="utf-8") as f:
                f.write(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{body}"
                        "</body></html>")
        config = os.path.join(cls.tmp, "baofeed.toml")
        with FixtureServer(sites=sites) as server:
            write_config(config, server.port, "baofeed.db", "feeds")
            with open(config, encoding="utf-8") as f:
                text = f.read()
            # Each site also lists its every-URL page.
            for site in SITE_NAMES:
                first = f'listings = [\n  "http://{site}.test/'
                assert first in text, site
                text = text.replace(first, f'listings = [\n  "http://{site}.test/{LISTING}",\n'
                                           f'  "http://{site}.test/')
            with open(config, "w", encoding="utf-8") as f:
                f.write(text)
            cls.crawl = subprocess.run([BAOFEED, "run", "-v", "--config", config],
                                     capture_output=True, text=True, timeout=600)
            done = subprocess.run([BAOFEED, "articles", "--json", "--config", config],
                                  capture_output=True, text=True, check=True)
            cls.articles = json.loads(done.stdout)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_the_run_succeeds(self):
        self.assertEqual(self.crawl.returncode, 0, self.crawl.stderr)

    def test_every_fetch_url_is_an_alias_of_its_articles_one_record(self):
        by_url = {}
        for a in self.articles:
            for u in a["urls"]:
                by_url.setdefault(u, set()).add(a["canonical_url"])
        for truth in self.truths:
            for u in truth["fetch_urls"]:
                with self.subTest(url=u):
                    self.assertEqual(by_url.get(u), {truth["canonical_url"]})

    def test_there_is_one_record_per_article_and_no_other(self):
        canonical = [a["canonical_url"] for a in self.articles]
        self.assertEqual(sorted(canonical), sorted({t["canonical_url"] for t in self.truths}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--baofeed", required=True)
    args, rest = parser.parse_known_args()
    BAOFEED = os.path.abspath(args.baofeed)
    unittest.main(argv=[sys.argv[0], "-v", *rest])
