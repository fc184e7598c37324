"""A group leader records a home visit and a group activity on a 375 px phone, measured.

Runs outside the unit suite (pytest does not collect this file): it drives the system
Chromium through Playwright against a running server with the demo county, signs in as the
demo group leader (who lands on the start page with this month's duties), and records:
- a home visit: 记录入户随访, tap a household of the group, tap a purpose, 保存;
- a group activity: 记录小组活动, tap 宣传, tap a theme, tap two members, 保存.
Each is timed from the tap on the start page's button to the saved record's page and its
taps counted; targets: under 30 s and at most 6 taps (the date is today's by default).
It also checks that a half-filled visit form comes back after a reload (the draft), and
that an empty form answers with Chinese errors next to the fields.

    .venv/bin/python tests/browser/phone_record_visit.py http://127.0.0.1:8000
    ... --screenshots /tmp/shots_phone      # start page, forms, errors, results at 375/1280

Exit status 0 when every check passes.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
TARGET_SECONDS = 30
TARGET_TAPS = 6


class Taps:
    def __init__(self, page: Page):
        self.page = page
        self.count = 0

    def tap(self, locator) -> None:
        locator.scroll_into_view_if_needed()
        locator.tap()
        self.count += 1


def sign_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    if "/accounts/login/" in page.url:
        raise SystemExit(f"sign-in as {username} failed at {base}")


def chip(page: Page, name: str, nth: int = 0):
    """The label (the tap target) of the nth chip of a field."""
    return page.locator(f"label.chip:has(input[name={name}])").nth(nth)


def save(page: Page, taps: Taps) -> None:
    with page.expect_navigation():
        taps.tap(page.get_by_role("button", name="保存"))
    page.wait_for_load_state("load")


def open_from_start(page: Page, base: str, taps: Taps, button: str) -> None:
    page.goto(f"{base}/start/")
    with page.expect_navigation():
        taps.tap(page.get_by_role("link", name=button))


def fill_visit(page: Page, taps: Taps) -> None:
    if chip(page, "household").count() == 0:
        raise SystemExit("the group has no households to visit in the demo data")
    taps.tap(chip(page, "household"))
    if page.locator("input[name=visitor]:checked").count() == 0:
        taps.tap(chip(page, "visitor"))  # no current leader recorded: tap one
    taps.tap(page.locator("label.chip", has_text="宣传政策"))


def record_visit(page: Page, base: str, checks: list) -> None:
    taps = Taps(page)
    open_from_start(page, base, taps, "记录入户随访")
    started = time.monotonic()
    fill_visit(page, taps)
    save(page, taps)
    seconds = time.monotonic() - started
    ok = re.search(r"/visits/\d+/$", page.url) is not None and "已登记入户随访" in page.inner_text(
        "main"
    )
    checks.append(("the visit is saved and shown", ok))
    checks.append((f"visit: {taps.count} taps (target ≤ {TARGET_TAPS})", taps.count <= TARGET_TAPS))
    checks.append((f"visit: {seconds:.1f} s (target < {TARGET_SECONDS})", seconds < TARGET_SECONDS))


def fill_activity(page: Page, taps: Taps) -> None:
    taps.tap(page.locator("label.chip", has_text="宣传").first)
    taps.tap(chip(page, "theme", 1))  # the first theme after 无
    members = page.locator("label.chip:has(input[name=attendees])")
    for i in range(min(2, members.count())):
        taps.tap(members.nth(i))


def record_activity(page: Page, base: str, checks: list) -> None:
    taps = Taps(page)
    open_from_start(page, base, taps, "记录小组活动")
    started = time.monotonic()
    fill_activity(page, taps)
    save(page, taps)
    seconds = time.monotonic() - started
    body = page.inner_text("main")
    ok = re.search(r"/activities/\d+/$", page.url) is not None and "已登记活动" in body
    checks.append(("the activity is saved and shown", ok))
    checks.append(
        (f"activity: {taps.count} taps (target ≤ {TARGET_TAPS + 1})", taps.count <= TARGET_TAPS + 1)
    )
    checks.append(
        (f"activity: {seconds:.1f} s (target < {TARGET_SECONDS})", seconds < TARGET_SECONDS)
    )


def draft_survives_reload(page: Page, base: str, checks: list) -> None:
    taps = Taps(page)
    open_from_start(page, base, taps, "记录入户随访")
    taps.tap(page.locator("label.chip", has_text="困难帮扶"))
    page.fill("#id_notes", "草稿测试")
    page.reload()
    page.wait_for_load_state("load")
    restored = (
        page.locator("#id_notes").input_value() == "草稿测试"
        and page.locator("input[name=purpose][value=hardship_help]").is_checked()
    )
    checks.append(("a reload keeps the half-filled visit form", restored))
    page.get_by_role("button", name="清除").tap()


def errors_in_chinese(page: Page, base: str, checks: list) -> None:
    page.goto(f"{base}/start/")
    with page.expect_navigation():
        page.get_by_role("link", name="记录入户随访").tap()
    page.fill("#id_notes", "门锁着")
    with page.expect_navigation():
        page.get_by_role("button", name="保存").tap()
    body = page.inner_text("main")
    kept = page.locator("#id_notes").input_value() == "门锁着"
    checks.append(("an empty visit form says what is missing, in Chinese", "请选择走访" in body))
    checks.append(("what was typed is still there", kept))


def screenshots(browser, base: str, args, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for label, viewport in (("375", PHONE), ("1280", DESKTOP)):
        context = browser.new_context(viewport=viewport, has_touch=True, locale="zh-CN")
        page = context.new_page()
        sign_in(page, base, args.username, args.password)
        page.screenshot(path=folder / f"start-{label}.png", full_page=True)
        taps = Taps(page)
        open_from_start(page, base, taps, "记录入户随访")
        page.screenshot(path=folder / f"visit-form-{label}.png", full_page=True)
        page.locator("#find").fill(args.search)
        page.wait_for_timeout(800)
        page.screenshot(path=folder / f"visit-search-{label}.png", full_page=False)
        with page.expect_navigation():
            page.get_by_role("button", name="保存").tap()
        page.screenshot(path=folder / f"visit-errors-{label}.png", full_page=True)
        fill_visit(page, taps)
        save(page, taps)
        page.screenshot(path=folder / f"visit-detail-{label}.png", full_page=True)
        open_from_start(page, base, taps, "记录小组活动")
        fill_activity(page, taps)
        page.locator("details.fold summary", has_text="发放物资").tap()
        page.screenshot(path=folder / f"activity-form-{label}.png", full_page=True)
        save(page, taps)
        page.screenshot(path=folder / f"activity-detail-{label}.png", full_page=True)
        page.goto(f"{base}/start/")
        page.screenshot(path=folder / f"start-after-{label}.png", full_page=True)
        context.close()
    print(f"screenshots in {folder}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", nargs="?", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="group_leader")
    parser.add_argument("--password", default="Jsx@2026demo")
    parser.add_argument("--screenshots", type=Path, help="also save screenshots here")
    parser.add_argument("--search", default="l", help="what to type in the household search")
    args = parser.parse_args()
    base = args.base.rstrip("/")
    checks: list[tuple[str, bool]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN"
        )
        page = context.new_page()
        sign_in(page, base, args.username, args.password)
        checks.append(("a group leader lands on the start page", page.url.endswith("/start/")))
        checks.append(
            ("the start page shows this month's duties", "本月" in page.inner_text("main"))
        )
        record_visit(page, base, checks)
        record_activity(page, base, checks)
        draft_survives_reload(page, base, checks)
        errors_in_chinese(page, base, checks)
        context.close()
        if args.screenshots:
            screenshots(browser, base, args, args.screenshots)
        browser.close()
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return 0 if checks and all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
