"""12345 工单录入 (issue #17) in headless Chromium, as a hotline operator (signed in as the command centre) takes
calls at a desk (1366×768 and 1920×1080): the address is located as it is typed, the classifier's suggestions
appear under the description (with the department the rules pick) and set the category only when clicked, a
knowledge-base answer closes the order as 直接答复, an ordinary order is filed and its report id shown, a bad phone
number is refused in Chinese beside the field with nothing stored, the form still files by hand when the helpers
are down, and a department dispatcher cannot open the page. Screenshots go to var/screenshots/.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.conftest import wait_until
from tests.browser.pages import DESK, WALL, ConsolePage

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CJK = re.compile(r"[\u4e00-\u9fff]")
ADDRESS = "南城街道下坑社区宏伟路12号"  # places/data/eval_addresses.tsv: 南城街道 441900004, 下坑社区 441900004001
VILLAGE = "441900004001"
CALL = "小区门口路边堆了一大堆生活垃圾好几天没人清运，臭气熏天，苍蝇很多"
QUESTION = "老板拖欠我三个月工资了，我想问一下去哪里投诉，要带什么"
CITY = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
def model(stack) -> dict:
    """A small classifier trained into the stack's intake database (`gridgov assist train`), taken up by the
    running intake: the classify answers carry its version."""
    gridgov = str(Path(sys.executable).with_name("gridgov"))
    run = subprocess.run([gridgov, "assist", "train", "--force", "--per-code", "30", "--json"], env=stack.env,
                         capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    outcome = json.loads(run.stdout)
    assert outcome["activated"], outcome
    headers = stack.auth(sub="hotline-model", role="command_centre")

    def taken_up():
        answer = httpx.post(f"{stack.url('event-intake')}/v1/assist/classify", json={"text": CALL},
                            headers=headers, timeout=10).json()
        return answer if answer.get("model_version") == outcome["version"] else None

    stack.wait_for("intake to take up the trained classifier", taken_up, 60)
    return outcome


@pytest.fixture(scope="module")
def article(api) -> dict:
    """A knowledge-base article the command centre wrote, valid from today."""
    resp = api.client.post(f"{api.stack.url('event-intake')}/v1/knowledge/articles", headers=api.centre, json={
        "question": "被拖欠工资去哪里投诉，要准备什么材料？",
        "answer": "可到用工单位所在镇街的人力资源和社会保障分局劳动保障监察窗口投诉，带上身份证、劳动合同或工资条、"
                  "考勤记录等能证明劳动关系和欠薪金额的材料；也可拨打12333咨询。",
        "keywords": ["欠薪", "拖欠工资", "讨薪"], "source": "市人力资源和社会保障局 劳动保障监察投诉指南"})
    assert resp.status_code == 201, resp.text
    return resp.json()


@pytest.fixture
def page(driver, stack):
    """The console in the browser; requests a test blocked are let through again after it (the browser is shared
    with the other browser tests)."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    yield ConsolePage(driver, stack.url("console"))
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})


def open_hotline(page: ConsolePage, size: tuple[int, int] = DESK) -> None:
    """Sign in as a hotline operator (command centre) on a screen of ``size`` (the page full-screen) and open
    12345 工单录入 from the navigation."""
    page.sign_in("command_centre", "hotline-1", size=size)
    dw, dh = page.driver.execute_script(
        "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]")
    page.size(size[0] + dw, size[1] + dh)
    page.one(".topbar a.nav-link[href='/hotline']").click()
    page.wait_view("hotline")


def stored(stack, order_no: str) -> list[tuple]:
    """Intake's reports with this hotline order number (a test-only read of its database)."""
    with sqlite3.connect(stack.data_dir / "event-intake.db", timeout=30) as conn:
        return conn.execute("SELECT id, status, category_code FROM report WHERE external_id = ?",
                            (order_no,)).fetchall()


def read_report(api, report_id: str) -> dict:
    """A report as intake has it."""
    resp = api.client.get(f"{api.stack.url('event-intake')}/v1/reports/{report_id}", headers=api.centre)
    assert resp.status_code == 200, resp.text
    return resp.json()


