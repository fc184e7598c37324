"""A village secretary registers a NEW person as a member on a 375 px phone, measured.

Runs outside the unit suite (pytest does not collect this file): it drives the system
Chromium through Playwright against a running server, signs in as the demo village
secretary, and registers a new person (name, ID number with a valid check character made up
for this run, phone, marital status, group, category) from the village page. After sign-in it
counts the taps it performs, the main-frame page loads and the bytes transferred, and prints
each against the target: at most 12 taps, 3 page loads and 150 KB. The member must be on the
result page at the end.

    make phone-check                                   # server at http://127.0.0.1:8000
    .venv/bin/python tests/browser/phone_register_member.py http://127.0.0.1:8103
    ... --variant reload|back|resend                   # drafts and the one-time token
    ... --screenshots var/screenshots                  # form, search, result, lists

Variants: `reload` reloads the half-filled form and expects the draft back; `back` leaves
the half-filled form and comes back (Back, then a fresh visit) and expects the draft back;
`resend` drops the connection after the server saved (the response never reaches the
browser) and reloads, which sends the same form again: one member, the answer names it.
Exit status 0 when every check passes.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import random
import re
import sys
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
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
TARGET = {"taps": 12, "page loads": 3, "KB": 150}
REGION = "130534"  # the demo county (清河县), so the ID number's region code is valid
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["秀英", "桂兰", "玉梅", "丽娟", "春燕", "海霞", "建华", "淑珍", "晓燕", "红梅"]


# --- test data --------------------------------------------------------------------------------


def id_number(birth: datetime.date, *, female: bool, rng: random.Random) -> str:
    """A resident ID number (GB 11643) with a correct check character."""
    serial = rng.randrange(0, 500) * 2 + (0 if female else 1)
    body = f"{REGION}{birth:%Y%m%d}{serial:03d}"
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(body))
    return body + "10X98765432"[total % 11]


def new_person(rng: random.Random) -> dict:
    birth = datetime.date(1965, 1, 1) + datetime.timedelta(days=rng.randrange(0, 30 * 365))
    return {
        "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
        "id_number": id_number(birth, female=True, rng=rng),
        "phone": f"1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}",
    }


# --- measuring --------------------------------------------------------------------------------


class Meter:
    """Taps performed, main-frame page loads and bytes received (as Chrome's network stack
    counts them, headers included), from `start()` on."""

    def __init__(self, page: Page):
        self.page = page
        self.on = False
        self.taps = 0
        self.loads = 0
        self.bytes = 0
        page.on("framenavigated", self._navigated)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.requestWillBeSent", self._redirected)

    def start(self) -> None:
        self.on, self.taps, self.loads, self.bytes = True, 0, 0, 0

    def stop(self) -> None:
        self.on = False

    def _navigated(self, frame) -> None:
        if self.on and frame == self.page.main_frame:
            self.loads += 1

    def _finished(self, event) -> None:
        if self.on:
            self.bytes += int(event.get("encodedDataLength", 0))

    def _redirected(self, event) -> None:
        # A redirect's response never "finishes"; its size comes with the next request.
        if self.on and event.get("redirectResponse"):
            self.bytes += int(event["redirectResponse"].get("encodedDataLength", 0))

    def tap(self, locator) -> None:
        locator.scroll_into_view_if_needed()
        locator.tap()
        self.taps += 1

    def type_into(self, locator, text: str) -> None:
        """Tap a field and type on the phone's keyboard: one tap."""
        self.tap(locator)
        self.page.keyboard.type(text)

    def report(self) -> list[tuple[str, float, int]]:
        return [
            ("taps", self.taps, TARGET["taps"]),
            ("page loads", self.loads, TARGET["page loads"]),
            ("KB", round(self.bytes / 1024, 1), TARGET["KB"]),
        ]


# --- the flow ---------------------------------------------------------------------------------


def sign_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    if "/accounts/login/" in page.url:
        raise SystemExit(f"sign-in as {username} failed at {base}")


def open_form(page: Page, meter: Meter) -> None:
    """From the secretary's home (the village page): 新增会员."""
    with page.expect_navigation():
        meter.tap(page.get_by_role("link", name="新增会员").first)


def fill_person(page: Page, meter: Meter, person: dict) -> None:
    meter.type_into(page.locator("#id_name"), person["name"])
    number = person["id_number"]
    meter.type_into(page.locator("#id_id_number"), number[:17])
    if number.endswith("X"):
        meter.tap(page.locator("button.id-x"))  # the digit pad has no X
    else:
        page.keyboard.type(number[17])
    meter.type_into(page.locator("#id_phone"), person["phone"])
    meter.tap(page.get_by_label("已婚", exact=True))


def fill_membership(page: Page, meter: Meter) -> str:
    group = page.locator('input[name="group"]:not([value=""])').first
    label = page.locator(f'label[for="{group.get_attribute("id")}"]').inner_text().strip()
    meter.tap(group)
    meter.tap(page.get_by_label("育龄群众积极分子", exact=True))
    return label


def save(page: Page, meter: Meter) -> None:
    with page.expect_navigation():
        meter.tap(page.get_by_role("button", name="保存"))
    page.wait_for_load_state("load")


def member_on_page(page: Page, person: dict) -> bool:
    body = page.inner_text("main")
    return (
        re.search(r"/members/\d+/", page.url) is not None
        and person["name"] in body
        and person["id_number"] in body  # the card shows the village secretary the full number
        and "会员证号" in body
    )


def draft_is_back(page: Page, person: dict) -> bool:
    return (
        page.locator("#id_name").input_value() == person["name"]
        and page.locator("#id_id_number").input_value() == person["id_number"]
        and page.get_by_label("已婚", exact=True).is_checked()
    )


