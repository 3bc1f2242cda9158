#!/usr/bin/python3
"""Integrity under SIGKILL and overlapping runs, with the real binary and a real SQLite file.

A run is killed with SIGKILL at many points of its work; after each kill the database must pass
PRAGMA integrity_check and hold no duplicate; a final run must then complete the work: every
article of the fixture sites stored exactly once. Two runs started together: one does the work,
the other exits at once with code 4, and the database stays sound.

    /usr/bin/python3 tests/e2e/kill_test.py --baofeed build/app/baofeed
"""
import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_server import FixtureServer, write_config  # noqa: E402
from run_twice_test import expected_articles  # noqa: E402

BAOFEED = None
# baothainguyen asks for Crawl-delay: 5, which would make every run a minute long; the other two
# sites exercise the same code paths quickly.
SITES = ("baobackan", "baosonglo")
KILL_AFTER_S = (0.0, 0.01, 0.03, 0.06, 0.1, 0.15, 0.2, 0.3, 0.45, 0.6, 0.8, 1.1)


def without_site(config_path, name):
    with open(config_path, encoding="utf-8") as f:
        text = f.read()
    blocks = re.split(r"(?m)^(?=\[\[sites\]\])", text)
    kept = [b for b in blocks if f'name = "{name}"' not in b]
    with open(config_path, "w", encoding="utf-8") as f:
        f.write("".join(kept))


def integrity(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


class KilledAndOverlappingRuns(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="baofeed-kill-")
        self.config = os.path.join(self.tmp, "baofeed.toml")
        self.db = os.path.join(self.tmp, "baofeed.db")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def command(self, *args):
        return [BAOFEED, *args, "--config", self.config]

    def stored(self):
        done = subprocess.run(self.command("articles", "--json"), capture_output=True, text=True,
                              check=True)
        return json.loads(done.stdout)

    def assert_no_duplicates(self, articles):
        canonical = [a["canonical_url"] for a in articles]
        self.assertEqual(len(canonical), len(set(canonical)), "a canonical URL stored twice")
        urls = [u for a in articles for u in a["urls"]]
        self.assertEqual(len(urls), len(set(urls)), "a URL belongs to two records")

    def test_a_run_killed_at_any_point_leaves_a_sound_database_and_the_next_run_completes(self):
        with FixtureServer() as server:
            write_config(self.config, server.port, self.db, "feeds")
            without_site(self.config, "baothainguyen")
            for delay in KILL_AFTER_S:
                with self.subTest(kill_after_s=delay):
                    proc = subprocess.Popen(self.command("run", "-q"), stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)
                    time.sleep(delay)
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    if os.path.exists(self.db):
                        self.assertEqual(integrity(self.db), "ok")
                        self.assert_no_duplicates(self.stored())
                # Start over now and then, so early kill points hit a fresh database too.
                if delay in (0.1, 0.45):
                    for suffix in ("", "-wal", "-shm"):
                        if os.path.exists(self.db + suffix):
                            os.remove(self.db + suffix)
            final = subprocess.run(self.command("run"), capture_output=True, text=True, timeout=300)
            self.assertEqual(final.returncode, 0, final.stderr)
        self.assertEqual(integrity(self.db), "ok")
        articles = self.stored()
        self.assert_no_duplicates(articles)
        expected = {t["canonical_url"] for s in SITES for t in expected_articles(s)}
        # The baobackan sitemap also leads to the article that moved to baothainguyen (merger).
        expected |= {t["canonical_url"] for t in expected_articles("baothainguyen")
                     if any("baobackan.test" in u for u in t["fetch_urls"])}
        self.assertEqual({a["canonical_url"] for a in articles}, expected)

    def test_two_runs_at_once_one_works_the_other_exits_cleanly(self):
        with FixtureServer() as server:
            write_config(self.config, server.port, self.db, "feeds")
            without_site(self.config, "baothainguyen")
            first = subprocess.Popen(self.command("run"), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
            time.sleep(0.05)
            second = subprocess.run(self.command("run"), capture_output=True, text=True,
                                    timeout=300)
            out, err = first.communicate(timeout=300)
        self.assertEqual(first.returncode, 0, err)
        self.assertEqual(second.returncode, 4, second.stderr)
        self.assertIn("another baofeed run holds", second.stderr)
        self.assertEqual(integrity(self.db), "ok")
        self.assert_no_duplicates(self.stored())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--baofeed", required=True)
    args, rest = parser.parse_known_args()
    BAOFEED = os.path.abspath(args.baofeed)
    unittest.main(argv=[sys.argv[0], "-v", *rest])
