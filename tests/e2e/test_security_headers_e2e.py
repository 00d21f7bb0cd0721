"""The layout's own scripts run under the enforced Content-Security-Policy: the
inline script that marks the page as having JavaScript and the module that
starts GOV.UK Frontend both carry the response's nonce. (Any violation fails
every browser test, see conftest.py; this one also checks the scripts ran.)"""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_layout_scripts_run_and_start_govuk_frontend(live_server, page):
    response = page.goto(f"{live_server.url}/courses/")
    assert "'nonce-" in response.headers["content-security-policy"]

    body = page.locator("body")
    expect(body).to_have_class(
        "govuk-template__body js-enabled govuk-frontend-supported"
    )
    # initAll() marks each component it has started.
    expect(page.locator(".govuk-skip-link")).to_have_attribute(
        "data-govuk-skip-link-init", ""
    )
    expect(page.locator(".govuk-service-navigation")).to_have_attribute(
        "data-govuk-service-navigation-init", ""
    )