def picked_category(page: ConsolePage) -> str:
    """The category the picker shows (its name), empty when none."""
    return page.driver.execute_script(
        "const s = document.querySelector('.hl-category .el-select__placeholder:not(.is-transparent)');"
        "return s ? s.textContent.trim() : ''")


def error_beside(page: ConsolePage, test: str) -> str:
    """The error text of the form item holding the control ``data-test=<test>``."""
    item = page.test_id(test).find_element(By.XPATH, "ancestor::div[contains(@class,'el-form-item')][1]")
    return wait_until(f"an error beside {test}", lambda: "".join(
        e.text for e in item.find_elements(By.CSS_SELECTOR, ".el-form-item__error")).strip())


def classify_requests(page: ConsolePage) -> list[str]:
    """The texts of the classify requests the page sent since the last read of the browser's network log."""
    texts = []
    for entry in page.driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] != "Network.requestWillBeSent":
            continue
        request = message["params"]["request"]
        if request["url"].endswith("/api/intake/v1/assist/classify") and request["method"] == "POST":
            texts.append(json.loads(request.get("postData") or "{}").get("text", ""))
    return texts


def pick_by_search(page: ConsolePage, typed: str, name: str) -> None:
    """Pick a category in the picker by typing part of its name and clicking it in the list."""
    box = page.one(".hl-category input")
    box.click()
    box.send_keys(typed)
    option = wait_until(f"the option {name}", lambda: next(
        (o for o in page.css(".hl-category-popper .el-select-dropdown__item") if o.is_displayed()
         and o.text.startswith(name)), None))
    option.click()
    wait_until(f"{name} picked", lambda: picked_category(page) == name)
    wait_until("the list closed", lambda: not any(o.is_displayed() for o in page.css(".hl-category-popper")))


