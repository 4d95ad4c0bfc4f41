"""The dashboard end to end in headless Chromium (run by tests/browser/run.sh).

Against a `sluice serve` whose state has one failing run of tests/browser/fixture:
load the page, find the red node, open it with the keyboard, see its failing check and
samples and its blast radius, open a metric-history chart, reset the breaker with a
reason (a wrong token first: the API's 401 message shown as it is; then the right one),
see the node turn green and the audit entry appear; then the runs page, a run, and the
incidents page; and the standalone HTML report (--report) opened from its file.
Screenshots of each page go to --screenshots. Any error the browser logs
(a CSP violation, a script error) fails the test.
"""

import argparse
import os
import re
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

STEP_TIMEOUT = 15


def tid(name):
    """The page's data-testid of a name (app.js `tid`)."""
    return re.sub(r"[^A-Za-z0-9_.:-]", "_", name)


class Dashboard:
    def __init__(self, url, shots):
        opts = webdriver.ChromeOptions()
        opts.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                  "--disable-gpu", "--window-size=1280,800", "--hide-scrollbars",
                  "--force-device-scale-factor=1"):
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
        self.d = webdriver.Chrome(service=service, options=opts)
        # The page's viewport, not the window: screenshots of exactly 1280x800.
        self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
        self.url = url.rstrip("/")
        self.shots = shots
        self.errors = []

    def wait(self, what, cond, timeout=STEP_TIMEOUT):
        try:
            return WebDriverWait(self.d, timeout, poll_frequency=0.1).until(lambda d: cond())
        except TimeoutException:
            self.shot("FAILED-" + re.sub(r"\W+", "-", what)[:40])
            raise AssertionError("timed out waiting for: " + what)

    def css(self, sel):
        return self.d.find_element(By.CSS_SELECTOR, sel)

    def all(self, sel):
        return self.d.find_elements(By.CSS_SELECTOR, sel)

    def find(self, what, sel):
        return self.wait(what, lambda: (self.all(sel) or [None])[0])

    def shot(self, name):
        path = os.path.join(self.shots, name + ".png")
        self.d.save_screenshot(path)
        print("  screenshot", path)

    def collect_log(self):
        for e in self.d.get_log("browser"):
            msg = e.get("message", "")
            # The wrong-token step's 401 is expected (the browser logs every failed fetch).
            if e.get("level") == "SEVERE" and not ("/reset " in msg and "status of 401" in msg):
                self.errors.append(msg)

    def go(self, hash_):
        self.d.get(self.url + "/" + hash_)


def node(t, name):
    return t.find("node " + name, '[data-testid="node-%s"]' % tid(name))


def colour(t, name):
    return node(t, name).get_attribute("data-colour")


