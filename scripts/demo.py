#!/usr/bin/python3
"""make demo: serve the fixture sites on loopback, crawl them with baofeed, show the feeds.

Needs no network. Writes everything under --out (default out/demo).
"""
import argparse
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from fixture_server import FixtureServer, write_config  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baofeed", required=True)
    parser.add_argument("--out", default="out/demo")
    args = parser.parse_args()
    out = os.path.abspath(args.out)
    config = os.path.join(out, "baofeed.toml")
    os.makedirs(out, exist_ok=True)
    with FixtureServer(log=os.path.join(out, "access.jsonl")) as server:
        write_config(config, server.port, "baofeed.db", "feeds")
        print(f"demo: fixture sites served on 127.0.0.1:{server.port}")
        print(f"demo: baofeed run --config {os.path.relpath(config)} -v")
        done = subprocess.run([args.baofeed, "run", "--config", config, "-v"])
    if done.returncode != 0:
        print(f"demo: baofeed run exited with {done.returncode}", file=sys.stderr)
        return done.returncode
    feeds = os.path.join(out, "feeds")
    print("demo: feeds written:")
    for name in sorted(os.listdir(feeds)):
        path = os.path.join(feeds, name)
        print(f"  {os.path.relpath(path)}  ({os.path.getsize(path)} bytes)")
    print(f"demo: stored articles: {args.baofeed} articles --config {os.path.relpath(config)}")
    print(f"demo: subscribe a feed reader to file://{os.path.join(feeds, 'all.xml')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