def test_operator_files_order_with_place_suggestions_and_route_then_form_clears(page, api, model, shot):
    open_hotline(page)
    order_no = page.test_id("hotline-order-no").get_attribute("value")
    assert re.fullmatch(r"[A-Za-z0-9-]{1,50}", order_no), order_no
    page.type_into("hotline-caller-name", "陈女士")
    page.type_into("hotline-caller-phone", "13800138017")

    # The address is located as it is typed: town · village, with the matched text.
    page.type_into("hotline-address", ADDRESS)
    place = page.test_id("hotline-place")
    wait_until("the address located", lambda: place.get_attribute("data-status") in ("located", "village_only"))
    assert place.get_attribute("data-village") == VILLAGE
    assert "南城街道" in place.text and "下坑社区" in place.text, place.text

    # Typed key by key: one classify request for the whole text (debounced), its suggestions shown; none is taken.
    classify_requests(page)
    page.type_into("hotline-description", CALL)
    box = page.test_id("hotline-suggestions")
    wait_until("the suggestions", lambda: box.get_attribute("data-state") == "ok")
    chips = page.css('[data-test="hotline-suggestion"]')
    assert 1 <= len(chips) <= 3
    sent = classify_requests(page)
    assert sent and sent[-1] == CALL and len(sent) <= 3, sent
    assert all(CJK.search(c.text) and "%" in c.text for c in chips), [c.text for c in chips]
    assert not re.search(r"\b\d{5}\b", chips[0].text), chips[0].text  # names, not codes
    assert picked_category(page) == "", "a suggestion never sets the category by itself"
    # each suggestion names the department the rules pick at that place
    wait_until("the departments of the suggestions", lambda: all(
        "→" in c.find_element(By.CSS_SELECTOR, '[data-test="hotline-suggestion-department"]').text
        for c in page.css('[data-test="hotline-suggestion"]')))
    wait_until("the knowledge base's answers", lambda: page.test_id("hotline-kb").get_attribute("data-state") == "ok")
    shot("hotline-suggestions-1366x768")

    # The operator clicks the first suggestion: the category is set, the route for it shown.
    first = page.css('[data-test="hotline-suggestion"]')[0]
    code, name = first.get_attribute("data-code"), first.find_element(By.CSS_SELECTOR, ".hl-chip-name").text
    first.click()
    wait_until("the suggestion taken", lambda: picked_category(page) == name)
    route = page.test_id("hotline-route")
    wait_until("the route of the chosen category", lambda: "派往" in route.text or "人工分拨" in route.text)

    # Tab from the order number walks the form in the order of a call, the suggestions before the category.
    page.test_id("hotline-order-no").click()
    walked = []
    for _ in range(8 + len(chips)):
        page.driver.switch_to.active_element.send_keys(Keys.TAB)
        walked.append(page.driver.execute_script(
            "const e = document.activeElement; return e.closest('[data-test]')?.dataset.test || e.tagName"))
    assert walked == ["hotline-caller-name", "hotline-caller-phone", "hotline-address", "hotline-description",
                      *["hotline-suggestion"] * len(chips), "hotline-category", "hotline-urgency", "hotline-submit",
                      "hotline-answer-toggle"], walked
    # At a 1366×768 desk the whole form, its submit button included, is on screen without scrolling.
    assert page.driver.execute_script("return arguments[0].getBoundingClientRect().bottom <= window.innerHeight",
                                      page.test_id("hotline-submit"))
    # Enter in a field does not file the order; the submit button does.
    page.test_id("hotline-caller-name").send_keys(Keys.ENTER)
    assert not page.css('[data-test="hotline-result"]')
    page.test_id("hotline-submit").click()
    result = page.test_id("hotline-result")
    report_id = result.get_attribute("data-report-id")
    assert report_id and report_id in result.text and "已受理" in result.text
    report = read_report(api, report_id)
    assert report["channel"] == "hotline" and report["category_code"] == code
    assert report["external_id"] == order_no and report["address"] == ADDRESS
    shot("hotline-filed-1366x768")

    # Cleared for the next call, with a new order number, the cursor in the order number.
    assert page.test_id("hotline-description").get_attribute("value") == ""
    assert page.test_id("hotline-address").get_attribute("value") == ""
    assert picked_category(page) == ""
    assert page.test_id("hotline-order-no").get_attribute("value") not in ("", order_no)
    assert page.driver.switch_to.active_element.get_attribute("data-test") == "hotline-order-no"


def test_operator_answers_from_knowledge_base_and_order_closes_at_intake(page, api, model, article, shot):
    open_hotline(page, WALL)
    page.type_into("hotline-caller-phone", "13900139017")
    page.type_into("hotline-address", "东城街道中湖社区东城中路128号")
    page.type_into("hotline-description", QUESTION)
    item = page.one(f'[data-test="hotline-kb-item"][data-id="{article["id"]}"]')
    assert "劳动保障监察" in item.text and "劳动保障监察投诉指南" in item.text, item.text
    item.find_element(By.CSS_SELECTOR, '[data-test="hotline-kb-use"]').click()
    answer = page.test_id("hotline-answer")
    assert answer.get_attribute("value") == article["answer"]
    assert page.test_id("hotline-submit").text == "直接答复并办结"
    pick_by_search(page, "欠", "拖欠工资")
    shot("hotline-knowledge-1920x1080")
    page.test_id("hotline-submit").click()
    result = page.test_id("hotline-result")
    assert "直接答复" in result.text
    report = read_report(api, result.get_attribute("data-report-id"))
    assert report["status"] == "closed" and report["category_code"] == "27001"


