"""The command line an operator and a shell expect: --version, --catalog and --json before the
command as well as after it, --json honoured or refused by every command, shell completion."""

import argparse
import json
import shutil
import subprocess

import pytest

from drills import package_version
from drills.cli import main, parser
from drills.commands.completion import completion_script
from tests.helpers import drill_command


def verbs(command_parser: argparse.ArgumentParser, path: tuple = ()):
    """(path, parser) of every command: ("run",), ("keys", "rotate")..."""
    for action in command_parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                if any(isinstance(a, argparse._SubParsersAction) for a in sub._actions):
                    yield from verbs(sub, path + (name,))
                else:
                    yield path + (name,), sub


def minimal_arguments(command_parser: argparse.ArgumentParser) -> list[str]:
    """Positionals and required options filled with a value each accepts."""
    filled = []
    for action in command_parser._actions:
        value = str(next(iter(action.choices))) if action.choices else "placeholder"
        if not action.option_strings and action.nargs not in ("*", "?"):
            filled.append(value)
        elif action.required and action.option_strings:
            filled += [action.option_strings[0], value]
    return filled


ALL_VERBS = sorted(verbs(parser()), key=lambda pair: pair[0])


def test_version_is_the_package_version():
    result = drill_command("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"drill {package_version()}"
    assert package_version()[0].isdigit()


def test_catalog_and_json_may_come_before_the_command(tmp_path):
    missing = str(tmp_path / "nowhere.yaml")
    before = drill_command("--json", "--catalog", missing, "check")
    after = drill_command("check", "--catalog", missing, "--json")
    assert before.returncode == after.returncode == 3
    assert json.loads(before.stdout) == json.loads(after.stdout)
    assert missing in json.loads(before.stdout)["message"]
    arguments = parser().parse_args(["--catalog", "a.yaml", "run", "--all"])
    assert (arguments.catalog, arguments.json) == ("a.yaml", False)
    assert parser().parse_args(["--catalog", "a.yaml", "run", "--all", "--catalog", "b.yaml"]).catalog == "b.yaml"


@pytest.mark.parametrize("verb", [path for path, _ in ALL_VERBS], ids=" ".join)
def test_json_is_honoured_or_refused_by_every_command(verb, tmp_path, monkeypatch, capsys):
    """A command without JSON output refuses --json (exit 3, config.usage) before doing anything; the
    others answer in JSON, here the error of a catalog that is not there."""
    command_parser = dict(ALL_VERBS)[verb]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DRILL_CATALOG", str(tmp_path / "absent" / "catalog.yaml"))
    monkeypatch.setenv("DRILL_RUN_DIR", str(tmp_path / "run"))
    monkeypatch.delenv("DRILL_REDIS_URL", raising=False)
    code = main(["--json", *verb, *minimal_arguments(command_parser)])
    printed = capsys.readouterr().out
    answer = json.loads(printed)  # whatever happened, stdout is JSON
    if not command_parser.get_default("json_output"):
        assert (code, answer["error"]) == (3, "config.usage") and "has no JSON output" in answer["message"]
    else:
        assert code in (0, 1, 2, 3) and ("error" not in answer or answer["message"])


def test_a_command_refusing_json_does_not_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["keys", "init", "--key", str(tmp_path / "signing.ed25519"), "--json"]) == 3
    assert not (tmp_path / "signing.ed25519").exists()


def completions(script: str, *words: str) -> list[str]:
    """What bash offers after `drill WORDS...` (the last word being completed), with the real bash."""
    quoted = " ".join(f"'{word}'" for word in ("drill", *words))
    probe = f'{script}\nCOMP_WORDS=({quoted}); COMP_CWORD={len(words)}; _drill; printf "%s\\n" "${{COMPREPLY[@]}}"'
    return subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True).stdout.split()


def test_bash_completion_offers_commands_actions_and_options():
    script = drill_command("completion", "bash").stdout
    assert completions(script, "ver") == ["verify-report", "verify-chain"]
    assert completions(script, "keys", "r") == ["rotate"]
    assert completions(script, "--catalog", "c.yaml", "run", "--a") == ["--all", "--at"]
    assert completions(script, "manifest", "s") == ["sqlite"]
    assert "completion" in completions(script, "")


def test_zsh_completion_runs_the_same_function_through_bashcompinit():
    script = completion_script(parser(), "zsh", "1.0")
    assert script.startswith("#compdef drill\n") and "bashcompinit" in script and "_drill()" in script
    if shutil.which("zsh"):  # registered with zsh's completion system, calling the bash function
        registered = subprocess.run(["zsh", "-c", script + "\necho ${_comps[drill]}"], capture_output=True, text=True,
                                    check=True).stdout
        assert "-F _drill" in registered
