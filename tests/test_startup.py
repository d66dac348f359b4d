"""What a run imports and computes before its real work: a check without an observation loads none of
the runtime layer's engine client; the settings of a file are computed once per file and still take
what the run sets later."""
import subprocess
import sys

from conftest import cli_env

PROBE = """import sys
from hardener import cli
sys.argv = ['hardener', 'check', 'compose.yaml']
try:
    cli.main()
except SystemExit:
    pass
print(sorted(m for m in sys.modules if m.startswith('hardener.runtime')), file=sys.stderr)
"""


def _runtime_modules(folder) -> str:
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=folder, env=cli_env(), capture_output=True, text=True,
                          timeout=60)
    return proc.stderr.strip().splitlines()[-1]


def test_a_check_without_an_observation_imports_no_engine_client(tmp_path):
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: nginx:1.27\n")
    assert _runtime_modules(tmp_path) == "['hardener.runtime', 'hardener.runtime.observed']"


def test_an_observation_beside_the_file_is_still_found_and_read(tmp_path):
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: nginx:1.27\n")
    (tmp_path / "hardener-observed.json").write_text("{}")
    assert "'hardener.runtime.derive'" in _runtime_modules(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "hardener", "check", "compose.yaml"], cwd=tmp_path, env=cli_env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "hardener-observed.json: not an observation file" in proc.stderr


def test_the_runtime_package_still_names_options_and_cannot_run():
    from hardener import runtime
    from hardener.runtime.orchestrate import Options
    from hardener.runtime.project import CannotRun

    assert (runtime.Options, runtime.CannotRun) == (Options, CannotRun)


def test_settings_are_computed_once_per_file_and_take_what_the_run_adds_later(tmp_path, monkeypatch):
    from hardener import cli, config

    monkeypatch.chdir(tmp_path)
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    (tmp_path / ".env.test").write_text("A=1\n")
    choice = cli._Choice(["CAP"], None, False)
    calls = []
    real = config.Config.settings_for
    monkeypatch.setattr(config.Config, "settings_for", lambda self, *a: calls.append(a[0]) or real(self, *a))
    first = choice.for_file("compose.yaml")
    assert first.env_files == ()
    choice.env_files = (str(tmp_path / ".env.test"),)
    again = choice.for_file("compose.yaml")
    assert again.env_files == choice.env_files and again.ignore == first.ignore
    assert calls == ["compose.yaml"]


def test_files_of_one_folder_share_its_configuration_and_other_folders_keep_theirs(tmp_path, monkeypatch):
    from hardener import cli, config

    monkeypatch.chdir(tmp_path)
    for name in ("a", "b", "b/deeper"):
        (tmp_path / name).mkdir()
    (tmp_path / "b" / ".hardener.yaml").write_text("ignore: [CAP001]\n")
    for path in ("a/one.yaml", "a/two.yaml", "b/one.yaml", "b/deeper/one.yaml", "b/missing/x.yaml"):
        if "missing" not in path:
            (tmp_path / path).write_text("services: {}\n")
    choice = cli._Choice(None, None, False)
    for path in ("a/one.yaml", "a/two.yaml", "b/one.yaml", "b/deeper/one.yaml", "b/missing/x.yaml", "b"):
        expected = config.find(path)
        assert choice.config_for(path).path == (expected if expected is None else expected.resolve()), path
    assert "CAP001" not in choice.for_file("a/two.yaml").ignore
    assert "CAP001" in choice.for_file("b/deeper/one.yaml").ignore
