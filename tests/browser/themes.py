"""Pages in each theme and width an agent uses: light and dark (`prefers-color-scheme`), a
laptop and a 375 px phone. A failing test leaves a screenshot in test-artifacts/."""

from __future__ import annotations

import re

import pytest

from .conftest import ARTIFACTS, LAPTOP

PHONE_375 = {"width": 375, "height": 740}
MODES = {
    "light": (LAPTOP, "light"),
    "dark": (LAPTOP, "dark"),
    "phone": (PHONE_375, "light"),
    "phone-dark": (PHONE_375, "dark"),
}


def themed_page(browser, live_server, request, mode: str):
    viewport, scheme = MODES[mode]
    context = browser.new_context(viewport=viewport, color_scheme=scheme, base_url=live_server.url)
    context.set_default_timeout(5000)
    page = context.new_page()

    def finish():
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
            for number, open_page in enumerate(context.pages):
                open_page.screenshot(path=str(ARTIFACTS / f"{name}-{number}.png"), full_page=True)
        context.close()

    request.addfinalizer(finish)
    return page


def themed_fixture(modes: tuple[str, ...] = ("light", "dark", "phone")):
    """A `page` fixture run once per mode (by default light and dark on a laptop, and a
    375 px phone); a test module assigns it to the name its tests ask for."""

    @pytest.fixture(params=modes)
    def fixture(browser, live_server, request):
        return themed_page(browser, live_server, request, request.param)

    return fixture


EVERY_MODE = ("light", "dark", "phone", "phone-dark")


def box(page, selector: str) -> dict[str, float]:
    """An element's size on screen (rounded to the pixel)."""
    rect = page.locator(selector).first.bounding_box()
    assert rect is not None, f"{selector} is not on screen"
    return {"width": round(rect["width"]), "height": round(rect["height"])}


def fits_the_screen(page) -> bool:
    """Nothing wider than the viewport: no sideways scrolling."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


# WCAG contrast between an element's text and the first opaque background behind it.
CONTRAST_JS = """
(el) => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const fg = rgb(getComputedStyle(el).color);
  let node = el, bg = null;
  while (node && node.nodeType === 1) {
    const value = rgb(getComputedStyle(node).backgroundColor);
    if (value.length === 3 || (value.length === 4 && value[3] > 0.9)) { bg = value; break; }
    node = node.parentElement;
  }
  bg = bg || rgb(getComputedStyle(document.documentElement).backgroundColor);
  if (bg.length < 3) bg = [255, 255, 255];
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}
"""


def contrast(page, selector: str) -> float:
    """The lowest text contrast among the elements `selector` matches (WCAG ratio)."""
    ratios = [loc.evaluate(CONTRAST_JS) for loc in page.locator(selector).all()]
    assert ratios, f"nothing matches {selector}"
    return min(ratios)
