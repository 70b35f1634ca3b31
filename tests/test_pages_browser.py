"""The consumer pages and the dashboard in Debian's Chromium (Selenium, /usr/bin/chromedriver).

One server (uvicorn in a thread) and one browser for the module. In CI a browser that cannot
start is a failure, never a skip. Screenshots of each page at desktop and phone width go to a
temporary folder, or to ``$C2M_SCREENSHOTS`` to refresh the docs' ones
(``C2M_SCREENSHOTS=docs/screenshots pytest tests/test_pages_browser.py``): a test run leaves the
checkout as it found it.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest
from components import ensure_installed, in_ci
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from c2m_core import C2M  # noqa: E402
from c2m_core.server import create_app  # noqa: E402
from c2m_core.server.tokens import create_token  # noqa: E402

HOSTILE = "<script>alert(1)</script> {{ 7*7 }} \u202eevil"
CHROMIUM = os.environ.get("C2M_CHROMIUM", "/usr/bin/chromium")
DRIVER = os.environ.get("C2M_CHROMEDRIVER", "/usr/bin/chromedriver")
WAIT = 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    import uvicorn

    folder = tmp_path_factory.mktemp("pages")
    app = C2M(folder / "c2m.db")
    app.campaigns.create("tv1", "tv", title="Your TV")
    app.campaigns.advance("tv1")
    configurations = app.engine("tv").sample(3, seed=7)
    for n in range(30):
        app.wishes.submit("tv1", customer=f"c{n}", configuration=configurations[n % 3], quantity=5)
    app.campaigns.configure("tv1", moq=10, max_variants=3)
    brand, _ = create_token(app, "brand-team", ["brand"])
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(app, webhooks=False, demo_login=True),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:  # a server that cannot start ends its thread
        assert thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    yield {"url": f"http://127.0.0.1:{port}", "app": app, "brand": brand}
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser():
    problem = ensure_installed(
        ["chromium", "chromium-driver"], lambda: Path(CHROMIUM).exists() and Path(DRIVER).exists()
    )
    if problem is not None:
        if in_ci():
            pytest.fail(f"Chromium is required in CI: {problem}", pytrace=False)
        pytest.skip(f"Chromium not available: {problem}")
    profile = tempfile.mkdtemp(prefix="c2m-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--lang=en-US",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait(driver, css):
    return WebDriverWait(driver, WAIT).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("C2M_SCREENSHOTS")
    return Path(folder) if folder else tmp_path_factory.mktemp("screenshots")


def _shoot(driver, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for width, label in ((1280, "desktop"), (390, "phone")):
        driver.set_window_size(width, 900)
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(width, min(max(height + 120, 600), 4000))
        driver.save_screenshot(str(folder / f"{name}-{label}.png"))
    driver.set_window_size(1280, 900)


UNLABELLED = """
const bad = [];
for (const el of document.querySelectorAll('input, select, textarea, button')) {
  if (el.type === 'hidden') continue;
  const text = (el.labels && el.labels.length ? el.labels[0].textContent : '')
    || el.getAttribute('aria-label') || (el.tagName === 'BUTTON' ? el.textContent : '')
    || (el.getAttribute('aria-labelledby') ? 'x' : '');
  if (!text.trim()) bad.push(el.outerHTML.slice(0, 120));
}
return bad;
"""


def _accessible(driver):
    assert driver.execute_script(UNLABELLED) == []
    assert driver.execute_script("return document.documentElement.lang") in ("en", "zh-CN")


def _inert(driver):
    """The hostile text shows as text: no script ran, no template evaluated."""
    assert driver.execute_script("return window.__pwned === undefined")
    source = driver.page_source
    assert "<script>alert(1)</script>" not in source
    assert " 49 " not in driver.find_element(By.TAG_NAME, "body").text


def _shown_as_text(driver, css, count=1):
    """The hostile text appears, as the characters typed, in at least ``count`` elements."""
    texts = [e.get_attribute("textContent") for e in driver.find_elements(By.CSS_SELECTOR, css)]
    assert len([t for t in texts if HOSTILE.strip() in t]) >= count, texts


def _dashboard_action(driver, url, name, **fields):
    driver.get(f"{url}/dashboard/tv1")
    for field, value in fields.items():
        element = _wait(driver, f"#{field}")
        if element.tag_name == "select":
            from selenium.webdriver.support.ui import Select

            Select(element).select_by_visible_text(value)
        else:
            element.clear()
            element.send_keys(value)
    _wait(driver, f"#action-{name}").click()
    assert _wait(driver, "#confirm-text").text
    _wait(driver, "#confirm").click()
    return _wait(driver, "#message").text


def test_a_campaign_through_the_pages(site, browser, shots):
    url, app, driver = site["url"], site["app"], browser

    # A consumer signs in (demo) with a hostile name and configures a TV.
    driver.get(f"{url}/c/tv1")
    _wait(driver, "#demo-name").send_keys(HOSTILE)
    driver.find_element(By.CSS_SELECTOR, ".identity button").click()
    _wait(driver, "#configurator")
    _accessible(driver)
    _shoot(driver, shots, "configure")
    assert not driver.find_elements(By.CSS_SELECTOR, ".option.unavailable")
    driver.find_element(By.CSS_SELECTOR, "label[for='opt-size-65-oled']").click()
    reason = WebDriverWait(driver, WAIT).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".option.unavailable .reason")
    )[0]
    assert "unavailable" in reason.text and reason.find_elements(By.CSS_SELECTOR, ".rule")
    count = int(driver.find_element(By.ID, "count").text.replace(",", ""))
    assert count == app.engine("tv").count({"size": "65-oled"})
    note = driver.find_element(By.ID, "note")
    note.send_keys(HOSTILE)
    driver.find_element(By.ID, "submit-wish").click()
    message = _wait(driver, "#message").text
    assert "stored" in message
    _inert(driver)
    assert "{{ 7*7 }}" in driver.find_element(By.ID, "note").get_attribute("value")
    wish = app.wishes.get("tv1", int("".join(ch for ch in message if ch.isdigit())))
    assert wish.note == HOSTILE and wish.customer == HOSTILE

    # The brand signs in to the dashboard, aggregates and opens the vote.
    driver.get(f"{url}/dashboard")
    _wait(driver, "#token").send_keys(site["brand"])
    driver.find_element(By.CSS_SELECTOR, "form button").click()
    _wait(driver, "#campaigns")
    _dashboard_action(driver, url, "aggregate")
    _dashboard_action(driver, url, "advance")
    assert _wait(driver, "#stage").text == "vote"
    _dashboard_action(driver, url, "open_vote", method="schulze")
    _accessible(driver)
    _inert(driver)
    _shoot(driver, shots, "dashboard")

    # The consumer ranks by keyboard alone and votes; re-casting shows the ballot replaced.
    driver.get(f"{url}/c/tv1/vote")
    first = _wait(driver, "#ranking li").get_attribute("data-id")
    _accessible(driver)
    down = driver.find_element(
        By.CSS_SELECTOR, f"#ranking li[data-id='{first}'] button[value^='down']"
    )
    driver.execute_script("arguments[0].focus()", down)
    down.send_keys(Keys.ENTER)
    order = [
        li.get_attribute("data-id") for li in driver.find_elements(By.CSS_SELECTOR, "#ranking li")
    ]
    assert order[1] == first
    _shoot(driver, shots, "vote")
    driver.find_element(By.ID, "cast").click()
    assert _wait(driver, "#message").text
    driver.find_element(By.ID, "cast").click()
    assert _wait(driver, "#replaced").text
    assert app.voting.ballot("tv1", HOSTILE) is not None
    _inert(driver)

    # The brand closes the vote and opens the pre-sale.
    _dashboard_action(driver, url, "close_vote")
    _dashboard_action(driver, url, "advance")
    _dashboard_action(driver, url, "open_presale")

    # The consumer double-clicks the pledge button once: one pledge.
    driver.get(f"{url}/c/tv1/presale")
    button = _wait(driver, "form.pledge button")
    _accessible(driver)
    _shoot(driver, shots, "presale")
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).double_click(button).perform()
    _wait(driver, "#my-pledges")
    mine = [p for p in app.presale.pledges("tv1") if p.customer == HOSTILE]
    assert len(mine) == 1
    assert len(driver.find_elements(By.CSS_SELECTOR, "#my-pledges tbody tr")) == 1
    _inert(driver)

    # The dashboard shows everything inert, the latest wishes' consumer text included.
    driver.get(f"{url}/dashboard/tv1")
    _wait(driver, "#report")
    _inert(driver)
    _shown_as_text(driver, "#recent-wishes bdi", count=2)

    # The same pages in Chinese: the hostile text stays text there too.
    agent = driver.execute_script("return navigator.userAgent")
    driver.execute_cdp_cmd(
        "Emulation.setUserAgentOverride", {"userAgent": agent, "acceptLanguage": "zh-CN,zh"}
    )
    try:
        for path, shown in (
            ("/c/tv1/configure", "#signed-in bdi"),
            ("/c/tv1/vote", "#signed-in bdi"),
            ("/c/tv1/presale", "#signed-in bdi"),
            ("/dashboard/tv1", "#recent-wishes bdi"),
        ):
            driver.get(url + path)
            _wait(driver, "main")
            assert driver.execute_script("return document.documentElement.lang") == "zh-CN"
            _inert(driver)
            _shown_as_text(driver, shown)
        assert "最新愿望" in driver.find_element(By.ID, "recent-wishes").text
    finally:
        driver.execute_cdp_cmd(
            "Emulation.setUserAgentOverride", {"userAgent": agent, "acceptLanguage": "en-US,en"}
        )
