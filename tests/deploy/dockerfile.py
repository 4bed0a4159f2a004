"""Just enough of Dockerfile and .dockerignore semantics to check our image's invariants without Docker.

``parse_dockerfile`` joins continuation lines, drops comments, splits the file into build stages and
resolves ``${VAR}`` from the ARGs declared before the first FROM. ``DockerIgnore`` applies .dockerignore
patterns the way the Docker CLI does: each pattern is a path glob (``*`` and ``?`` stay inside one path
segment, ``**`` crosses them), a pattern also matches everything under a matching directory, ``!``
re-includes, and the last matching pattern wins.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    args: str  # the rest of the logical line, continuations joined with single spaces
    line: int  # 1-based line where the instruction starts

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form ENTRYPOINT/CMD/RUN, or None for shell form."""
        text = self.args.strip()
        if not text.startswith("["):
            return None
        parsed = json.loads(text)
        if not isinstance(parsed, list) or not all(isinstance(p, str) for p in parsed):
            raise ValueError(f"line {self.line}: exec form must be a JSON array of strings")
        return parsed


@dataclass
class Stage:
    base: str  # image reference after ${VAR} substitution
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def of(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


@dataclass
class Dockerfile:
    global_args: dict[str, str]
    stages: list[Stage]

    def stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

    @property
    def final(self) -> Stage:
        return self.stages[-1]


def _logical_lines(text: str) -> list[tuple[int, str]]:
    lines: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue  # Docker drops comment lines, even between continuation lines
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        lines.append((start, " ".join(p for p in pending if p)))
        pending = []
    if pending:
        lines.append((start, " ".join(p for p in pending if p)))
    return lines


def substitute(text: str, variables: dict[str, str]) -> str:
    """Replace ``$VAR`` / ``${VAR}`` with known values; unknown variables are left as they are."""
    return _VARIABLE.sub(lambda m: variables.get(m.group(1) or m.group(2), m.group(0)), text)


def parse_arg(args: str) -> tuple[str, str | None]:
    """``NAME=default`` or ``NAME`` -> (name, default or None)."""
    name, sep, default = args.strip().partition("=")
    return name.strip(), (default.strip().strip('"') if sep else None)


def parse_dockerfile(path: Path) -> Dockerfile:
    """Parse ``path`` into global ARGs and stages."""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line, content in _logical_lines(path.read_text(encoding="utf-8")):
        keyword, _, args = content.partition(" ")
        instruction = Instruction(keyword.upper(), args.strip(), line)
        if instruction.keyword == "FROM":
            parts = instruction.args.split()
            base = substitute(parts[0], global_args)
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(base=base, name=name))
        elif not stages:
            if instruction.keyword != "ARG":
                raise ValueError(f"line {line}: only ARG may come before the first FROM")
            arg_name, default = parse_arg(instruction.args)
            global_args[arg_name] = default or ""
        else:
            stages[-1].instructions.append(instruction)
    if not stages:
        raise ValueError(f"{path} has no FROM")
    return Dockerfile(global_args=global_args, stages=stages)


@dataclass(frozen=True)
class Copy:
    sources: list[str]
    destination: str
    from_stage: str | None


def parse_copy(instruction: Instruction) -> Copy:
    """Split a COPY into its --from flag, sources and destination (shell form only, as used here)."""
    words = instruction.args.split()
    from_stage = None
    paths: list[str] = []
    for word in words:
        if word.startswith("--from="):
            from_stage = word.split("=", 1)[1]
        elif word.startswith("--"):
            continue
        else:
            paths.append(word)
    if len(paths) < 2:
        raise ValueError(f"line {instruction.line}: COPY needs a source and a destination")
    return Copy(sources=paths[:-1], destination=paths[-1], from_stage=from_stage)


def _glob_to_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if i < len(pattern) and pattern[i] == "/":
                i += 1
                out.append("(?:.*/)?")  # "**/" matches zero or more leading path segments
            else:
                out.append(".*")
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out))


class DockerIgnore:
    """Decides whether a context path is sent to the Docker daemon."""

    def __init__(self, text: str) -> None:
        self.rules: list[tuple[bool, re.Pattern[str]]] = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            pattern = line[1:].strip() if negated else line
            pattern = pattern.strip("/")  # Docker cleans patterns: no leading or trailing slash
            self.rules.append((negated, _glob_to_regex(pattern)))

    def excluded(self, relative_path: str) -> bool:
        """True if ``relative_path`` (POSIX, relative to the context root) is left out of the context."""
        parts = relative_path.strip("/").split("/")
        candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        excluded = False
        for negated, regex in self.rules:
            if any(regex.fullmatch(candidate) for candidate in candidates):
                excluded = not negated
        return excluded
