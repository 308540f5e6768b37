"""The user manuals (docs/manual/*.md) match the system they describe.

Manuals drift silently: a renamed button, a dropped CLI option or a moved page leaves a civil servant following
instructions that no longer work. So every checkable claim in them is checked against the real thing:

- every `xinfang ...` command (inline code starting with `xinfang `, or `…/bin/xinfang ...` and lines starting with
  `xinfang ` in fenced blocks) resolves to a command of the real Typer app, every `--option` it uses belongs to that
  command, and `xinfang <command> --help` runs;
- every link to an image or another document points to an existing file;
- every page path written as inline code (`/desk`, `/inbox?box=overdue`, `/api/health`) is a route of the app, and
  the `box=` / `section=` values it names exist;
- every UI label written as 【label】 occurs verbatim in the UI's sources (templates, page modules, page scripts, the
  procedure's step labels and the vocabularies they render).
"""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import typer
from typer.testing import CliRunner

from xinfang.cli import build_app
from xinfang.config import Settings

ROOT = Path(__file__).resolve().parents[2]
MANUALS = ROOT / "docs" / "manual"
SRC = ROOT / "src" / "xinfang"
# Where the words of the UI come from: the web layer, and what it renders from the domain (step names, statuses,
# channels, roles, inbox boxes).
UI_SOURCES = (
    *sorted((SRC / "web").rglob("*.html")),
    *sorted((SRC / "web").rglob("*.py")),
    *sorted((SRC / "web" / "static" / "js").glob("*.js")),
    SRC / "cases" / "workflow.py",
    SRC / "cases" / "enums.py",
    SRC / "inbox" / "service.py",
)
# Inline code that starts with one of these is a file on the server, not a page of the app.
FILESYSTEM_ROOTS = ("/opt/", "/etc/", "/var/", "/usr/", "/srv/", "/tmp/", "/home/", "/root/", "/dev/")

FENCE = re.compile(r"^([ \t]*)```.*?^\1```", re.S | re.M)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
LABEL = re.compile(r"【([^】]+)】")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
SUBSTITUTION = re.compile(r"\$\([^)]*\)")
SHELL_STOP = {"|", "||", "&&", ";", ">", ">>", "<", "2>", "&"}
_HELP_OK: set[tuple[str, ...]] = set()  # commands whose --help already ran in this session


def manual_files() -> list[Path]:
    files = sorted(MANUALS.glob("*.md"))
    assert files, "docs/manual/*.md not found"
    return files


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _split_code(text: str) -> tuple[str, list[str]]:
    """The prose (fenced blocks removed) and the fenced blocks."""
    blocks = [m.group(0) for m in FENCE.finditer(text)]
    return FENCE.sub("", text), blocks


def _tokens(rest: str) -> list[str]:
    """The words of a command line after `xinfang`, up to the first shell operator or comment."""
    rest = SUBSTITUTION.sub("X", rest)
    for _ in range(3):
        try:
            words = shlex.split(rest, comments=True)
            break
        except ValueError:  # an unbalanced quote closes a wrapper such as bash -c '...'
            cut = max(rest.rfind("'"), rest.rfind('"'))
            rest = rest[:cut] if cut >= 0 else ""
    else:
        return []
    out = []
    for word in words:
        if word in SHELL_STOP or word.startswith(("|", ";", ">")):
            break
        out.append(word.rstrip(";"))
    return out


def quoted_commands(text: str) -> list[str]:
    """Each `xinfang` invocation the manual shows, as the text after the word `xinfang`."""
    prose, blocks = _split_code(text)
    found = [
        m.group(1)[len("xinfang ") :]
        for m in INLINE_CODE.finditer(prose)
        if m.group(1).startswith("xinfang ")
    ]
    for block in blocks:
        for line in block.splitlines()[1:-1]:
            stripped = line.strip()
            if stripped.startswith("#"):
                continue
            if stripped.startswith("xinfang "):
                found.append(stripped[len("xinfang ") :])
            found += [
                m.group(1) for m in re.finditer(r"bin/xinfang (.*?)(?=$|&&|\|\||;\s|bin/xinfang )", stripped)
            ]
    return found


@functools.cache
def _root_command() -> Any:
    return typer.main.get_command(build_app())


def resolve(words: list[str]) -> tuple[list[str], Any]:
    """The longest chain of subcommand names at the start of `words`, and the (click) command it names.

    Duck-typed (`commands`, `params`): Typer's groups and options are click's, but not necessarily the `click`
    module importable here."""
    command: Any = _root_command()
    path: list[str] = []
    for word in words:
        subcommands = getattr(command, "commands", None)
        if subcommands is not None and word in subcommands:
            command = subcommands[word]
            path.append(word)
        else:
            break
    return path, command


def option_names(command: Any) -> set[str]:
    names = {"--help"}
    for param in command.params:
        if getattr(param, "param_type_name", "") == "option":
            names.update(param.opts)
            names.update(param.secondary_opts)
    return names


@pytest.fixture(scope="module")
def ui_text() -> str:
    return "\n".join(_text(p) for p in UI_SOURCES)


