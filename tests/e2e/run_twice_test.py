#!/usr/bin/python3
"""End to end: crawl the fixture sites with the real baofeed binary, real server, real SQLite file
and real feed readers (xmllint, feedparser): a first run, a second run with nothing new, and a
third run after the sites changed (the corrected article of epoch 2).

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
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_server import SITES, FixtureServer, write_config  # noqa: E402

BAOFEED = None
CHECKED_SITES = ("baobackan", "baothainguyen", "baosonglo")
CORRECTED = "thai-nguyen-giai-ngan-hon-2-100-ty-dong-von-dau-tu-cong"


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


def truth_of(slug, epoch):
    for site in CHECKED_SITES:
        for truth in expected_articles(site, epoch):
            if truth["slug"] == slug:
                return truth
    raise KeyError(slug)


def digest_dir(path):
    digests = {}
    for name in sorted(os.listdir(path)):
        with open(os.path.join(path, name), "rb") as f:
            digests[name] = hashlib.sha256(f.read()).hexdigest()
    return digests


def read_log(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def feed_entries(path):
    probe = subprocess.run(
        ["/usr/bin/python3", "-c",
         "import feedparser, json, sys\n"
         "d = feedparser.parse(sys.argv[1])\n"
         "print(json.dumps({'bozo': int(d.bozo), 'why': str(d.get('bozo_exception', '')),"
         " 'version': d.version, 'entries': [{'title': e.title, 'link': e.link, 'id': e.id,"
         " 'content': e.content[0].value if 'content' in e else ''} for e in d.entries]}))",
         path], capture_output=True, text=True, check=True)
    return json.loads(probe.stdout)


class FixtureSitesEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="baofeed-e2e-")
        cls.out = os.path.join(cls.tmp, "feeds")
        cls.config = os.path.join(cls.tmp, "baofeed.toml")
        cls.log_path = os.path.join(cls.tmp, "access.jsonl")
        cls.runs = []
        with FixtureServer(log=cls.log_path) as server:
            # Relative paths in the config resolve against the config file's folder.
            write_config(cls.config, server.port, "db/baofeed.db", "feeds")
            cls.runs.append(cls.baofeed("run", "-v"))
            cls.first_log_size = len(read_log(cls.log_path))
            cls.first_articles = cls.articles()
            cls.first_feeds = digest_dir(cls.out)
            cls.first_mtimes = {n: os.stat(os.path.join(cls.out, n)).st_mtime_ns
                                for n in os.listdir(cls.out)}
            cls.runs.append(cls.baofeed("run", "-v"))
            cls.second_log_size = len(read_log(cls.log_path))
            cls.second_articles = cls.articles()
            cls.second_feeds = digest_dir(cls.out)
            # The sites change: the corrected article and its feed entry (epoch 2).
            urllib.request.urlopen(f"http://127.0.0.1:{server.port}/__fixture/epoch?set=2").read()
            cls.runs.append(cls.baofeed("run", "-v"))
            cls.third_articles = cls.articles()
            cls.third_feeds = digest_dir(cls.out)
        cls.search = cls.baofeed("search", "bac kan", "--json")
        cls.reparse = cls.baofeed("reparse")
        cls.after_reparse = cls.articles()
        cls.log = read_log(cls.log_path)
        # The epoch switch itself is not the crawler's.
        cls.log = [r for r in cls.log if not r["path"].startswith("/__fixture/")]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def baofeed(cls, *args):
        env = dict(os.environ, LANG="", LC_ALL="")  # as under cron
        return subprocess.run([BAOFEED, *args, "--config", cls.config], capture_output=True,
                              text=True, timeout=600, env=env, cwd="/")

    @classmethod
    def articles(cls):
        done = cls.baofeed("articles", "--json")
        if done.returncode != 0:
            raise AssertionError("baofeed articles failed: " + done.stderr)
        return json.loads(done.stdout)

    def requests_of_run(self, n):
        bounds = [0, self.first_log_size, self.second_log_size, len(self.log) + 10**9]
        return [r for r in read_log(self.log_path)[bounds[n - 1]:bounds[n]]
                if not r["path"].startswith("/__fixture/")]

    # --- first run: what is stored ------------------------------------------------------

    def test_every_run_exits_zero(self):
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
        stored = {a["canonical_url"] for a in self.first_articles}
        self.assertEqual(stored, known)

    def test_a_merger_redirect_is_followed_and_its_old_url_kept_as_an_alias(self):
        truth = truth_of("xa-ba-be-don-hon-5-000-luot-khach-dip-cuoi-tuan", 1)
        old_url = [u for u in truth["fetch_urls"] if "baobackan.test" in u][0]
        record = [a for a in self.first_articles if a["canonical_url"] == truth["canonical_url"]]
        self.assertEqual(len(record), 1)
        self.assertIn(old_url, record[0]["urls"])
        self.assertEqual(record[0]["site"], "baothainguyen")

    # --- the feeds -------------------------------------------------------------------------

    def test_feeds_are_valid_xml_and_rss_for_feedparser(self):
        names = sorted(os.listdir(self.out))
        self.assertEqual(names, ["all.xml", "baobackan.xml", "baosonglo.xml", "baothainguyen.xml"])
        for name in names:
            path = os.path.join(self.out, name)
            with self.subTest(feed=name):
                lint = subprocess.run(["xmllint", "--noout", path], capture_output=True, text=True)
                self.assertEqual(lint.returncode, 0, lint.stderr)
                parsed = feed_entries(path)
                self.assertEqual(parsed["bozo"], 0, parsed["why"])
                self.assertEqual(parsed["version"], "rss20")
                self.assertGreater(len(parsed["entries"]), 0)
                for entry in parsed["entries"]:
                    self.assertTrue(entry["title"])
                    self.assertTrue(entry["link"].startswith("http://"))
                    self.assertIn("<p>", entry["content"])

    def test_site_feed_carries_every_article_of_the_site_in_full(self):
        content = {e["link"]: e["content"] for e in
                   feed_entries(os.path.join(self.out, "baobackan.xml"))["entries"]}
        for truth in expected_articles("baobackan"):
            with self.subTest(article=truth["_file"]):
                self.assertIn(truth["canonical_url"], content)
                html = content[truth["canonical_url"]]
                for paragraph in truth["body"]:
                    self.assertIn(paragraph.replace("&", "&amp;").replace("<", "&lt;")
                                  .replace(">", "&gt;").replace('"', "&quot;"), html)

    # --- second run: nothing new, nothing fetched twice --------------------------------------

    def test_second_run_stores_nothing_new_and_leaves_feeds_byte_identical(self):
        self.assertEqual(self.second_articles, self.first_articles)
        self.assertEqual(self.second_feeds, self.first_feeds)
        counts = re.findall(r"(\d+) new, (\d+) updated", self.runs[1].stderr)
        self.assertEqual(len(counts), 3, self.runs[1].stderr)
        self.assertEqual(set(counts), {("0", "0")}, self.runs[1].stderr)

    def test_second_run_sends_only_conditional_requests_and_refetches_nothing_unchanged(self):
        second = self.requests_of_run(2)
        self.assertGreater(len(second), 0)
        for r in second:
            with self.subTest(request=r["host"] + r["path"]):
                self.assertNotEqual(r["path"], "/robots.txt", "robots.txt is cached across runs")
                self.assertTrue(r["inm"] or r["ims"], "not a conditional request")
                self.assertEqual(r["status"], 304)

    # --- politeness, from the server's access log -------------------------------------------

    def test_robots_txt_comes_first_on_every_host_and_names_baofeed(self):
        first = self.requests_of_run(1)
        seen = set()
        for r in first:
            host = r["host"].split(":")[0]
            if host not in seen:
                self.assertEqual(r["path"], "/robots.txt", f"first request to {host}")
                seen.add(host)
            self.assertTrue(r["ua"].startswith("baofeed/"), r["ua"])

    def test_no_disallowed_path_is_ever_requested(self):
        disallowed = {
            "baobackan.test": ("/tim-kiem", "/print/", "/api/", "/dang-nhap/"),
            "baothainguyen.test": ("/tim-kiem/", "/admin/", "/file/banner/"),
            "baosonglo.test": ("/Admin/", "/Search.aspx", "/In-bai/", "/QuangCao.aspx"),
        }
        for r in self.log:
            host = r["host"].split(":")[0]
            for prefix in disallowed.get(host, ()):
                self.assertFalse(r["path"].startswith(prefix), f"{host}{r['path']}")

    def test_crawl_delay_of_five_seconds_spaces_every_request_to_baothainguyen(self):
        for run in (1, 2, 3):
            with self.subTest(run=run):
                times = sorted(r["ts"] for r in self.requests_of_run(run)
                               if r["host"].startswith("baothainguyen.test"))
                self.assertGreater(len(times), 2)
                gaps = [b - a for a, b in zip(times, times[1:])]
                # The server logs when it answers; 5 s apart at the client, within its jitter.
                self.assertGreaterEqual(min(gaps), 4.9, f"gaps {gaps}")

    def test_baosonglo_is_discovered_through_its_listing_pager(self):
        paths = {r["path"] for r in self.log if r["host"].startswith("baosonglo.test")}
        self.assertIn("/Tin-tuc/trang-2.aspx", paths)

    # --- the store: clusters, search, reparse ------------------------------------------------

    def test_copies_of_one_wire_story_share_a_cluster_and_keep_their_records(self):
        groups = {}
        for site in CHECKED_SITES:
            for truth in expected_articles(site):
                group = truth["dedup"]["group"]
                if group and group.startswith("wire-"):
                    groups.setdefault(group, []).append(truth["canonical_url"])
        self.assertTrue(groups)
        by_url = {a["canonical_url"]: a for a in self.first_articles}
        for group, urls in groups.items():
            with self.subTest(group=group):
                self.assertGreaterEqual(len(urls), 3)
                clusters = {by_url[u]["cluster"] for u in urls}
                self.assertEqual(len(clusters), 1, f"{group}: {clusters}")
                others = [a for a in self.first_articles if a["canonical_url"] not in urls]
                self.assertNotIn(clusters.pop(), {a["cluster"] for a in others})

    def test_search_ignores_diacritics(self):
        self.assertEqual(self.search.returncode, 0, self.search.stderr)
        found = json.loads(self.search.stdout)
        self.assertGreater(len(found), 0)
        for a in found:
            text = " ".join([a["title"], a["lead"], *a["body"]])
            self.assertIn("bắc kạn", text.lower())

    def test_reparse_with_unchanged_rules_changes_nothing(self):
        self.assertEqual(self.reparse.returncode, 0, self.reparse.stderr)
        lines = [l for l in self.reparse.stdout.splitlines() if "reparsed" in l]
        self.assertEqual(len(lines), 3, self.reparse.stdout)
        for line in lines:
            self.assertRegex(line, r": [1-9]\d* reparsed, 0 updated, [1-9]\d* unchanged, 0 failed$")
        # Nothing but the time of the last check moves (save() records one).
        strip = lambda articles: [{k: v for k, v in a.items() if k != "checked"} for a in articles]
        self.assertEqual(strip(self.after_reparse), strip(self.third_articles))

    # --- third run: the corrected article ---------------------------------------------------

    def test_a_corrected_article_is_updated_in_place_with_its_earlier_version_kept(self):
        v2 = truth_of(CORRECTED, 2)
        before = [a for a in self.second_articles if a["canonical_url"] == v2["canonical_url"]]
        after = [a for a in self.third_articles if a["canonical_url"] == v2["canonical_url"]]
        self.assertEqual(len(before), 1)
        self.assertEqual(len(after), 1)
        self.assertEqual(after[0]["title"], v2["title"])
        self.assertEqual(after[0]["body"], v2["body"])
        self.assertEqual(after[0]["published"], v2["published"])
        self.assertEqual(after[0]["modified"], v2["modified"])
        self.assertEqual(after[0]["revisions"], 1)
        self.assertEqual(len(self.third_articles), len(self.second_articles))

    def test_the_corrected_article_keeps_its_feed_guid(self):
        v2 = truth_of(CORRECTED, 2)
        entries = feed_entries(os.path.join(self.out, "baothainguyen.xml"))["entries"]
        matching = [e for e in entries if e["link"] == v2["canonical_url"]]
        self.assertEqual(len(matching), 1)
        self.assertEqual(matching[0]["id"], v2["canonical_url"])
        self.assertEqual(matching[0]["title"], v2["title"])
        self.assertNotEqual(self.third_feeds["baothainguyen.xml"],
                            self.second_feeds["baothainguyen.xml"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--baofeed", required=True)
    args, rest = parser.parse_known_args()
    BAOFEED = os.path.abspath(args.baofeed)
    unittest.main(argv=[sys.argv[0], "-v", *rest])