def test_bad_phone_is_refused_in_chinese_beside_the_field_and_nothing_is_stored(page, api, stack, shot):
    open_hotline(page)
    order_no = page.test_id("hotline-order-no").get_attribute("value")
    page.type_into("hotline-caller-phone", "138-abc")
    page.type_into("hotline-address", ADDRESS)
    page.type_into("hotline-description", "楼下烧烤店每晚在路边烤到凌晨两点")
    pick_by_search(page, "烧烤", "露天烧烤")
    # a refresh in the middle of the call keeps what was typed
    page.driver.refresh()
    page.wait_view("hotline")
    assert page.test_id("hotline-description").get_attribute("value") == "楼下烧烤店每晚在路边烤到凌晨两点"
    assert page.test_id("hotline-order-no").get_attribute("value") == order_no
    wait_until("the category kept", lambda: picked_category(page) == "露天烧烤")
    page.test_id("hotline-submit").click()
    reason = error_beside(page, "hotline-caller-phone")
    assert CJK.search(reason), reason
    assert not page.css('[data-test="hotline-result"]')
    assert stored(stack, order_no) == []
    shot("hotline-bad-phone-1366x768")

    # Corrected, the same order is filed once.
    page.type_into("hotline-caller-phone", "13800138018")
    page.test_id("hotline-submit").click()
    report_id = page.test_id("hotline-result").get_attribute("data-report-id")
    assert [row[0] for row in stored(stack, order_no)] == [report_id]


def test_helpers_down_say_unavailable_and_the_order_is_filed_by_hand(page, api, stack, shot):
    open_hotline(page)
    page.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": [
        "*/api/intake/v1/assist/*", "*/api/intake/v1/knowledge/*", "*/api/registry/v1/places/*",
        "*/api/dispatch/v1/rules/preview"]})
    order_no = page.test_id("hotline-order-no").get_attribute("value")
    page.type_into("hotline-caller-phone", "13700137017")
    page.type_into("hotline-address", ADDRESS)
    page.type_into("hotline-description", "路灯不亮了好几个晚上")
    wait_until("the suggestions unavailable",
               lambda: page.test_id("hotline-suggestions").get_attribute("data-state") == "unavailable")
    assert "暂不可用" in page.test_id("hotline-suggestions").text
    assert "暂不可用" in page.test_id("hotline-kb").text
    assert "暂不可用" in page.test_id("hotline-place").text
    wait_until("the repeats unavailable", lambda: "暂不可用" in page.test_id("hotline-repeats").text)
    pick_by_search(page, "路灯", "路灯")
    shot("hotline-helpers-down-1366x768")
    page.test_id("hotline-submit").click()
    report_id = page.test_id("hotline-result").get_attribute("data-report-id")
    assert [row[0] for row in stored(stack, order_no)] == [report_id]


def test_department_dispatcher_cannot_open_the_hotline_form(page):
    page.sign_in("dept_dispatcher", "disp-hotline", department="urban-management", expect_view=None)
    page.wait_view("queue", timeout=90)
    assert not page.css(".topbar a.nav-link[href='/hotline']")
    page.driver.get(f"{page.url}/hotline")
    page.wait_view("queue", timeout=60)
    assert not page.css('[data-view="hotline"]')


def test_repeat_caller_is_offered_the_open_case_and_the_call_is_attached_to_it(page, api, shot):
    phone = "13600136017"
    resp = api.client.post(f"{api.stack.url('event-intake')}/v1/reports/hotline", headers=api.centre, json={
        "order_no": "RX-REPEAT-FIRST", "caller_phone": phone, "address": ADDRESS, "category_code": "24003",
        "description": "楼下KTV每天晚上唱到凌晨两三点，噪音太大吵得睡不着"})
    assert resp.status_code == 202, resp.text
    first = resp.json()["report_id"]
    open_hotline(page)
    page.type_into("hotline-caller-phone", phone)
    page.type_into("hotline-address", ADDRESS)
    page.type_into("hotline-description", "又打来了，楼下那个KTV晚上唱到凌晨，噪音吵得睡不着，上次反映了还没处理")
    offer = page.one(f'[data-test="hotline-repeat"][data-id="{first}"]', timeout=60)
    assert "噪声污染" in offer.text and "相似度" in offer.text, offer.text
    offer.find_element(By.CSS_SELECTOR, '[data-test="hotline-repeat-attach"]').click()
    assert first[-8:] in page.test_id("hotline-repeat-of").text
    assert page.test_id("hotline-submit").text == "记为重复来电"
    wait_until("the case's category taken", lambda: picked_category(page) == "噪声污染")
    shot("hotline-repeat-1366x768")
    page.test_id("hotline-submit").click()
    result = page.test_id("hotline-result")
    assert "重复来电" in result.text and first in result.text
    assert read_report(api, result.get_attribute("data-report-id"))["repeat_of"] == first


