"""``nnlearn course`` serves the repository root, so lessons, exercises and solutions are all reachable."""

import json
import os
import socket
import subprocess
import time
import urllib.request

import pytest

from nnlearn.course import course_root, jupyter_command


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


@pytest.mark.parametrize("app", ["lab", "notebook"])
def test_course_serves_the_repository_root_and_opens_lesson_1(app, tmp_path):
    port, token = _free_port(), "nnlearn-test"
    command = jupyter_command(app, extra=["--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
                                          f"--IdentityProvider.token={token}"])
    assert command[-1] == str(course_root() / "lessons" / "01_perceptron.ipynb")
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path)}
    server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}/api/contents"
        deadline = time.monotonic() + 90
        while True:
            try:
                listing = _get_json(f"{base}?token={token}")
                break
            except OSError:
                assert server.poll() is None, f"jupyter {app} exited with {server.returncode}"
                assert time.monotonic() < deadline, f"jupyter {app} did not answer within 90 s"
                time.sleep(0.5)
        names = {entry["name"] for entry in listing["content"]}
        assert {"lessons", "exercises", "solutions"} <= names
        lesson = _get_json(f"{base}/lessons/01_perceptron.ipynb?content=0&token={token}")
        assert lesson["type"] == "notebook"
        exercise = _get_json(f"{base}/exercises/01_perceptron.ipynb?content=0&token={token}")
        assert exercise["type"] == "notebook"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_course_names_the_lessons_when_one_is_missing():
    with pytest.raises(ValueError, match=r"must be one of \[.*'01_perceptron'.*\]. Got '99_nothing'"):
        jupyter_command(lesson="99_nothing")
    assert (course_root() / "lessons").is_dir()
