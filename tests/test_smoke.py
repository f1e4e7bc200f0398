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
