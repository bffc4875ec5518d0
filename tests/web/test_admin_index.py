"""The administration index (/admin): supervisors reach it from the menu, guides do not."""

from tests.web.conftest import assert_accessible, screenshot


def test_supervisor_opens_administration_from_the_menu(supervisor_page):
    supervisor_page.goto("/")
    supervisor_page.get_by_role("navigation").get_by_role("link", name="Administration").click()
    assert supervisor_page.get_by_role("heading", level=1).inner_text() == "Administration"
    assert_accessible(supervisor_page)
    screenshot(supervisor_page, "admin-index")


def test_guide_has_no_administration(guide_page):
    guide_page.goto("/")
    menu = guide_page.get_by_role("navigation")
    assert menu.get_by_role("link", name="Mina ärenden").count() == 1
    assert menu.get_by_role("link", name="Administration").count() == 0
    response = guide_page.goto("/admin")
    assert response.status == 403