def test(t, token):
    d = t.d
    print("lineage: the graph coloured by breaker state")
    t.go("#/lineage")
    node(t, "raw_orders")
    t.wait("colours", lambda: colour(t, "raw_orders") == "red")
    assert colour(t, "daily_revenue") == "amber", colour(t, "daily_revenue")
    assert colour(t, "fx_rates") == "green", colour(t, "fx_rates")
    assert colour(t, "revenue_report") == "neutral", colour(t, "revenue_report")
    assert colour(t, "transform") == "neutral"
    legend = t.css('[data-testid="legend"]').text
    assert "halted" in legend and "blocked upstream" in legend, legend
    # The layout: a source left of what it feeds.
    x = lambda n: node(t, n).rect["x"]
    assert x("raw_orders") < x("transform") < x("daily_revenue") < x("revenue_report")
    t.shot("lineage")

    print("lineage: search")
    search = t.css('[data-testid="search"]')
    search.send_keys("revenue")
    t.wait("search count", lambda: t.css("#search-count").text == "2 matches")
    assert "match" in node(t, "daily_revenue").get_attribute("class")
    assert "faded" in node(t, "fx_rates").get_attribute("class")
    search.send_keys(Keys.CONTROL, "a")
    search.send_keys(Keys.DELETE)
    t.wait("search cleared", lambda: "faded" not in node(t, "fx_rates").get_attribute("class"))

    print("lineage: open the red node with the keyboard")
    red = [e for e in t.all("svg .node") if e.get_attribute("data-colour") == "red"]
    assert [e.get_attribute("data-testid") for e in red] == ["node-raw_orders"], red
    d.execute_script("arguments[0].focus()", red[0])
    assert d.switch_to.active_element == red[0]
    red[0].send_keys(Keys.ENTER)
    panel = t.find("panel", '[data-testid="panel"]:not([hidden])')
    t.wait("panel title", lambda: t.css("#panel-title").text == "raw_orders")
    assert t.css('[data-testid="panel-state"]').text == "open"
    assert "checkout-team" in panel.text and "tier" in panel.text
    failing = t.find("failing check", '[data-testid="panel-check-%s"]' % tid("not_null(customer_id)"))
    assert "fail" in failing.text, failing.text
    samples = failing.find_element(By.CSS_SELECTOR, '[data-testid="samples-%s"]' % tid("not_null(customer_id)"))
    assert "order_id" in samples.text and "null" in samples.text, samples.text
    t.find("accepted_values failing", '[data-testid="panel-check-%s"]' % tid("accepted_values(status)"))
    # The blast radius: what raw_orders feeds is highlighted.
    t.find("impact summary", '[data-testid="impact-summary"]')
    t.wait("impact highlighted", lambda: "impacted" in node(t, "daily_revenue").get_attribute("class"))
    assert "impacted" in node(t, "revenue_report").get_attribute("class")
    assert "impacted" not in node(t, "fx_rates").get_attribute("class")
    assert "finance" in t.css('[data-testid="impact"]').text
    t.wait("last runs", lambda: len(t.all('[data-testid="panel-runs"] li')) >= 2)
    t.shot("dataset")

    print("lineage: a metric-history chart")
    btn = t.css('[data-testid="history-avg_amount"]')
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", btn)
    btn.click()
    chart = t.find("history chart", '[data-testid="history-chart"]')
    t.wait("two points", lambda: len(chart.find_elements(By.CSS_SELECTOR, "circle")) == 2)
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", chart)
    t.shot("history")

    print("breaker: a wrong token is refused with the API's message")
    reason = t.css('[data-testid="breaker-reason"]')
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", reason)
    reason.send_keys("vendor re-sent the feed; checked by hand")
    t.css('[data-testid="breaker-token"]').send_keys("not-the-token")
    t.css('[data-testid="breaker-reset"]').click()
    msg = t.css('[data-testid="breaker-message"]')
    t.wait("401 message", lambda: msg.get_attribute("data-http-status") == "401")
    assert msg.text == "the bearer token is not this server's token", msg.text
    assert colour(t, "raw_orders") == "red"

    print("breaker: reset with the token")
    tok = t.css('[data-testid="breaker-token"]')
    tok.clear()
    tok.send_keys(token)
    t.css('[data-testid="breaker-reset"]').click()
    t.wait("node green", lambda: colour(t, "raw_orders") == "green")
    t.wait("downstream unblocked", lambda: colour(t, "daily_revenue") == "green")
    t.wait("audit entry", lambda: any(
        e.get_attribute("data-event") == "reset" and "vendor re-sent the feed" in e.text
        for e in t.all('[data-testid="audit-entry"]')))
    assert t.css('[data-testid="panel-state"]').text == "closed"
    assert "Done: reset" in t.css('[data-testid="breaker-message"]').text
    # The token is asked once: kept for the tab.
    assert not t.css('[data-testid="breaker-token"]').is_displayed()
    assert d.execute_script("return sessionStorage.getItem('sluice-token')") == token
    audit = t.css('[data-testid="audit-log"]')
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", audit)
    t.shot("breaker-reset")

    print("lineage: Escape closes the panel, focus back on the node")
    d.switch_to.active_element.send_keys(Keys.ESCAPE)
    t.wait("panel closed", lambda: not t.css('[data-testid="panel"]').is_displayed())
    assert d.switch_to.active_element.get_attribute("data-testid") == "node-raw_orders"

    print("lineage: Enter in the search box opens the first match (a stage)")
    search = t.css('[data-testid="search"]')
    search.send_keys("transf", Keys.ENTER)
    t.wait("stage panel", lambda: t.css('[data-testid="panel"]').is_displayed()
           and t.css("#panel-title").text == "transform")
    assert not t.all('[data-testid="breaker-panel"]'), "a stage has no breaker"
    t.find("stage impact", '[data-testid="impact-summary"]')
    t.wait("stage impact highlighted", lambda: "impacted" in node(t, "revenue_report").get_attribute("class"))
    assert "impacted" not in node(t, "raw_orders").get_attribute("class")
    search.clear()
    d.switch_to.active_element.send_keys(Keys.ESCAPE)
    t.wait("panel closed again", lambda: not t.css('[data-testid="panel"]').is_displayed())

    print("runs: the list, a filter, a run")
    t.css('[data-testid="nav-runs"]').click()
    t.wait("runs", lambda: len(t.all('[data-testid="run-row"]')) == 2)
    assert all("failed" in r.text for r in t.all('[data-testid="run-row"]'))
    t.shot("runs")
    t.go("#/runs?status=passed")
    t.wait("filtered", lambda: "no runs recorded that match" in t.css("main").text)
    # Paging through next_cursor: one run a page.
    t.go("#/runs?limit=1")
    t.wait("one a page", lambda: len(t.all('[data-testid="run-row"]')) == 1
           and t.css('[data-testid="runs-more"]').is_displayed())
    t.css('[data-testid="runs-more"]').click()
    t.wait("second page", lambda: len(t.all('[data-testid="run-row"]')) == 2)
    t.wait("last page", lambda: not t.css('[data-testid="runs-more"]').is_displayed())
    ids = [r.get_attribute("data-run-id") for r in t.all('[data-testid="run-row"]')]
    assert len(set(ids)) == 2, ids
    t.go("#/runs")
    first = t.find("run link", '[data-testid="run-row"] a')
    first.send_keys(Keys.ENTER)
    view = t.find("run view", '[data-testid="run-view"]')
    t.find("summary chart", '[data-testid="run-summary-chart"] rect')
    t.find("durations chart", '[data-testid="run-durations-chart"] rect')
    s = t.find("run samples", '[data-testid="samples-%s"]' % tid("accepted_values(status)"))
    assert "lost" in s.text, s.text
    assert "failed" in view.text
    t.shot("run")

    print("incidents: trips per month, recovery, who trips most")
    t.css('[data-testid="nav-incidents"]').click()
    t.find("per month", '[data-testid="incidents-per-month"] rect')
    t.wait("total", lambda: t.css('[data-testid="incidents-total"] .card-value').text == "1")
    assert "raw_orders" in t.css('[data-testid="incidents-by-dataset"]').text
    assert "raw_orders" in t.css('[data-testid="incidents-table"]').text
    t.shot("incidents")

    print("breaker: trip by hand; what it feeds turns amber")
    t.go("#/lineage/" + "dataset%3Afx_rates")
    t.wait("fx_rates panel", lambda: t.css("#panel-title").text == "fx_rates")
    assert colour(t, "fx_rates") == "green"
    t.css('[data-testid="breaker-reason"]').send_keys("rates vendor announced a bad file")
    assert not t.css('[data-testid="breaker-token"]').is_displayed(), "the token is asked once"
    t.css('[data-testid="breaker-trip"]').click()
    t.wait("fx_rates red", lambda: colour(t, "fx_rates") == "red")
    t.wait("daily_revenue amber", lambda: colour(t, "daily_revenue") == "amber")
    assert t.css('[data-testid="panel-state"]').text == "tripped"
    assert "the breaker is now tripped" in t.css('[data-testid="breaker-message"]').text
    assert "tripped by dashboard" in t.css('[data-testid="panel"]').text
    t.wait("trip in the audit log", lambda: any(
        e.get_attribute("data-event") == "manual_trip" and "bad file" in e.text
        for e in t.all('[data-testid="audit-entry"]')))

    t.collect_log()