# --- variants ---------------------------------------------------------------------------------


def register(page: Page, meter: Meter, base: str, person: dict, checks: list) -> None:
    meter.start()
    open_form(page, meter)
    fill_person(page, meter, person)
    group = fill_membership(page, meter)
    save(page, meter)
    meter.stop()
    checks.append(("the member is on the result page", member_on_page(page, person)))
    checks.append((f"the member is in {group}", group in page.inner_text("main")))
    for name, value, limit in meter.report():
        checks.append((f"{name}: {value} (target ≤ {limit})", value <= limit))


def reload_keeps_draft(page: Page, meter: Meter, base: str, person: dict, checks: list) -> None:
    open_form(page, meter)
    fill_person(page, meter, person)
    page.reload()
    checks.append(("a reload keeps the draft", draft_is_back(page, person)))
    notice = page.get_by_text("已恢复未提交的草稿")
    checks.append(("the page says the draft was restored", notice.is_visible()))
    fill_membership(page, meter)
    save(page, meter)
    checks.append(("the member is on the result page", member_on_page(page, person)))
    page.goto(page.url.split("/members/")[0] + "/members/")
    open_form(page, meter)
    empty = page.locator("#id_name").input_value() == ""
    checks.append(("the draft is gone after the save", empty))


def back_keeps_draft(page: Page, meter: Meter, base: str, person: dict, checks: list) -> None:
    open_form(page, meter)
    form_url = page.url
    fill_person(page, meter, person)
    with page.expect_navigation():
        meter.tap(page.locator("nav.modules").get_by_role("link", name="会员"))
    page.go_back()
    page.wait_for_load_state("load")
    checks.append(("Back keeps the draft", draft_is_back(page, person)))
    page.goto(base + "/members/")
    page.goto(form_url)  # a fresh visit: the browser's own form memory cannot help here
    checks.append(("a fresh visit restores the draft", draft_is_back(page, person)))
    meter.tap(page.get_by_role("button", name="清除"))
    checks.append(("清除 empties the form", page.locator("#id_name").input_value() == ""))


def resend_creates_once(page: Page, meter: Meter, base: str, person: dict, checks: list) -> None:
    open_form(page, meter)
    fill_person(page, meter, person)
    fill_membership(page, meter)

    def saved_but_lost(route):
        if route.request.method != "POST":
            route.continue_()
            return
        route.fetch(max_redirects=0)  # the server saves the member...
        route.abort("connectionreset")  # ...and its answer never arrives

    form_path = re.compile(r".*/members/new/.*")
    page.route(form_path, saved_but_lost)
    with contextlib.suppress(PlaywrightError):  # the navigation fails: that is the point
        page.get_by_role("button", name="保存").tap()
    for _ in range(100):  # until the browser shows its "no connection" page
        if page.url.startswith("chrome-error:"):
            break
        page.wait_for_timeout(100)
    page.wait_for_timeout(300)
    page.unroute(form_path)
    # Connected again, the user reloads: the browser sends the same form (and token) again.
    page.reload()
    page.wait_for_load_state("load")
    body = page.inner_text("main")
    checks.append(("the second sending says it was sent before", "已经提交过" in body))
    checks.append(("the member is on the result page", member_on_page(page, person)))
    page.goto(f"{base}/members/?q={person['id_number']}&status=")
    checks.append(("one member with this ID number", "共 1 条" in page.inner_text("main")))


VARIANTS = {
    "register": register,
    "reload": reload_keeps_draft,
    "back": back_keeps_draft,
    "resend": resend_creates_once,
}


# --- screenshots ------------------------------------------------------------------------------


def screenshots(browser, base: str, args, folder: Path, rng: random.Random) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for label, viewport in (("375", PHONE), ("1280", DESKTOP)):
        context = browser.new_context(viewport=viewport, has_touch=True)
        page = context.new_page()
        meter = Meter(page)
        sign_in(page, base, args.username, args.password)
        open_form(page, meter)
        fill_person(page, meter, new_person(rng))
        page.screenshot(path=folder / f"form-{label}.png", full_page=True)
        page.locator("details.picker summary").click()
        page.locator("#find").fill(args.search)
        page.wait_for_timeout(800)
        page.screenshot(path=folder / f"search-{label}.png", full_page=False)
        fill_membership(page, meter)
        save(page, meter)
        page.screenshot(path=folder / f"result-{label}.png", full_page=False)
        for name, path in (("members", "/members/"), ("people", "/people/")):
            page.goto(base + path)
            page.screenshot(path=folder / f"{name}-{label}.png", full_page=False)
        context.close()
    print(f"screenshots in {folder}")


# --- main -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", nargs="?", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="village_secretary")
    parser.add_argument("--password", default="Jsx@2026demo")
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="register")
    parser.add_argument("--screenshots", type=Path, help="also save screenshots here")
    parser.add_argument("--search", default="王", help="what to type in the person search")
    parser.add_argument("--seed", type=int, help="for a repeatable person")
    args = parser.parse_args()
    base = args.base.rstrip("/")
    rng = random.Random(args.seed)
    person = new_person(rng)
    checks: list[tuple[str, bool]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN"
        )
        page = context.new_page()
        meter = Meter(page)
        sign_in(page, base, args.username, args.password)
        print(f"{args.variant}: {person['name']} {person['id_number']} {person['phone']}")
        VARIANTS[args.variant](page, meter, base, person, checks)
        context.close()
        if args.screenshots:
            screenshots(browser, base, args, args.screenshots, rng)
        browser.close()
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return 0 if checks and all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
