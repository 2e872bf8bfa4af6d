#!/usr/bin/env python3
"""static/description/icon.png of the suite's addons, in the integration base's style.

The integration base's icon (two stacked parcels, orange with white edges on blue) is kept as
drawn; every other addon gets a glyph of what it does in the same colours: a warehouse (3PL),
a delivery van (carriers), a stamped declaration (customs), an invoice (billing), a public
building (the UK's customs service). An addon joining two others shows both glyphs.

    .venv/bin/python setup/icon_gen.py      # (re)draws the icons of the addons listed below
"""

from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
BLUE = (33, 97, 140)
ORANGE = (243, 156, 18)
WHITE = (255, 255, 255)
SIZE = 128
SCALE = 4  # drawn larger, then reduced: smooth edges
EDGE = 2 * SCALE


def _box(x0, y0, x1, y1):
    return [round(v * SCALE) for v in (x0, y0, x1, y1)]


class Glyph:
    """Draws one glyph in the square (x, y, side) of the 128-pixel icon."""

    def __init__(self, draw, x, y, side):
        self.draw, self.x, self.y, self.k = draw, x, y, side / 64

    def p(self, u, v):
        return (round((self.x + u * self.k) * SCALE), round((self.y + v * self.k) * SCALE))

    def rect(self, u0, v0, u1, v1, fill=ORANGE, outline=WHITE):
        self.draw.rectangle(
            [*self.p(u0, v0), *self.p(u1, v1)],
            fill=fill,
            outline=outline,
            width=max(SCALE, round(EDGE * self.k)),
        )

    def poly(self, points, fill=ORANGE):
        self.draw.polygon(
            [self.p(u, v) for u, v in points],
            fill=fill,
            outline=WHITE,
            width=max(SCALE, round(EDGE * self.k)),
        )

    def ellipse(self, u0, v0, u1, v1, fill=ORANGE, outline=WHITE):
        self.draw.ellipse(
            [*self.p(u0, v0), *self.p(u1, v1)],
            fill=fill,
            outline=outline,
            width=max(SCALE, round(EDGE * self.k)),
        )

    def line(self, u0, v0, u1, v1, fill=WHITE, width=2):
        self.draw.line(
            [self.p(u0, v0), self.p(u1, v1)],
            fill=fill,
            width=max(SCALE, round(width * SCALE * self.k)),
        )


def parcels(g):
    g.rect(0, 4, 63, 30)
    g.rect(0, 30, 63, 59)


def warehouse(g):
    g.poly([(2, 24), (32, 4), (62, 24), (62, 60), (2, 60)])
    g.rect(20, 34, 44, 60, fill=BLUE)
    for v in (42, 50):
        g.line(20, v, 44, v)


def van(g):
    g.rect(0, 12, 40, 48)
    g.poly([(40, 22), (54, 22), (63, 34), (63, 48), (40, 48)])
    g.rect(46, 26, 55, 34, fill=BLUE)
    for u in (12, 50):
        g.ellipse(u - 7, 42, u + 7, 56, fill=BLUE)


def declaration(g):
    g.poly([(8, 2), (44, 2), (56, 14), (56, 62), (8, 62)], fill=WHITE)
    for v in (14, 22, 30):
        g.line(16, v, 40 if v == 14 else 48, v, fill=BLUE)
    g.ellipse(26, 36, 54, 62)
    g.line(32, 49, 38, 55)
    g.line(38, 55, 48, 43)


def invoice(g):
    g.poly(
        [(8, 2), (56, 2), (56, 62), (48, 56), (40, 62), (32, 56), (24, 62), (16, 56), (8, 62)],
        fill=WHITE,
    )
    for v in (14, 22, 30):
        g.line(16, v, 48, v, fill=BLUE)
    g.rect(30, 38, 48, 48)


def building(g):
    g.poly([(2, 20), (32, 2), (62, 20)])
    g.rect(4, 54, 60, 62)
    for u in (8, 22, 36, 50):
        g.rect(u, 24, u + 6, 52)


ICONS = {
    "logistics_3pl_connector": [warehouse],
    "logistics_carrier_connector": [van],
    "logistics_customs": [declaration],
    "logistics_billing_events": [invoice],
    "logistics_carrier_3pl": [van, warehouse],
    "logistics_customs_3pl": [declaration, warehouse],
    "logistics_customs_uk_cds": [declaration, building],
    "logistics_customs_landed_costs": [declaration, parcels],
    "logistics_billing_landed_costs": [invoice, parcels],
}


def render(glyphs):
    image = Image.new("RGB", (SIZE * SCALE, SIZE * SCALE), BLUE)
    draw = ImageDraw.Draw(image)
    if len(glyphs) == 1:
        glyphs[0](Glyph(draw, 32, 34, 64))
    else:
        glyphs[0](Glyph(draw, 14, 30, 44))
        glyphs[1](Glyph(draw, 70, 54, 44))
    return image.resize((SIZE, SIZE), Image.LANCZOS)


def main():
    for addon, glyphs in ICONS.items():
        path = ROOT / addon / "static" / "description" / "icon.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        render(glyphs).save(path, optimize=True)
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
