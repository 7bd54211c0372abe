"""Sizes against platform limits, the biggest contributors, and the error when over."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hookline.adapters.packaging._spec import Limit
from hookline.errors import HooklineError

__all__ = ["BundleResult", "BundleTooLarge", "LimitCheck", "check_limits", "contributors", "human"]


class BundleTooLarge(HooklineError):
    """A bundle is over a hard platform limit; the message lists its biggest contributors."""


@dataclass(frozen=True, slots=True)
class LimitCheck:
    limit: Limit
    size: int

    @property
    def over(self) -> bool:
        return self.size > self.limit.bytes

    @property
    def percent(self) -> float:
        return 100.0 * self.size / self.limit.bytes


@dataclass(frozen=True)
class BundleResult:
    """One built bundle, as reported by ``hookline package`` (and its ``--json``)."""

    cloud: str
    role: str
    path: Path
    sha256: str
    files: int
    unzipped: int
    zipped: int
    checks: tuple[LimitCheck, ...]
    pins: Mapping[str, str]
    top: tuple[tuple[str, int], ...]
    notes: tuple[str, ...] = ()
    smoke: str = ""
    smoke_seconds: float | None = None
    slim: Mapping[str, object] = field(default_factory=dict)
    manifest: Mapping[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "cloud": self.cloud,
            "role": self.role,
            "path": str(self.path),
            "sha256": self.sha256,
            "files": self.files,
            "unzipped_bytes": self.unzipped,
            "zipped_bytes": self.zipped,
            "limits": [
                {
                    "name": c.limit.name,
                    "measure": c.limit.measure,
                    "limit_bytes": c.limit.bytes,
                    "size_bytes": c.size,
                    "percent": round(c.percent, 1),
                    "hard": c.limit.hard,
                    "over": c.over,
                }
                for c in self.checks
            ],
            "pins": dict(self.pins),
            "top": [list(t) for t in self.top],
            "notes": list(self.notes),
            "smoke": self.smoke,
            "smoke_seconds": self.smoke_seconds,
            "slim": dict(self.slim),
            "manifest": dict(self.manifest),
        }


def human(n: float) -> str:
    """``262144000`` -> ``'250.0 MB'`` (binary megabytes, as the platforms count)."""
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


def _group(name: str, site_prefix: str) -> str:
    """The package an archive entry belongs to: its first path part inside the site dir,
    with ``X.libs`` and ``X-1.2.dist-info`` folded into ``X``."""
    rel = name[len(site_prefix) :] if site_prefix and name.startswith(site_prefix) else name
    first = rel.split("/", 1)[0]
    if "/" not in rel:
        first = first.split(".", 1)[0] if first.endswith((".py", ".so")) else first
    for suffix in (".libs", ".dist-info", ".data"):
        if first.endswith(suffix):
            first = first[: -len(suffix)].split("-", 1)[0]
    return first.lower().replace("-", "_")


def contributors(
    sizes: Mapping[str, int], site_prefix: str = "", n: int = 8
) -> tuple[tuple[str, int], ...]:
    """The ``n`` biggest packages by unzipped size: ``((name, bytes), ...)``."""
    totals: dict[str, int] = {}
    for name, size in sizes.items():
        key = _group(name, site_prefix)
        totals[key] = totals.get(key, 0) + size
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(ranked[:n])


def check_limits(
    limits: Sequence[Limit], *, zipped: int | None, unzipped: int
) -> tuple[LimitCheck, ...]:
    """Compare sizes with limits (``zipped=None``: the archive is not written yet)."""
    out = []
    for limit in limits:
        size = unzipped if limit.measure == "unzipped" else zipped
        if size is not None:
            out.append(LimitCheck(limit, size))
    return tuple(out)


def raise_if_over(
    bundle: str,
    checks: Sequence[LimitCheck],
    top: Sequence[tuple[str, int]],
    notes: Sequence[str] = (),
) -> None:
    """:raises BundleTooLarge: a hard limit is exceeded, naming the biggest packages."""
    for check in checks:
        if check.limit.hard and check.over:
            biggest = ", ".join(f"{name} {human(size)}" for name, size in top)
            extra = "".join(f"\n  note: {n}" for n in notes)
            raise BundleTooLarge(
                f"{bundle}: {human(check.size)} {check.limit.measure} is over the limit "
                f"'{check.limit.name}' ({human(check.limit.bytes)}).\n"
                f"  biggest contributors: {biggest}{extra}",
                hint=f"{check.limit.advice}; see docs/packaging.md#when-a-bundle-is-too-large",
            )


def format_result(result: BundleResult) -> str:
    """A few human lines for one bundle."""
    image = result.manifest.get("image") if result.manifest else None
    if isinstance(image, Mapping):
        lines = [
            f"{result.path}  {result.files} files in the bundle layers, "
            f"{human(result.unzipped)} uncompressed image, {human(result.zipped)} archive  "
            f"{image.get('digest')}"
        ]
    else:
        lines = [
            f"{result.path}  {result.files} files, {human(result.unzipped)} unzipped, "
            f"{human(result.zipped)} zipped  sha256:{result.sha256[:16]}"
        ]
    if result.manifest:
        lines.append(
            f"  manifest: {result.path.parent / (result.role + '.manifest.json')} "
            f"(runtime {result.manifest.get('runtime')}, "
            f"{result.manifest.get('architecture')})"
        )
    for c in result.checks:
        state = ("OVER" if c.limit.hard else "over: see note") if c.over else "ok"
        lines.append(
            f"  {c.percent:5.1f}% of {human(c.limit.bytes)} {c.limit.measure} "
            f"({c.limit.name}): {state}"
        )
        if c.over and not c.limit.hard:
            lines.append(f"    note: {c.limit.advice}")
    if result.top:
        lines.append("  biggest: " + ", ".join(f"{n} {human(s)}" for n, s in result.top[:6]))
    for note in result.notes:
        lines.append(f"  note: {note}")
    if result.smoke:
        lines.append(f"  smoke test: {result.smoke}")
    return "\n".join(lines)
