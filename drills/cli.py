"""The `drill` command.

Exit codes (every command):
    0  pass (or the command succeeded)
    1  fail: a backup is not good (or a report does not verify)
    2  error: our infrastructure failed (Docker engine, storage); the site is not blamed
    3  bad configuration or usage
With several drills, the exit code is the worst outcome. `--json` prints machine-readable output;
a command that has none refuses it (exit 3). --catalog and --json may come before the command too.
"""

import argparse
import sys
from importlib.metadata import entry_points

from drills import package_version
from drills.commands import FAMILIES
from drills.commands.output import EXIT, EXIT_CONFIG, emit_error
from drills.errors import ConfigError, DrillError
from drills import reasons

COMMAND_PLUGINS = "restore_drill.commands"  # packages adding commands without drills importing them
SERVER_MODULES = {"docker", "duckdb", "dramatiq", "redis", "streamlit", "apprise", "fpdf", "prometheus_client",
                  "fastapi", "uvicorn"}  # the extra `server`'s, not in a site-side install
GROUPS = {"evidence": "the evidence replica", "keys": "signing keys", "users": "dashboard users",
          "audit": "the audit journal",
          "tokens": "the API's tokens", "badges": "the sites' status badges"}


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        if arguments.json and not arguments.json_output:
            raise ConfigError(f"drill {arguments.verb} has no JSON output: leave out --json",
                              code=reasons.CONFIG_USAGE)
        return arguments.command(arguments)
    except ConfigError as error:
        emit_error(arguments, error)
        return EXIT_CONFIG
    except DrillError as error:
        emit_error(arguments, error)
        return EXIT[error.outcome]
    except ModuleNotFoundError as missing:  # a site-side install (the core alone) running a service command
        if (missing.name or "").split(".")[0] not in SERVER_MODULES:
            raise
        emit_error(arguments, ConfigError(f"drill {arguments.verb} needs the drill service's packages: "
                                          f"{missing.name} is not installed here", code=reasons.CONFIG_USAGE,
                                          hint="pip install 'restore-drill[server]' (the core alone seals backups)"))
        return EXIT_CONFIG


class Parser(argparse.ArgumentParser):
    """Usage errors exit with 3, as documented, not argparse's 2 (which means error here)."""

    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"drill: {message}", file=sys.stderr)
        sys.exit(EXIT_CONFIG)


def parser() -> argparse.ArgumentParser:
    root = Parser(prog="drill", description=__doc__.split("\n")[0],
                  epilog=__doc__.split("\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    root.add_argument("--version", action="version", version=f"drill {package_version()}")
    shared = Parser(add_help=False)
    for where in (root, shared):  # before or after the command; SUPPRESS: absent after it, the one before holds
        where.add_argument("--catalog", default=None if where is root else argparse.SUPPRESS,
                           help="catalog file (default: $DRILL_CATALOG, else ./catalog.yaml)")
        where.add_argument("--json", action="store_true", default=False if where is root else argparse.SUPPRESS,
                           help="machine-readable output")
    commands = root.add_subparsers(required=True, metavar="COMMAND", parser_class=Parser)
    groups = {}

    def add(name: str, function, help_text: str, common: bool = True, json: bool = True) -> argparse.ArgumentParser:
        """A command `name` ("run", or "keys rotate" inside its group) running `function(arguments)`;
        `common`: it takes --catalog and --json; `json`: it prints JSON with --json (else it refuses it)."""
        group, _, action = name.rpartition(" ")
        if group and group not in groups:
            groups[group] = commands.add_parser(group, help=GROUPS.get(group)).add_subparsers(
                required=True, metavar="ACTION", parser_class=Parser)
        command = (groups[group] if group else commands).add_parser(
            action, parents=[shared] if common else [], help=help_text, description=help_text)
        command.set_defaults(command=function, verb=name, json_output=json)
        return command

    for family in FAMILIES:
        family.register(add)
    for plugin in entry_points(group=COMMAND_PLUGINS):  # e.g. workers: worker, scheduler, enqueue
        plugin.load()(add)
    root.set_defaults(root_parser=root)  # for `drill completion`, which describes every command
    return root


if __name__ == "__main__":
    sys.exit(main())
