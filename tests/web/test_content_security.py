"""Nothing from another server: the Content-Security-Policy on pages and the API docs, and
every request a page makes goes to this site."""

from tests.web.conftest import other_origins, record_requests, sign_in


def _csp_complaints(page) -> list[str]:
    complaints: list[str] = []
    page.on("console", lambda message: complaints.append(message.text)
            if "Content Security Policy" in message.text else None)
    return complaints


def test_pages_load_only_from_this_site_under_a_strict_policy(page, live_server):
    urls, complaints = record_requests(page), _csp_complaints(page)
    response = page.goto("/login")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"

    sign_in(page, "guide")
    page.get_by_role("banner").get_by_label("Sök").fill("bygglov")
    page.get_by_role("banner").get_by_role("button", name="Sök").click()
    page.wait_for_url("**/search?q=bygglov")
    page.get_by_role("banner").get_by_label("Status").select_option(label="Borta")
    page.get_by_role("status").filter(has_text="Borta").wait_for(state="attached")
    page.goto("/no-such-page")
    assert any(u.endswith(".js") for u in urls) and any(u.endswith(".css") for u in urls)
    assert other_origins(urls, live_server.url) == []
    assert complaints == []


def test_the_api_docs_are_served_from_this_site(page, live_server):
    urls, complaints = record_requests(page), _csp_complaints(page)
    response = page.goto("/api/v1/docs")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.get_by_role("heading", name="citizencenter").first.wait_for()
    page.get_by_text("/api/v1/cases").first.wait_for()  # the operations are listed
    assert live_server("/api/v1/openapi.json") in urls
    assert other_origins(urls, live_server.url) == []
    assert complaints == []
    html = response.text()
    assert "cdn" not in html.lower() and "https://" not in html


def test_an_unknown_address_is_a_page_for_people_and_problem_json_under_the_api(page):
    response = page.goto("/ingen-sida-alls")
    assert response.status == 404 and "text/html" in response.headers["content-type"]
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert page.get_by_role("heading", level=1).inner_text() == "Något gick fel"
    api = page.request.get("/api/v1/ingen-sida-alls")
    assert api.status == 404 and api.headers["content-type"] == "application/problem+json"
