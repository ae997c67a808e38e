from __future__ import annotations


def test_the_home_page_speaks_chinese_on_a_phone(phone_page):
    phone_page.goto("/")
    assert phone_page.locator("h1").inner_text() == "有事您说话"
    assert phone_page.get_by_role("link", name="登录").is_visible()
