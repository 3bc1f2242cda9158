"""Starts tests/fixtures/tools/serve.py on a free loopback port (a context manager).

Used by the end-to-end tests and by `make demo`. Standard library only.
"""
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, "..", "fixtures"))
SITES = os.path.join(FIXTURES, "sites")
SERVE = os.path.join(FIXTURES, "tools", "serve.py")
TEMPLATE = os.path.join(HERE, "fixture-sites.toml.in")


class FixtureServer:
    """The fixture sites on 127.0.0.1:<port>; `log` (optional) receives one JSON line per request."""

    def __init__(self, log=None, epoch=1, sites=SITES):
        self.log = log
        self.epoch = epoch
        self.sites = sites
        self.port = None
        self._proc = None

    def __enter__(self):
        cmd = [sys.executable, SERVE, "--sites", self.sites, "--port", "0", "--epoch", str(self.epoch)]
        if self.log:
            cmd += ["--log", self.log]
        self._proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        line = ""
        while time.monotonic() < deadline:
            line = self._proc.stderr.readline()
            match = re.search(r"fixture server on [\d.]+:(\d+)", line)
            if match:
                self.port = int(match.group(1))
                return self
            if self._proc.poll() is not None:
                break
        self.__exit__(None, None, None)
        raise RuntimeError("fixture server did not start: " + line)

    def __exit__(self, *exc):
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc and self._proc.stderr:
            self._proc.stderr.close()
        return False


def write_config(path, port, database, output_dir):
    """Writes the fixture-sites configuration for a server on `port`."""
    with open(TEMPLATE, encoding="utf-8") as f:
        text = f.read()
    text = (text.replace("@PORT@", str(port)).replace("@DATABASE@", database)
            .replace("@OUTPUT_DIR@", output_dir))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
