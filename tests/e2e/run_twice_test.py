#!/usr/bin/python3
"""End to end: crawl the fixture sites twice with the real baofeed binary, real server, real
SQLite file and real feed readers (xmllint, feedparser).

    /usr/bin/python3 tests/e2e/run_twice_test.py --baofeed build/app/baofeed
"""
import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_server import SITES, FixtureServer, write_config  # noqa: E402

BAOFEED = None
CHECKED_SITES = ("baobackan", "baothainguyen", "baosonglo")


def expected_articles(site, epoch=1):
    """Ground truth of the articles a crawl in `epoch` must have stored."""
    out = []
    for path in sorted(glob.glob(os.path.join(SITES, site, "expected", "*.json"))):
        with open(path, encoding="utf-8") as f:
            truth = json.load(f)
        if epoch not in truth.get("served_in_epochs", [epoch]):
            continue
        truth["_file"] = os.path.relpath(path, SITES)
        out.append(truth)
    return out


def digest_dir(path):
    digests = {}
    for name in sorted(os.listdir(path)):
        with open(os.path.join(path, name), "rb") as f:
            digests[name] = hashlib.sha256(f.read()).hexdigest()
    return digests


class RunTwice(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="baofeed-e2e-")
        cls.out = os.path.join(cls.tmp, "feeds")
        cls.config = os.path.join(cls.tmp, "baofeed.toml")
        cls.runs = []
        with FixtureServer(log=os.path.join(cls.tmp, "access.jsonl")) as server:
            # Relative paths in the config resolve against the config file's folder.
            write_config(cls.config, server.port, "db/baofeed.db", "feeds")
            cls.runs.append(cls.baofeed("run", "-v"))
            cls.first_articles = cls.articles()
            cls.first_feeds = digest_dir(cls.out)
            cls.first_mtimes = {n: os.stat(os.path.join(cls.out, n)).st_mtime_ns
                                for n in os.listdir(cls.out)}
            cls.runs.append(cls.baofeed("run", "-v"))
            cls.second_articles = cls.articles()
            cls.second_feeds = digest_dir(cls.out)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def baofeed(cls, *args):
        env = dict(os.environ, LANG="", LC_ALL="")  # as under cron
        return subprocess.run([BAOFEED, *args, "--config", cls.config], capture_output=True,
                              text=True, timeout=300, env=env, cwd="/")

    @classmethod
    def articles(cls):
        done = cls.baofeed("articles", "--json")
        if done.returncode != 0:
            raise AssertionError("baofeed articles failed: " + done.stderr)
        return json.loads(done.stdout)

    def test_both_runs_exit_zero(self):
        for i, done in enumerate(self.runs, 1):
            self.assertEqual(done.returncode, 0, f"run {i} stderr:\n{done.stderr}")

    def test_every_article_is_stored_once_with_the_fields_of_its_ground_truth(self):
        by_url = {}
        for a in self.first_articles:
            for u in a["urls"]:
                by_url.setdefault(u, []).append(a)
        for site in CHECKED_SITES:
            truths = expected_articles(site)
            self.assertGreater(len(truths), 0)
            for truth in truths:
                with self.subTest(article=truth["_file"]):
                    records = [a for a in self.first_articles
                               if a["canonical_url"] == truth["canonical_url"]]
                    self.assertEqual(len(records), 1, "records under the canonical URL")
                    holders = {a["canonical_url"] for u in truth["fetch_urls"]
                               for a in by_url.get(u, [])}
                    self.assertLessEqual(len(holders), 1, f"fetch_urls spread over {holders}")
                    a = records[0]
                    self.assertEqual(a["site"], truth["site"])
                    self.assertEqual(a["title"], truth["title"])
                    self.assertEqual(a["published"], truth["published"])
                    self.assertEqual(a["body"], truth["body"])
                    self.assertIn(a["author"], (truth["author"], truth["author_raw"]))
                    prefix = truth.get("lead_prefix") or ""
                    self.assertIn(a["lead"], (truth["lead"], truth["lead"][len(prefix):]))
                    self.assertEqual([(i["src"], i["caption"]) for i in a["images"]],
                                     [(i["src"], i["caption"]) for i in truth["images"]])
                    self.assertEqual([v["src"] for v in a["videos"]],
                                     [v["src"] for v in truth["videos"]])
                    text = a["lead"] + "\n" + "\n".join(a["body"])
                    for junk in truth["must_not_contain"]:
                        self.assertNotIn(junk, text)

    def test_every_stored_article_belongs_to_a_known_page(self):
        known = {t["canonical_url"] for s in CHECKED_SITES for t in expected_articles(s)}
        stored = {a["canonical_url"] for a in self.first_articles if a["site"] in CHECKED_SITES}
        self.assertEqual(stored, known)

    def test_feeds_are_valid_xml_and_rss_for_feedparser(self):
        names = sorted(os.listdir(self.out))
        self.assertEqual(names, ["all.xml", "baobackan.xml", "baosonglo.xml", "baothainguyen.xml"])
        for name in names:
            path = os.path.join(self.out, name)
            with self.subTest(feed=name):
                lint = subprocess.run(["xmllint", "--noout", path], capture_output=True, text=True)
                self.assertEqual(lint.returncode, 0, lint.stderr)
                probe = subprocess.run(
                    ["/usr/bin/python3", "-c",
                     "import feedparser, json, sys\n"
                     "d = feedparser.parse(sys.argv[1])\n"
                     "print(json.dumps({'bozo': int(d.bozo), 'why': str(d.get('bozo_exception', '')),"
                     " 'version': d.version, 'entries': [{'title': e.title, 'link': e.link,"
                     " 'content': e.content[0].value if 'content' in e else ''} for e in d.entries]}))",
                     path], capture_output=True, text=True, check=True)
                parsed = json.loads(probe.stdout)
                self.assertEqual(parsed["bozo"], 0, parsed["why"])
                self.assertEqual(parsed["version"], "rss20")
                self.assertGreater(len(parsed["entries"]), 0)
                for entry in parsed["entries"]:
                    self.assertTrue(entry["title"])
                    self.assertTrue(entry["link"].startswith("http://"))
                    self.assertIn("<p>", entry["content"])

    def test_site_feed_carries_every_article_of_the_site_in_full(self):
        probe = subprocess.run(
            ["/usr/bin/python3", "-c",
             "import feedparser, json, sys\n"
             "d = feedparser.parse(sys.argv[1])\n"
             "print(json.dumps({e.link: e.content[0].value for e in d.entries}))",
             os.path.join(self.out, "baobackan.xml")], capture_output=True, text=True, check=True)
        content = json.loads(probe.stdout)
        for truth in expected_articles("baobackan"):
            with self.subTest(article=truth["_file"]):
                self.assertIn(truth["canonical_url"], content)
                html = content[truth["canonical_url"]]
                for paragraph in truth["body"]:
                    self.assertIn(paragraph.replace("&", "&amp;").replace("<", "&lt;")
                                  .replace(">", "&gt;").replace('"', "&quot;"), html)

    def test_second_run_stores_nothing_new_and_leaves_feeds_byte_identical(self):
        self.assertEqual(self.second_articles, self.first_articles)
        self.assertEqual(self.second_feeds, self.first_feeds)
        mtimes = {n: os.stat(os.path.join(self.out, n)).st_mtime_ns for n in os.listdir(self.out)}
        self.assertEqual(mtimes, self.first_mtimes, "feeds rewritten although unchanged")
        counts = re.findall(r"(\d+) new, (\d+) updated", self.runs[1].stderr)
        self.assertEqual(len(counts), 3, self.runs[1].stderr)
        self.assertEqual(set(counts), {("0", "0")}, self.runs[1].stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--baofeed", required=True)
    args, rest = parser.parse_known_args()
    BAOFEED = os.path.abspath(args.baofeed)
    unittest.main(argv=[sys.argv[0], "-v", *rest])
