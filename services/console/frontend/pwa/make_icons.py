"""Draws the grid-worker app's icons (a grid with a location pin and 网格), here, from nothing downloaded."""
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

# run from the repository: uv run --frozen python services/console/frontend/pwa/make_icons.py
OUT = Path(__file__).resolve().parents[1] / "public" / "icons"
FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"


def icon(size: int, maskable: bool) -> Image.Image:
    """One icon: the grid, the pin and 网格 on the console's blue (maskable: drawn inside the safe circle)."""
    img = Image.new("RGB", (size, size), "#1d3a6e")
    d = ImageDraw.Draw(img)
    pad = size * (0.2 if maskable else 0.12)  # a maskable icon keeps its drawing in the safe circle
    box = size - 2 * pad
    if not maskable:
        img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        d = ImageDraw.Draw(img)
        d.rounded_rectangle((0, 0, size - 1, size - 1), radius=size * 0.18, fill="#1d3a6e")
    g0, g1 = pad, pad + box * 0.62
    step = (g1 - g0) / 3
    w = max(2, int(size * 0.018))
    for i in range(4):
        d.line((g0 + i * step, g0, g0 + i * step, g1), fill="#9fc0ff", width=w)
        d.line((g0, g0 + i * step, g1, g0 + i * step), fill="#9fc0ff", width=w)
    # the pin, over the grid's centre cell
    cx, cy, r = g0 + 1.5 * step, g0 + 1.3 * step, step * 0.75
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill="#e8483b")
    d.polygon([(cx - r * 0.8, cy + r * 0.55), (cx + r * 0.8, cy + r * 0.55), (cx, cy + r * 2.0)], fill="#e8483b")
    d.ellipse((cx - r * 0.38, cy - r * 0.38, cx + r * 0.38, cy + r * 0.38), fill="#ffffff")
    font = ImageFont.truetype(FONT, int(box * 0.3))
    d.text((pad + box, pad + box), "网格", font=font, fill="#ffffff", anchor="rb")
    return img


for size in (192, 512):
    icon(size, False).save(f"{OUT}/icon-{size}.png", optimize=True)
icon(512, True).save(f"{OUT}/icon-maskable-512.png", optimize=True)
icon(180, True).save(f"{OUT}/apple-touch-icon.png", optimize=True)
