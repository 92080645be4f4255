"""GET /healthz/: "ok" for the load balancer, with no database query, no session read or write and nothing about
the server, whoever asks (a signed-in browser too), also over plain HTTP when HTTPS is enforced."""

from django.urls import reverse

from dangjian.core.health import healthz


def test_healthz_says_ok_and_nothing_else(db, client, django_assert_num_queries):
    with django_assert_num_queries(0):
        resp = client.get("/healthz/")
    assert reverse("healthz") == "/healthz/"
    assert resp.status_code == 200 and resp.content == b"ok"
    assert resp["Content-Type"].startswith("text/plain") and resp["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in resp.headers and "Server" not in resp.headers
    assert resp["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware still answers for it


def test_a_signed_in_session_is_neither_read_nor_saved(client, company, django_assert_num_queries):
    client.force_login(company.staff)
    with django_assert_num_queries(0):
        resp = client.get("/healthz/")
    assert resp.status_code == 200 and resp.content == b"ok" and not resp.cookies


def test_only_get_and_head(db, client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.head("/healthz/").status_code == 200
        assert client.post("/healthz/").status_code == 405
        assert client.put("/healthz/").status_code == 405


def test_plain_http_is_not_redirected_when_https_is_enforced(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz/").status_code == 200
    assert client.get("/login/").status_code == 301


def test_the_view_works_without_the_middleware(rf):
    resp = healthz(rf.get("/healthz/"))
    assert resp.status_code == 200 and resp.content == b"ok"