def test_report(t, path):
    """The standalone report (`sluice check --format html`), opened from its file."""
    print("report: the standalone HTML file")
    t.d.get("file://" + os.path.abspath(path))
    view = t.find("report run view", '[data-testid="run-view"]')
    assert "failed" in view.text
    t.find("summary chart", '[data-testid="run-summary-chart"] rect')
    s = t.find("report samples", '[data-testid="samples-%s"]' % tid("not_null(customer_id)"))
    assert "null" in s.text, s.text
    # No dashboard links in a file: the dataset names are plain text.
    assert not t.all('[data-testid="run-dataset-raw_orders"] h3 a')
    t.shot("report")
    t.collect_log()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--report", help="a `sluice check --format html` file to open too")
    ap.add_argument("--screenshots", default="docs/screenshots")
    a = ap.parse_args()
    os.makedirs(a.screenshots, exist_ok=True)
    started = time.time()
    t = Dashboard(a.url, a.screenshots)
    try:
        test(t, a.token)
        if a.report:
            test_report(t, a.report)
        if t.errors:
            raise AssertionError("the browser logged errors:\n" + "\n".join(t.errors))
    except Exception:
        try:
            t.collect_log()
            for e in t.errors:
                print("  browser error:", e, file=sys.stderr)
        except Exception:
            pass
        raise
    finally:
        t.d.quit()
    print("dashboard test passed in %.1fs" % (time.time() - started))


if __name__ == "__main__":
    main()
