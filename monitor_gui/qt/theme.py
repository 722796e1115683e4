"""Colours for the monitor: light and dark variants that follow the system palette."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from PySide6.QtGui import QColor, QGuiApplication, QPalette


@dataclass(frozen=True)
class Theme:
    """Every colour the custom-painted views use, so both palettes stay consistent."""

    dark: bool
    background: QColor
    surface: QColor
    text: QColor
    muted: QColor
    grid: QColor
    edge: QColor
    accent: QColor
    flash: QColor
    error: QColor
    slow: QColor
    sender: QColor
    signal: QColor
    receiver: QColor

    def lane_colour(self, name: str) -> QColor:
        """A stable colour per name (crc32, not hash(): Python salts str hashes per run)."""
        hue = zlib.crc32(name.encode("utf-8", "replace")) % 360
        # Skip the red band so lane colours never look like errors.
        if hue < 20 or hue > 340:
            hue = (hue + 40) % 360
        return QColor.fromHsl(hue, 150 if self.dark else 170, 150 if self.dark else 120)


LIGHT = Theme(
    dark=False,
    background=QColor("#fbfbfd"),
    surface=QColor("#ffffff"),
    text=QColor("#1f2328"),
    muted=QColor("#6e7781"),
    grid=QColor("#e6e8eb"),
    edge=QColor("#8c959f"),
    accent=QColor("#0969da"),
    flash=QColor("#1f9bf0"),
    error=QColor("#cf222e"),
    slow=QColor("#d4790b"),
    sender=QColor("#e7f0fb"),
    signal=QColor("#efe9fb"),
    receiver=QColor("#e8f6ec"),
)

DARK = Theme(
    dark=True,
    background=QColor("#16181d"),
    surface=QColor("#1f232a"),
    text=QColor("#e6edf3"),
    muted=QColor("#8b949e"),
    grid=QColor("#2b3038"),
    edge=QColor("#6e7681"),
    accent=QColor("#58a6ff"),
    flash=QColor("#79c0ff"),
    error=QColor("#f85149"),
    slow=QColor("#e3b341"),
    sender=QColor("#1d2b3d"),
    signal=QColor("#2a2340"),
    receiver=QColor("#1c3326"),
)


def system_is_dark() -> bool:
    """True when the platform (or the application palette) is dark."""
    app = QGuiApplication.instance()
    if app is None:
        return False
    hints = QGuiApplication.styleHints()
    scheme = hints.colorScheme()
    if scheme.name == "Dark":
        return True
    if scheme.name == "Light":
        return False
    # Unknown scheme (e.g. offscreen): judge by the window colour's lightness.
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def current_theme() -> Theme:
    return DARK if system_is_dark() else LIGHT


def dark_palette() -> QPalette:
    """A dark palette for the standard widgets, for platforms that report a dark scheme
    but hand Qt a light palette (e.g. some Linux desktops with the Fusion style)."""
    t = DARK
    p = QPalette()
    role = QPalette.ColorRole
    for r, c in ((role.Window, t.surface), (role.WindowText, t.text), (role.Base, t.background),
                 (role.AlternateBase, t.surface), (role.Text, t.text), (role.Button, t.surface),
                 (role.ButtonText, t.text), (role.ToolTipBase, t.surface),
                 (role.ToolTipText, t.text), (role.Highlight, t.accent),
                 (role.HighlightedText, QColor("#0d1117")), (role.PlaceholderText, t.muted),
                 (role.Mid, t.grid), (role.Link, t.accent)):
        p.setColor(r, c)
    p.setColor(QPalette.ColorGroup.Disabled, role.Text, t.muted)
    p.setColor(QPalette.ColorGroup.Disabled, role.ButtonText, t.muted)
    return p


def follow_system_scheme(app: QGuiApplication) -> None:
    """Give the standard widgets a dark palette when the system is dark but Qt's is light."""
    scheme = QGuiApplication.styleHints().colorScheme().name
    light_palette = app.palette().color(QPalette.ColorRole.Window).lightness() >= 128
    if scheme == "Dark" and light_palette:
        app.setPalette(dark_palette())
    elif scheme == "Light" and not light_palette:
        app.setPalette(QPalette())  # the platform's default (light) palette


