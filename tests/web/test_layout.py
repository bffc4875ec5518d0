"""The layout at 320 px and at 200 % zoom, and the keyboard's way in."""

import pytest

from tests.web.conftest import screenshot, sign_in


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("width, name", [(320, "320px"), (640, "zoom-200")])
def test_pages_fit_narrow_screens_without_sideways_scrolling(new_page, width, name):
    # 200 % zoom of a 1280 px window lays out like a 640 px one.
    page = new_page(viewport={"width": width, "height": 640})
    page.goto("/login")
    assert _overflow(page) <= 0
    sign_in(page, "guide")
    assert _overflow(page) <= 0
    assert page.get_by_role("banner").get_by_label("Sök").is_visible()
    screenshot(page, f"home-{name}")


def test_the_first_tab_stop_skips_to_the_main_content_and_focus_is_visible(guide_page):
    guide_page.keyboard.press("Tab")
    skip = guide_page.get_by_role("link", name="Hoppa till huvudinnehållet")
    assert skip.evaluate("element => element === document.activeElement")
    box = skip.bounding_box()
    assert box and box["y"] >= 0  # shown on focus, hidden above the page otherwise
    outline = skip.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline == "solid"
    guide_page.keyboard.press("Enter")
    assert guide_page.evaluate("document.activeElement.id") == "main"
