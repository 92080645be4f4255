def test_login_page_renders_in_chinese(client, db):
    resp = client.get("/login/")
    assert resp.status_code == 200
    assert "党建量化考评与对标管理平台" in resp.content.decode()
