import pytest


@pytest.mark.django_db
def test_login_page_renders_with_labels(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'<label for="id_login">' in response.content


@pytest.mark.django_db
def test_calendar_requires_login(client):
    response = client.get("/calendar/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_every_page_names_its_icon_so_browsers_do_not_ask_for_a_missing_favicon(client, admin_client):
    # Without a <link rel="icon">, a browser asks for /favicon.ico on every page: a 404 in its console.
    from django.contrib.staticfiles import finders
    from django.templatetags.static import static

    link = f'<link rel="icon" href="{static("rounds/favicon.svg")}" type="image/svg+xml">'
    assert finders.find("rounds/favicon.svg")
    assert link in client.get("/accounts/login/").content.decode()
    assert link in client.get("/no-such-page/").content.decode()  # the error pages
    assert link in admin_client.get("/admin/").content.decode()
