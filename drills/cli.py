"""The `drill` command.

Exit codes (every command):
    0  pass (or the command succeeded)
    1  fail: a backup is not good (or a report does not verify)
    2  error: our infrastructure failed (Docker engine, storage); the site is not blamed
    3  bad configuration or usage
With several drills, the exit code is the worst outcome. `--json` prints machine-readable output.
"""

import argparse
import sys
from importlib.metadata import entry_points

from drills.commands import FAMILIES
from drills.commands.output import EXIT, EXIT_CONFIG, emit_error
from drills.errors import ConfigError, DrillError

COMMAND_PLUGINS = "restore_drill.commands"  # packages adding commands without drills importing them
GROUPS = {"evidence": "the evidence replica", "keys": "signing keys", "users": "dashboard users",
          "audit": "the audit journal",
          "tokens": "the API's tokens", "badges": "the sites' status badges"}


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        return arguments.command(arguments)
    except ConfigError as error:
        emit_error(arguments, error)
        return EXIT_CONFIG
    except DrillError as error:
        emit_error(arguments, error)
        return EXIT[error.outcome]


class Parser(argparse.ArgumentParser):
    """Usage errors exit with 3, as documented, not argparse's 2 (which means error here)."""

    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"drill: {message}", file=sys.stderr)
        sys.exit(EXIT_CONFIG)


def parser() -> argparse.ArgumentParser:
    root = Parser(prog="drill", description=__doc__.split("\n")[0],
                  epilog=__doc__.split("\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    shared = Parser(add_help=False)
    shared.add_argument("--catalog", help="catalog file (default: $DRILL_CATALOG, else ./catalog.yaml)")
    shared.add_argument("--json", action="store_true", help="machine-readable output")
    commands = root.add_subparsers(required=True, metavar="COMMAND", parser_class=Parser)
    groups = {}

    def add(name: str, function, help_text: str, common: bool = True) -> argparse.ArgumentParser:
        """A command `name` ("run", or "keys rotate" inside its group) running `function(arguments)`;
        `common`: it takes --catalog and --json."""
        group, _, action = name.rpartition(" ")
        if group and group not in groups:
            groups[group] = commands.add_parser(group, help=GROUPS.get(group)).add_subparsers(
                required=True, metavar="ACTION", parser_class=Parser)
        command = (groups[group] if group else commands).add_parser(
            action, parents=[shared] if common else [], help=help_text, description=help_text)
        command.set_defaults(command=function)
        return command

    for family in FAMILIES:
        family.register(add)
    for plugin in entry_points(group=COMMAND_PLUGINS):  # e.g. workers: worker, scheduler, enqueue
        plugin.load()(add)
    return root


if __name__ == "__main__":
    sys.exit(main())
