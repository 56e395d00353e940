"""``tcdb report --serve`` answering requests a browser would never send: a NUL byte, links
planted in the site folder that lead out, ``..``, a FIFO. Only regular files that really lie
inside the site folder are served; the rest is a 400 or 404 and never a traceback."""

from __future__ import annotations

import http.client
import os
import threading

import pytest

from tcdb.reports.serve import site_server


@pytest.fixture
def site(tmp_path):
    """A served site folder with links planted in it, and a secret outside it."""
    outside = tmp_path / "home"
    outside.mkdir()
    (outside / "id_rsa").write_text("PRIVATE KEY")
    folder = tmp_path / "site"
    (folder / "figures").mkdir(parents=True)
    (folder / "index.html").write_text("<!doctype html><title>site</title>")
    (folder / "figures" / "parity.svg").write_text("<svg/>")
    (folder / "key").symlink_to(outside / "id_rsa")
    (folder / "home").symlink_to(outside, target_is_directory=True)
    (folder / "figures" / "up").symlink_to(folder.parent, target_is_directory=True)
    (folder / "same.svg").symlink_to(folder / "figures" / "parity.svg")
    (folder / "empty").mkdir()
    (folder / "loop").symlink_to(folder / "loop")
    os.mkfifo(folder / "pipe")
    server = site_server(folder, 0)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_address[:2]
    finally:
        server.shutdown()
        server.server_close()


def _get(address, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(*address, timeout=5)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_a_nul_byte_or_a_broken_escape_is_a_bad_request_not_a_traceback(site, capfd):
    for path in ("/%00", "/index.html%00.png", "/%ff%fe"):
        assert _get(site, path)[0] == 400, path
    assert _get(site, "/index.html")[0] == 200  # the server still answers
    assert "Traceback" not in capfd.readouterr().err


def test_links_out_of_the_site_folder_and_dot_dots_are_not_found(site, capfd):
    for path in ("/key", "/home/id_rsa", "/figures/up/home/id_rsa", "/../home/id_rsa",
                 "/%2e%2e/home/id_rsa", "/figures/..%2f..%2fhome/id_rsa", "/loop",
                 "/empty/", "/pipe", "/nothing.html"):  # fmt: skip
        status, body = _get(site, path)
        assert status == 404, path
        assert b"PRIVATE KEY" not in body
    assert "Traceback" not in capfd.readouterr().err


def test_the_site_and_links_that_stay_inside_it_are_served(site):
    assert _get(site, "/") == (200, b"<!doctype html><title>site</title>")
    assert _get(site, "/figures/parity.svg") == (200, b"<svg/>")
    assert _get(site, "/same.svg") == (200, b"<svg/>")
    assert _get(site, "/figures")[0] == 301
