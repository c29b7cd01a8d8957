"""The map (/map) in headless Chromium at the command centre's two screen sizes: areas shaded by open tickets in
the legend's classes, a click drilling town → village → grid → the grid's tickets, pins from grid zoom on.
Screenshots at city zoom and grid zoom go to var/screenshots/.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains

from gridgov_cli.demo import DEMO_POINT
from tests.browser.conftest import wait_until
from tests.browser.pages import DESK_SIZES, ConsolePage

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

# The shading classes of services/console/frontend/src/components/map/shading.js (lower bounds of classes 1–5).
BREAKS = {"town": [1, 5, 10, 20, 50], "village": [1, 3, 5, 10, 20], "grid": [1, 2, 3, 5, 10]}

# A point inside an SVG element that the element itself receives (not a neighbour, a label or a pin over it),
# as an offset from the element's centre (what Selenium's move_to_element_with_offset takes).
_OWN_POINT = """
// The point of the shape a user would click: visible (no label or neighbour on top) and as far inside as it gets.
// A point near the edge is not enough: a neighbour's hover outline, drawn as the pointer passes over it on its way,
// can cover it and take the click (seen: a village's edge 13 px from its neighbour, 2026-12-04).
const el = arguments[0];
const box = el.getBoundingClientRect();
const mine = (x, y) => document.elementFromPoint(x, y) === el;
let best = null, bestClearance = -1;
for (let i = 1; i < 24; i += 1) for (let j = 1; j < 24; j += 1) {
  const x = box.left + box.width * i / 24, y = box.top + box.height * j / 24;
  if (!mine(x, y)) continue;
  let clearance = 0;
  for (const d of [4, 8, 12, 16, 20, 24]) {
    const around = [[d, 0], [-d, 0], [0, d], [0, -d], [d, d], [d, -d], [-d, d], [-d, -d]];
    if (!around.every(([dx, dy]) => mine(x + dx, y + dy))) break;
    clearance = d;
  }
  if (clearance > bestClearance) {
    best = [Math.round(x - box.left - box.width / 2), Math.round(y - box.top - box.height / 2)];
    bestClearance = clearance;
  }
}
return best;
"""


def shade_class(open_count: int, level: str) -> int:
    """The class the legend gives ``open_count`` open tickets at ``level``."""
    return sum(1 for low in BREAKS[level] if open_count >= low)


def click_area(page: ConsolePage, code: str) -> None:
    """Click an area's polygon where the user would: on a visible part of it."""
    page.one("[data-test=grid-map][data-moving=false]")  # the view has stopped: the point stays where it is
    path = page.one(f"path.area-{code}")
    offset = wait_until(f"a visible point of area {code}", lambda: page.driver.execute_script(_OWN_POINT, path))
    ActionChains(page.driver).move_to_element_with_offset(path, *offset).click().perform()


@pytest.fixture
def console(driver, stack) -> ConsolePage:
    return ConsolePage(driver, stack.url("console"))


@pytest.fixture(scope="module")
def mapped(api):
    """Three open tickets in the demo point's grid (and so in its village and town)."""
    tickets = [api.ticket_of(api.report(f"地图测试：第{i}件")) for i in range(3)]
    return {"where": api.grid_at(*DEMO_POINT), "tickets": tickets}


@pytest.mark.parametrize("size", list(DESK_SIZES), ids=list(DESK_SIZES))
def test_drill_map_from_town_to_grid_tickets(console, api, mapped, shot, size):
    where, tickets = mapped["where"], mapped["tickets"]
    town, village, grid = where["town_code"], where["village_code"], where["grid_code"]
    counts = api.client.get(f"{api.stack.url('dispatch')}/v1/sla/counts", params={"level": "town"},
                            headers=api.centre).json()

    console.sign_in("command_centre", "cc-map", size=DESK_SIZES[size])
    console.open("/map", "map")

    # City zoom: every town drawn, each shaded by its open tickets in the legend's classes, names as labels.
    town_path = console.one(f"path.area-{town}")
    wait_until("the town's count on the map", lambda: int(town_path.get_attribute("data-open")) >= 3)
    opened = int(town_path.get_attribute("data-open"))
    assert opened >= counts[town]["open"] >= 3
    assert f"shade-{shade_class(opened, 'town')}" in town_path.get_attribute("class").split()
    quiet = [p for p in console.css("path.area") if p.get_attribute("data-open") == "0"]
    assert quiet and all("shade-0" in p.get_attribute("class").split() for p in quiet)
    legend = console.test_id("map-legend")
    assert legend.get_attribute("data-level") == "town"
    assert [r.get_attribute("data-class") for r in legend.find_elements("css selector", ".legend-row")] == [
        "0", "1", "2", "3", "4", "5", "breach", "warning"]
    assert "1–4 件" in legend.text and "50 件及以上" in legend.text and "红框：有超期工单" in legend.text
    labels = [t.text for t in console.css(".leaflet-tooltip.area-label") if t.is_displayed()]
    assert any(where["town_name"] in text for text in labels)
    assert console.css("[data-pin]") == []  # no pins at city zoom
    shot(f"map-city-{size}")

    # Town → its villages.
    click_area(console, town)
    wait_until("the town's villages", lambda: console.one("[data-view=map]").get_attribute("data-focus") == town)
    console.one(f"[data-view=map][data-level=village][data-loaded=true] path.area-{village}")
    assert console.test_id("map-legend").get_attribute("data-level") == "village"
    crumb = console.test_id("map-crumbs").find_element("css selector", f"[data-code='{town}']")
    assert crumb.get_attribute("href").endswith(f"/map?area={town}")

    # Village → its grids, with a pin for each open ticket.
    click_area(console, village)
    console.one(f"[data-view=map][data-focus='{village}'] path.area-{grid}")
    for t in tickets:
        console.one(f"[data-pin='{t['id']}']")
    zoom = float(console.test_id("grid-map").get_attribute("data-zoom"))
    assert zoom >= 13

    # Grid → its tickets, each a link to its page.
    click_area(console, grid)
    listing = console.one(f"[data-view=map][data-focus='{grid}'] [data-test=area-tickets]")
    for t in tickets:
        row = console.row(t["id"])
        assert row.find_element("css selector", "a").get_attribute("href").endswith(f"/tickets/{t['id']}")
    assert "selected" in console.one(f"path.area-{grid}").get_attribute("class").split()
    assert f"shade-{shade_class(int(console.one(f'path.area-{grid}').get_attribute('data-open')), 'grid')}" in \
        console.one(f"path.area-{grid}").get_attribute("class").split()
    assert "在办工单" in listing.text
    # ... and who works it: the grid's 网格员 from the roster, each with their duty
    roster = api.client.get(f"{api.stack.url('grid-registry')}/v1/grids/{grid}/workers",
                            headers=api.centre).json()["workers"]
    workers = wait_until("the grid's workers", lambda: console.driver.execute_script("""
      return [...document.querySelectorAll('[data-test=area-workers] .grid-worker')].map((e) => e.dataset.worker);"""),
                         10)
    assert roster and sorted(workers) == sorted(w["worker_id"] for w in roster)
    shot(f"map-grid-{size}")

    console.row(tickets[0]["id"]).find_element("css selector", "a").click()
    console.wait_view("ticket")
    assert console.driver.current_url.endswith(f"/tickets/{tickets[0]['id']}")

    # The back button walks up the drill again.
    console.driver.back()
    console.one(f"[data-view=map][data-focus='{grid}'][data-loaded=true]")