def test_abstained_suggestion_leaves_the_operators_category_untouched(page, api, model, shot):
    open_hotline(page, WALL)
    page.type_into("hotline-address", ADDRESS)
    pick_by_search(page, "井盖", "污水井盖")
    page.type_into("hotline-description", "hello, is anybody there?")
    box = page.test_id("hotline-suggestions")
    wait_until("the model to abstain", lambda: box.get_attribute("data-state") == "abstained")
    assert "不确定，请人工选择" in box.text
    assert not page.css('[data-test="hotline-suggestion"]')
    assert picked_category(page) == "污水井盖"
    shot("hotline-abstain-1920x1080")
    page.test_id("hotline-submit").click()
    report = read_report(api, page.test_id("hotline-result").get_attribute("data-report-id"))
    assert report["category_code"] == "11002"


def test_a_slow_answer_to_an_older_text_never_replaces_the_newer_one(page, model):
    open_hotline(page)
    # every request takes 1.5 s: the answer to the first text is still on its way when the second is typed
    page.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": False, "latency": 1500, "downloadThroughput": -1, "uploadThroughput": -1})
    try:
        classify_requests(page)
        page.type_into("hotline-description", "路口的红绿灯坏了一直不亮")
        wait_until("the first text's request", lambda: classify_requests(page))
        page.type_into("hotline-description", CALL)
        box = page.test_id("hotline-suggestions")
        wait_until("the suggestions", lambda: box.get_attribute("data-state") == "ok", 30)
        assert box.get_attribute("data-text") == CALL
        time.sleep(2.5)  # longer than the latency: a late answer to the first text would have landed by now
        assert box.get_attribute("data-text") == CALL
        assert "积存垃圾" in box.text or "暴露垃圾" in box.text, box.text
    finally:
        page.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})


def kb_articles(api) -> list[dict]:
    """Every article of the knowledge base, as intake answers it."""
    out, offset = [], 0
    while True:
        resp = api.client.get(f"{api.stack.url('event-intake')}/v1/knowledge/articles", headers=api.centre,
                              params={"limit": 200, "offset": offset})
        assert resp.status_code == 200, resp.text
        page = resp.json()
        out += page["items"]
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return out