@pytest.fixture(scope="module")
def is_route(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], bool]:
    """Does a GET or any other method of the app answer at this path? Asked of the app's own router (the same
    matching as a request), so included routers, mounts and path parameters count as they do at run time."""
    from starlette.routing import Match

    from xinfang.web.app import create_app

    db = tmp_path_factory.mktemp("manual-routes") / "routes.db"
    app = create_app(Settings(database_url=f"sqlite:///{db}"))

    def check(path: str) -> bool:
        scope = {
            "type": "http",
            "path": path,
            "method": "GET",
            "root_path": "",
            "query_string": b"",
            "headers": [],
        }
        return any(route.matches(scope)[0] != Match.NONE for route in app.routes)

    return check


@pytest.mark.parametrize("manual", manual_files(), ids=lambda p: p.name)
def test_every_quoted_command_exists_with_its_options(manual: Path) -> None:
    runner = CliRunner()
    problems = []
    for quoted in quoted_commands(_text(manual)):
        words = _tokens(quoted)
        path, command = resolve(words)
        if not path:
            problems.append(f"`xinfang {quoted}`: no such command")
            continue
        known = option_names(command)
        for word in words[len(path) :]:
            option = word.split("=", 1)[0]
            if (option.startswith("--") or re.fullmatch(r"-[A-Za-z]", option)) and option not in known:
                problems.append(f"`xinfang {quoted}`: {' '.join(path)} has no option {word}")
        if tuple(path) not in _HELP_OK:
            result = runner.invoke(build_app(), [*path, "--help"])
            if result.exit_code != 0:
                problems.append(f"`xinfang {' '.join(path)} --help` exited {result.exit_code}")
            else:
                _HELP_OK.add(tuple(path))
    assert not problems, "\n".join(problems)


def test_the_command_check_catches_a_wrong_command_or_option() -> None:
    """The checks above would fail on a manual that names a missing command or option."""
    assert resolve(_tokens("keys rotate --db URL"))[0] == ["keys", "rotate"]
    assert resolve(_tokens("model contrast old new"))[0] == ["model"]  # `contrast` is not a subcommand
    _path, command = resolve(_tokens("backup --out x.tar.gz"))
    assert "--out" in option_names(command) and "--output" not in option_names(command)
    text = "```bash\nsudo -u xinfang bash -c 'set -a; /opt/xinfang/venv/bin/xinfang db upgrade'\n```\n`xinfang audit verify`"
    assert [_tokens(c) for c in quoted_commands(text)] == [["audit", "verify"], ["db", "upgrade"]]


@pytest.mark.parametrize("manual", manual_files(), ids=lambda p: p.name)
def test_every_linked_image_and_document_exists(manual: Path) -> None:
    prose, _blocks = _split_code(_text(manual))
    missing = []
    for target in LINK.findall(prose):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        if not (manual.parent / target.split("#", 1)[0]).exists():
            missing.append(target)
    assert not missing, f"{manual.name} links to missing files: {missing}"


@pytest.mark.parametrize("manual", manual_files(), ids=lambda p: p.name)
def test_every_page_path_is_a_route_of_the_app(manual: Path, is_route: Callable[[str], bool]) -> None:
    from xinfang.inbox.service import Box
    from xinfang.web.pages.admin import SECTIONS

    prose, _blocks = _split_code(_text(manual))
    problems = []
    for code in INLINE_CODE.findall(prose):
        if not code.startswith("/") or code.startswith(FILESYSTEM_ROOTS) or " " in code:
            continue
        parts = urlsplit(code)
        if not is_route(re.sub(r"\{[^}/]+\}", "1", parts.path)):  # /petitions/{id} -> /petitions/1
            problems.append(f"{code}: no such route")
        query = parse_qs(parts.query)
        for box in query.get("box", []) if parts.path == "/inbox" else []:
            if box not in {b.value for b in Box}:
                problems.append(f"{code}: no inbox box {box!r}")
        for section in query.get("section", []) if parts.path == "/admin" else []:
            if section not in SECTIONS:
                problems.append(f"{code}: no admin section {section!r}")
    assert not problems, f"{manual.name}: " + "; ".join(problems)


def test_the_route_and_label_checks_tell_the_real_from_a_typo(
    is_route: Callable[[str], bool], ui_text: str
) -> None:
    assert is_route("/desk") and is_route("/petitions/1") and is_route("/api/health")
    assert not is_route("/desks") and not is_route("/api/healthz")
    assert "登记并转送" in ui_text and "登记后转送" not in ui_text


@pytest.mark.parametrize("manual", manual_files(), ids=lambda p: p.name)
def test_every_marked_ui_label_occurs_in_the_ui(manual: Path, ui_text: str) -> None:
    labels = set(LABEL.findall(_text(manual)))
    missing = sorted(label for label in labels if label.strip() and label not in ui_text)
    assert not missing, f"{manual.name} names UI labels that the UI does not have: {missing}"


def test_the_manuals_are_indexed_and_linked_from_the_readme() -> None:
    index = _text(MANUALS / "README.md")
    for manual in manual_files():
        if manual.name != "README.md":
            assert f"]({manual.name})" in index, f"docs/manual/README.md does not link {manual.name}"
    assert "docs/manual/README.md" in _text(ROOT / "README.md")
