"""The install files agree: requirements.txt and environment.yml pin the same versions; CI calls the README command."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pins(lines):
    out = {}
    for line in lines:
        line = line.split("#")[0].strip().lstrip("- ").strip()
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s]+)", line)
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out


def test_environment_yml_pins_the_same_versions_as_requirements():
    req = pins((ROOT / "requirements.txt").read_text().splitlines())
    env = pins((ROOT / "environment.yml").read_text().splitlines())
    assert req, "requirements.txt has no pins"
    assert req == env, f"drift: only in requirements {set(req.items()) - set(env.items())}, " \
                       f"only in environment.yml {set(env.items()) - set(req.items())}"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash course.sh test" in readme and "bash course.sh test" in ci
    assert "bash course.sh lab" in readme


def test_every_notebook_has_a_colab_badge_and_no_machine_paths():
    import json
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    for nb in notebooks:
        text = "".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"])
        assert f"colab.research.google.com/github/ml-for-audio/course/blob/main/notebooks/{nb.name}" in text, nb.name
        assert not re.search(r"/work/|/tmp/|/root/", text), nb.name
