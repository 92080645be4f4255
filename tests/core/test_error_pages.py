def test_the_404_page_is_chinese_and_keeps_the_layout(client, company):
    client.force_login(company.secretary_b)
    resp = client.get(f"/orgs/{company.branch_a.pk}/")
    assert resp.status_code == 404
    body = resp.content.decode()
    assert "页面不存在，或您无权访问" in body and "返回首页" in body
    assert company.branch_a.name not in body
