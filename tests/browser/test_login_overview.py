"""Log in through the real form in headless Chromium and see the overview's charts drawn."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

import web_support as support

from salescope.services.workspace import Workspace
from salescope.web.app import create_app

pytestmark = [
    pytest.mark.browser,
]

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Counts the chart canvas's pixels that are not background; an undrawn canvas has none.
INK_PIXELS = """(canvas) => {
  const ctx = canvas.getContext('2d');
  const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  let ink = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 0 && (data[i] < 240 || data[i + 1] < 240 || data[i + 2] < 240)) ink++;
  }
  return ink;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[support.Server]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (make browser)")
    ws = Workspace(tmp_path_factory.mktemp("browser") / "ws")
    support.seed(ws)
    with support.cheap_hashing():
        support.add_users(ws)
        with support.running(create_app(ws)) as srv:
            yield srv
    ws.close()


def test_login_form_leads_to_drawn_charts(server: support.Server) -> None:
    from playwright.sync_api import sync_playwright

    username, password, _ = support.USERS["analyst"]
    problems: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            page.goto(server.url + "/")
            assert page.url.startswith(server.url + "/login"), "an anonymous visitor is sent to the login form"
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_url(server.url + "/")
            # ECharts marks the container when its first render (and animation) has finished.
            page.wait_for_selector("#chart-revenue[data-drawn=true]", timeout=30_000)
            page.wait_for_selector("#chart-segments[data-drawn=true]", timeout=30_000)
            for chart in ("#chart-revenue", "#chart-segments"):
                ink = page.eval_on_selector(f"{chart} canvas", INK_PIXELS)
                assert ink > 500, f"{chart} canvas is blank ({ink} drawn pixels)"
            assert "销售概览" in page.inner_text("h1")  # zh-CN is the default language
            page.screenshot(path=str(ARTIFACTS / "overview-zh.png"), full_page=True)

            # Clicking the pie's slice at twelve o'clock (ECharts starts the first slice there, clockwise)
            # opens the customer list filtered to that segment.
            first = json.loads(page.inner_text("#overview-data"))["segments"][0]
            box = page.locator("#chart-segments").bounding_box()
            assert box is not None
            ring = min(box["width"], box["height"]) / 2 * (0.38 + 0.68) / 2  # mid-radius of the donut
            page.mouse.click(box["x"] + box["width"] * 0.5 + 3, box["y"] + box["height"] * 0.42 - ring)
            page.wait_for_url(f"{server.url}/customers?segment={first['segment']}")
            assert page.locator("#segment option[selected]").get_attribute("value") == first["segment"]
            page.screenshot(path=str(ARTIFACTS / "customers-segment.png"), full_page=True)
            page.go_back()
            page.wait_for_selector("#chart-revenue[data-drawn=true]", timeout=30_000)

            page.click("text=English")
            page.wait_for_selector("#chart-revenue[data-drawn=true]", timeout=30_000)
            assert page.inner_text("h1") == "Sales overview"
            page.screenshot(path=str(ARTIFACTS / "overview-en.png"), full_page=True)
        finally:
            browser.close()
    assert problems == []
