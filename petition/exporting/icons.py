"""The site's favicon and touch icon, drawn from its logo (PNG, WebP, JPEG) or, without one
(or with an SVG logo, which Pillow cannot draw), generated: the first letter of the site's
name on the site's colour. Plain values in, bytes out: the view finds the logo and names the
site."""
from __future__ import annotations

import logging
import warnings
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

logger = logging.getLogger(__name__)

TOUCH_SIZE = 180  # what iOS asks for; Android takes it too
FAVICON_SIZES = ((16, 16), (32, 32), (48, 48))
_MASTER = 256  # drawn at this size, then scaled down
_ACCENT, _WHITE = "#8a1c1c", "#ffffff"
_RASTER_LOGOS = {".png", ".webp", ".jpg", ".jpeg"}


def favicon(logo: Path | None, stamp: float, site_name: str, bold_font: Path | None) -> bytes:
    """favicon.ico (16, 32 and 48 pixels). `stamp`: the logo's modification time, so that a
    new logo is drawn anew."""
    return _favicon(logo, stamp, site_name, bold_font)


def touch_icon(logo: Path | None, stamp: float, site_name: str, bold_font: Path | None) -> bytes:
    """apple-touch-icon.png, 180 × 180, opaque (iOS fills transparency with black)."""
    return _touch_icon(logo, stamp, site_name, bold_font)


@lru_cache(maxsize=8)
def _favicon(logo: Path | None, stamp: float, site_name: str, bold_font: Path | None) -> bytes:
    master = _master(logo, site_name, bold_font, opaque=False)
    out = BytesIO()
    master.save(out, format="ICO", sizes=list(FAVICON_SIZES))
    return out.getvalue()


@lru_cache(maxsize=8)
def _touch_icon(logo: Path | None, stamp: float, site_name: str, bold_font: Path | None) -> bytes:
    master = _master(logo, site_name, bold_font, opaque=True)
    out = BytesIO()
    master.resize((TOUCH_SIZE, TOUCH_SIZE), Image.Resampling.LANCZOS).save(out, format="PNG")
    return out.getvalue()


def _master(logo: Path | None, site_name: str, bold_font: Path | None,
            opaque: bool) -> Image.Image:
    if logo is not None and logo.suffix.lower() in _RASTER_LOGOS:
        drawn = _from_logo(logo, opaque)
        if drawn is not None:
            return drawn
    return _generated(site_name, bold_font)


def _from_logo(logo: Path, opaque: bool) -> Image.Image | None:
    """The logo fitted into a square (its proportions kept), or None if it cannot be read."""
    try:
        with warnings.catch_warnings():
            # A logo far larger than any icon is read at a reduced size, not refused.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(logo) as opened:
                opened.draft("RGB", (_MASTER, _MASTER))  # JPEG: decode small
                image = opened.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        logger.warning("site icon: the logo %s cannot be read (%s); a generated icon instead",
                       logo.name, type(error).__name__)
        return None
    image.thumbnail((_MASTER, _MASTER), Image.Resampling.LANCZOS)
    square = Image.new("RGBA", (_MASTER, _MASTER), _WHITE if opaque else (255, 255, 255, 0))
    square.alpha_composite(image, ((_MASTER - image.width) // 2,
                                   (_MASTER - image.height) // 2))
    return square.convert("RGB") if opaque else square


def _generated(site_name: str, bold_font: Path | None) -> Image.Image:
    """The site's first letter, white on the site's colour."""
    image = Image.new("RGB", (_MASTER, _MASTER), _ACCENT)
    initial = next((c for c in site_name if c.isalnum()), "")
    if initial and bold_font is not None:
        font = ImageFont.truetype(str(bold_font), 176)
        ImageDraw.Draw(image).text((_MASTER / 2, _MASTER / 2), initial.upper(), font=font,
                                   fill=_WHITE, anchor="mm")
    return image
