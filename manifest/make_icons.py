"""Draw the two Teams app icons: a house with a small screen in it.

Run from the repository root after changing the drawing:

    python manifest/make_icons.py

It rewrites manifest/color.png (192x192, full colour) and manifest/outline.png
(32x32, white on a transparent background). Both PNGs are committed, so the
package build needs no Pillow. The shapes are drawn at 16x size on a 32-unit
grid and scaled down once, which gives smooth edges at the small sizes.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent

ACCENT = (0, 97, 110)  # #00616E, the same colour as accentColor in the manifest
SCREEN = (127, 209, 199)  # light teal glass of the small screen
WHITE = (255, 255, 255)

SCALE = 16  # drawing units -> pixels on the large canvas (32 units wide)


def _p(*points: float) -> list[float]:
    """Scale drawing units to pixels of the large canvas."""
    return [v * SCALE for v in points]


def _house_outline_mask() -> Image.Image:
    """The outline icon as a white-on-black mask: roof, walls, a screen inside."""
    size = 32 * SCALE
    mask = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(mask)
    stroke = 2.2 * SCALE
    # Roof: a wide inverted V with rounded joints.
    d.line(_p(2.5, 15.0, 16.0, 3.5, 29.5, 15.0), fill=255, width=round(stroke), joint="curve")
    for x, y in ((2.5, 15.0), (29.5, 15.0), (16.0, 3.5)):
        r = stroke / 2
        d.ellipse((x * SCALE - r, y * SCALE - r, x * SCALE + r, y * SCALE + r), fill=255)
    # Walls and floor.
    d.line(
        _p(6.5, 12.5, 6.5, 28.5, 25.5, 28.5, 25.5, 12.5),
        fill=255,
        width=round(stroke),
        joint="curve",
    )
    # The screen: a solid rounded rectangle with a stand below it.
    d.rounded_rectangle(_p(10.0, 14.5, 22.0, 22.0), radius=1.2 * SCALE, fill=255)
    d.rectangle(_p(15.0, 22.0, 17.0, 24.5), fill=255)
    d.rounded_rectangle(_p(12.5, 24.0, 19.5, 25.8), radius=0.8 * SCALE, fill=255)
    return mask


def make_outline() -> Image.Image:
    """32x32, transparent background, every visible pixel pure white."""
    mask = _house_outline_mask().resize((32, 32), Image.Resampling.LANCZOS)
    icon = Image.new("RGBA", (32, 32), WHITE + (0,))
    icon.putalpha(mask)
    return icon


def make_color() -> Image.Image:
    """192x192 on the accent colour; the symbol stays inside the central safe area."""
    size = 32 * SCALE
    img = Image.new("RGB", (size, size), ACCENT)
    d = ImageDraw.Draw(img)
    # A solid white house, kept within roughly the middle 2/3 of the square.
    d.polygon(_p(16.0, 5.5, 27.0, 14.5, 5.0, 14.5), fill=WHITE)
    d.rounded_rectangle(_p(7.5, 13.0, 24.5, 26.5), radius=0.6 * SCALE, fill=WHITE)
    # The small screen in the accent colour, with light glass and a stand.
    d.rounded_rectangle(_p(10.5, 15.0, 21.5, 21.8), radius=0.9 * SCALE, fill=ACCENT)
    d.rounded_rectangle(_p(11.6, 16.1, 20.4, 20.7), radius=0.4 * SCALE, fill=SCREEN)
    d.rectangle(_p(15.1, 21.8, 16.9, 23.6), fill=ACCENT)
    d.rounded_rectangle(_p(12.8, 23.3, 19.2, 24.6), radius=0.6 * SCALE, fill=ACCENT)
    return img.resize((192, 192), Image.Resampling.LANCZOS)


def main() -> None:
    make_color().save(HERE / "color.png", optimize=True)
    make_outline().save(HERE / "outline.png", optimize=True)
    print(f"Wrote {HERE / 'color.png'} and {HERE / 'outline.png'}")


if __name__ == "__main__":
    main()
