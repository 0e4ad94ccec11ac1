"""`include:` sites kept in other files: a directory of site files (one site a file, the way an IT
provider's tooling generates them) or single files, added to the catalog's `sites`.

Each file holds one site (a mapping) or a list of sites. Its sites are validated like the
catalog's own, and each problem names the included file and its line there. Relative paths in
an included file are taken from the catalog's folder, like every other path of the catalog.
"""

from pathlib import Path

from drills.errors import ConfigError
from drills.options import Context

SITE_FILES = ("*.yaml", "*.yml")


def with_included_sites(document, ctx: Context, parse) -> None:
    """Append the sites of every file `document["include"]` names to `document["sites"]`, with their
    lines and their file recorded in `ctx`. `parse(text, path)` -> (document, lines), raising ConfigError.
    A malformed `include:` or `sites:` is left for the schema to report."""
    if not isinstance(document, dict) or not isinstance(document.get("include"), list):
        return
    sites = document.get("sites") or []
    if not isinstance(sites, list):
        return
    for index, entry in enumerate(document["include"]):
        if isinstance(entry, str) and entry:
            for file in site_files(ctx.base_dir / entry, ("include", index), ctx):
                for site, site_lines in sites_of(file, parse):
                    at = ("sites", len(sites))
                    ctx.lines.update({at + key_path: line for key_path, line in site_lines.items()})
                    ctx.origins[at] = file
                    sites.append(site)
    document["sites"] = sites
    ctx.lines.setdefault(("sites",), ctx.lines.get(("include",), 0))


def site_files(target: Path, at: tuple, ctx: Context) -> list[Path]:
    """The files an include entry names: the *.yaml and *.yml of a directory, by name, or the file."""
    if target.is_dir():
        files = sorted(file for pattern in SITE_FILES for file in target.glob(pattern) if file.is_file())
        if not files:
            ctx.problem(at, f"no site file ({', '.join(SITE_FILES)}) in {target}")
        return files
    if not target.is_file():
        ctx.problem(at, f"{target}: no such directory or file")
        return []
    return [target]


def sites_of(file: Path, parse):
    """(site, its lines by key path from the site) for each site in an included file."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read included file {file}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{file}: an included file is not UTF-8 text", hint="write site files in UTF-8") from None
    parsed, lines = parse(text, file)
    if isinstance(parsed, list):
        return [(site, {key_path[1:]: line for key_path, line in lines.items() if key_path[:1] == (index,)})
                for index, site in enumerate(parsed)]
    if parsed is None:
        raise ConfigError(f"{file}:1: an included file holds no site", hint="write one site (a mapping) in it")
    return [(parsed, lines)]