def test_command_centre_adds_corrects_and_withdraws_an_answer_and_a_stale_copy_overwrites_nothing(page, api, shot):
    """知识库维护 on the hotline page: an empty article is refused beside its fields (nothing stored); a new answer
    is stored as typed (keywords split, valid until the day chosen); a correction made on a copy someone changed
    meanwhile is refused (409, said in Chinese) and their change stands; made on the fresh copy it is stored; the
    article is withdrawn and no longer exists."""
    before = kb_articles(api)
    open_hotline(page, DESK)
    page.test_id("knowledge-open").click()
    page.settled('[data-test="knowledge-drawer"]')
    wait_until("the total", lambda: page.test_id("knowledge-total").text == f"共 {len(before)} 条", 20)
    assert len(page.css('[data-test="knowledge-item"]')) == min(50, len(before))

    page.test_id("knowledge-new").click()
    dialog = page.settled('[data-test="article-dialog"]')
    page.test_id("article-submit").click()
    reasons = wait_until("the reasons", lambda: page.form_errors(dialog) or None, 10)
    assert reasons == ["请填写问题（至少 2 个字）", "请填写答复内容（至少 2 个字）",
                       "请填写答复依据，如政策文件或部门通知"], reasons
    assert len(kb_articles(api)) == len(before)

    question = "2027年城乡居民医保什么时候缴费？"
    until = (datetime.now(CITY) + timedelta(days=30)).date().isoformat()
    page.type_into("article-question", question)
    page.fill(page.one('textarea[data-test="article-answer"]'), "集中缴费期至12月31日，可通过“粤税通”小程序缴纳。")
    page.type_into("article-keywords", "医保 缴费，居民医保")
    page.type_into("article-source", "东莞市医疗保障局 缴费通知")
    page.fill(page.test_id("article-to"), until)
    shot("knowledge-new-1366x768")
    page.test_id("article-submit").click()
    assert page.message(saying="答复已加入知识库") == "答复已加入知识库"
    added = wait_until("the article stored", lambda: next((a for a in kb_articles(api) if a["question"] == question),
                                                           None), 10)
    assert (added["keywords"], added["valid_to"], added["source"], added["version"], added["valid_today"]) == \
        (["医保", "缴费", "居民医保"], until, "东莞市医疗保障局 缴费通知", 1, True)
    item = page.settled(f'[data-test="knowledge-item"][data-id="{added["id"]}"]')
    assert item.get_attribute("data-status") == "valid" and "第 1 版" in item.text
    # found again by a piece of its source, alone
    page.type_into("knowledge-search", "医疗保障局 缴费")
    wait_until("the search's one answer", lambda: page.test_id("knowledge-total").text == "共 1 条" and [
        e.get_attribute("data-id") for e in page.css('[data-test="knowledge-item"]')] == [added["id"]], 10)

    # a colleague corrects it while this copy is open: saving the stale copy is refused, theirs stands
    item.find_element(By.CSS_SELECTOR, '[data-test="knowledge-edit"]').click()
    page.settled('[data-test="article-dialog"]')
    url = f"{api.stack.url('event-intake')}/v1/knowledge/articles/{added['id']}"
    theirs = {k: added[k] for k in ("question", "answer", "keywords", "valid_to", "source")}
    resp = api.client.put(url, headers=api.centre, json={**theirs, "answer": "集中缴费期至12月31日。", "version": 1})
    assert resp.status_code == 200, resp.text
    page.fill(page.one('textarea[data-test="article-answer"]'), "集中缴费期至2026年12月31日，逾期可办理补缴。")
    page.test_id("article-submit").click()
    error = wait_until("the refusal", lambda: (e := page.css('[data-test="article-error"]')) and e[0].text, 10)
    assert "已被他人修改" in error, error
    assert api.client.get(url, headers=api.centre).json()["answer"] == "集中缴费期至12月31日。"

    page.driver.find_element(By.CSS_SELECTOR, '[data-test="article-dialog"] .el-dialog__headerbtn').click()
    wait_until("the dialog closed", lambda: not page.test_id("article-dialog").is_displayed(), 10)
    page.test_id("knowledge-refresh").click()
    wait_until("the list read again", lambda: "第 2 版" in page.one(
        f'[data-test="knowledge-item"][data-id="{added["id"]}"]').text, 10)
    page.one(f'[data-test="knowledge-item"][data-id="{added["id"]}"] [data-test="knowledge-edit"]').click()
    page.settled('[data-test="article-dialog"]')
    assert page.one('textarea[data-test="article-answer"]').get_attribute("value") == "集中缴费期至12月31日。"
    page.fill(page.one('textarea[data-test="article-answer"]'), "集中缴费期至2026年12月31日，逾期可办理补缴。")
    page.test_id("article-submit").click()
    assert page.message(saying="答复已更新") == "答复已更新"
    stored_now = api.client.get(url, headers=api.centre).json()
    assert (stored_now["answer"], stored_now["version"]) == ("集中缴费期至2026年12月31日，逾期可办理补缴。", 3)

    item = page.settled(f'[data-test="knowledge-item"][data-id="{added["id"]}"]')
    item.find_element(By.CSS_SELECTOR, '[data-test="knowledge-delete"]').click()
    assert "坐席将检索不到" in page.accept_confirmation()
    assert page.message(saying="答复已删除") == "答复已删除"
    assert api.client.get(url, headers=api.centre).status_code == 404
    wait_until("the row gone", lambda: not page.css(f'[data-test="knowledge-item"][data-id="{added["id"]}"]'), 10)