def blend(a: QColor, b: QColor, t: float) -> QColor:
    """Linear mix of two colours, t=0 -> a, t=1 -> b."""
    t = max(0.0, min(1.0, t))
    return QColor(
        round(a.red() + (b.red() - a.red()) * t),
        round(a.green() + (b.green() - a.green()) * t),
        round(a.blue() + (b.blue() - a.blue()) * t),
        round(a.alpha() + (b.alpha() - a.alpha()) * t),
    )


def short_signal(name: str) -> str:
    """The last dotted component ("django.db.models.signals.post_save" -> "post_save")."""
    return name.rsplit(".", 1)[-1] or name


def format_ns(ns: float) -> str:
    """Human duration: 850 ns, 12.3 µs, 4.56 ms, 1.23 s."""
    if ns < 1_000:
        return f"{ns:.0f} ns"
    if ns < 1_000_000:
        return f"{ns / 1e3:.1f} µs"
    if ns < 1_000_000_000:
        return f"{ns / 1e6:.2f} ms"
    return f"{ns / 1e9:.2f} s"


def format_span(ns: float) -> str:
    """A time window: as ``format_ns`` up to a minute, then minutes, hours, days, years."""
    seconds = ns / 1e9
    for size, unit in ((365.25 * 86_400, "years"), (86_400, "days"), (3_600, "h"),
                       (60, "min")):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return format_ns(ns)


ELLIPSIS = "…"


def elide_dotted(text: str, width: float, measure: Callable[[str], float]) -> str:
    """``text`` fitted into ``width`` keeping its end: the class or function name.

    Leading tree marks ("   └ ") and an instance's "<" stay. A dotted name first has its
    packages shortened to initials from the left ("d.c.handlers.wsgi.WSGIHandler"), then
    loses whole leading components ("…wsgi.WSGIHandler"); only a last component too long
    on its own is cut character by character, still from the left. Never in the middle.
    """
    if measure(text) <= width:
        return text
    body = text.lstrip(" └<")
    prefix = text[:len(text) - len(body)]
    parts = body.split(".")
    # Initials for the packages, never for the module and name (the last two).
    for i in range(1, max(1, len(parts) - 1)):
        candidate = prefix + ".".join([p[:1] for p in parts[:i]] + parts[i:])
        if measure(candidate) <= width:
            return candidate
    short = [p[:1] for p in parts[:-2]] + parts[-2:] if len(parts) > 2 else parts
    for i in range(1, len(short)):
        candidate = prefix + ELLIPSIS + ".".join(short[i:])
        if measure(candidate) <= width:
            return candidate
    last = parts[-1]
    for i in range(1, len(last)):
        candidate = prefix + ELLIPSIS + last[i:]
        if measure(candidate) <= width:
            return candidate
    return prefix + ELLIPSIS + last[-1:] if last else prefix


def short_receiver(label: str) -> str:
    """"pkg.mod.func" -> "func"; "pkg.AuditLog.on_login" keeps the class name."""
    parts = label.split(".")
    if len(parts) >= 2 and parts[-2][:1].isupper():
        return ".".join(parts[-2:])
    return parts[-1]


def html_text(text: str) -> str:
    """Untrusted text for a rich-text context: escaped, newlines as <br>."""
    return escape(text).replace("\n", "<br>")


def tooltip(text: str) -> str:
    """A tooltip that Qt renders literally. Plain strings that merely look like HTML would
    otherwise be rendered as rich text (Qt::mightBeRichText), and names are untrusted."""
    return f"<qt>{html_text(text)}</qt>"
