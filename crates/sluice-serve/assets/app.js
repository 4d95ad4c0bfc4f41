// The sluice dashboard: vanilla JS, no libraries, nothing fetched but this server's own
// JSON API. Every text goes into the page through textContent (never as markup), so names,
// messages and sample values from the data cannot inject markup.
//
// Two modes:
//   - the dashboard (index.html): hash routes #/lineage[/NODE_ID], #/runs?dataset=&status=,
//     #/run/ID, #/incidents;
//   - the standalone run report (`sluice check --format html`): the page embeds the report
//     JSON in <script type="application/json" id="sluice-report">, and the same
//     Sluice.renderRun draws it.
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";

  // ---------------------------------------------------------------- DOM helpers

  /** An HTML element: h("div", {class: "x", onclick: f}, child, "text", ...). */
  function h(tag, attrs) {
    var el = document.createElement(tag);
    setAttrs(el, attrs);
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }

  /** An SVG element, like h. */
  function s(tag, attrs) {
    var el = document.createElementNS(SVG_NS, tag);
    setAttrs(el, attrs);
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }

  function setAttrs(el, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k.slice(0, 2) === "on" && typeof v === "function") {
        el.addEventListener(k.slice(2), v);
      } else if (k === "text") {
        el.textContent = String(v);
      } else {
        el.setAttribute(k, v === true ? "" : String(v));
      }
    });
  }

  function append(el, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) {
      child.forEach(function (c) { append(el, c); });
    } else if (typeof child === "object" && child.nodeType) {
      el.appendChild(child);
    } else {
      el.appendChild(document.createTextNode(String(child)));
    }
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  }

  // ---------------------------------------------------------------- formatting

  /** A JSON value as a short cell: strings bare, null as `null`, floats rounded. */
  function cell(v) {
    var t;
    if (v === null || v === undefined) t = "null";
    else if (typeof v === "string") t = v;
    else if (typeof v === "number") t = Number.isInteger(v) ? String(v) : String(Number(v.toFixed(6)));
    else t = JSON.stringify(v);
    return t.length > 120 ? t.slice(0, 119) + "…" : t;
  }

  /** An RFC 3339 time as `2026-11-30 14:30:28Z` (UTC, as the API gives it). */
  function when(iso) {
    if (!iso) return "—";
    var m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso);
    return m ? m[1] + " " + m[2] + "Z" : iso;
  }

  /** Seconds as `3d 4h`, `12m 5s`, `40s`. */
  function duration(secs) {
    if (secs === null || secs === undefined) return "—";
    secs = Math.round(secs);
    var d = Math.floor(secs / 86400), hh = Math.floor((secs % 86400) / 3600);
    var m = Math.floor((secs % 3600) / 60), sec = secs % 60;
    if (d) return d + "d " + hh + "h";
    if (hh) return hh + "h " + m + "m";
    if (m) return m + "m " + sec + "s";
    return sec + "s";
  }

  function ms(v) {
    if (v === null || v === undefined) return "—";
    return v < 1000 ? v + " ms" : (v / 1000).toFixed(2) + " s";
  }

  function badge(status) {
    var st = status || "unknown";
    return h("span", { class: "badge st-" + st.replace(/[^a-z_]/g, ""), "data-status": st }, st);
  }

  /** Safe for a data-testid: the name with anything odd replaced. */
  function tid(name) {
    return String(name).replace(/[^A-Za-z0-9_.:-]/g, "_");
  }

  // ---------------------------------------------------------------- charts (inline SVG)

  /** Vertical bars: [{label, value, title}] → <svg>. */
  function barChart(data, opts) {
    opts = opts || {};
    var W = opts.width || 640, H = opts.height || 220, L = 40, B = 34, T = 12, R = 10;
    var max = Math.max(1, Math.max.apply(null, data.map(function (d) { return d.value; })));
    var ticks = niceTicks(0, max, 4, true);
    max = ticks[ticks.length - 1] || max;
    var bw = (W - L - R) / Math.max(1, data.length);
    var svg = s("svg", {
      width: W, height: H, viewBox: "0 0 " + W + " " + H, class: "chart", role: "img",
      "aria-label": opts.label || "bar chart", "data-testid": opts.testid,
    });
    axisY(svg, ticks, function (v) { return T + (H - T - B) * (1 - v / max); }, L, W - R);
    data.forEach(function (d, i) {
      var bh = (H - T - B) * (d.value / max);
      var x = L + i * bw + bw * 0.15;
      svg.appendChild(s("rect", {
        x: x, y: H - B - bh, width: Math.max(1, bw * 0.7), height: Math.max(0, bh),
        class: "bar " + (d.cls || ""),
      }, s("title", { text: (d.title || d.label) + ": " + d.value })));
      if (d.value > 0) {
        svg.appendChild(s("text", { x: x + bw * 0.35, y: H - B - bh - 3, class: "bar-value", "text-anchor": "middle", text: d.value }));
      }
      var every = Math.ceil(data.length / 12);
      if (i % every === 0) {
        svg.appendChild(s("text", { x: x + bw * 0.35, y: H - B + 14, class: "axis-label", "text-anchor": "middle", text: d.label }));
      }
    });
    return svg;
  }

  /** Horizontal bars: [{label, value, title}] → <svg>, largest first as given. */
  function hbarChart(data, opts) {
    opts = opts || {};
    var W = opts.width || 640, row = 26, L = 170, R = 40, T = 6;
    var H = T * 2 + row * Math.max(1, data.length);
    var max = Math.max(1, Math.max.apply(null, data.map(function (d) { return d.value; })));
    var svg = s("svg", {
      width: W, height: H, viewBox: "0 0 " + W + " " + H, class: "chart", role: "img",
      "aria-label": opts.label || "bar chart", "data-testid": opts.testid,
    });
    data.forEach(function (d, i) {
      var y = T + i * row;
      var bw = (W - L - R) * d.value / max;
      svg.appendChild(s("text", { x: L - 8, y: y + row * 0.65, class: "axis-label", "text-anchor": "end", text: short(d.label, 24) }));
      svg.appendChild(s("rect", { x: L, y: y + 4, width: Math.max(1, bw), height: row - 8, class: "bar " + (d.cls || "") },
        s("title", { text: (d.title || d.label) + ": " + d.value })));
      svg.appendChild(s("text", { x: L + bw + 5, y: y + row * 0.65, class: "bar-value", text: d.value }));
    });
    return svg;
  }

  /** A line over time: points [{at, value, status, title}] → <svg>. */
  function lineChart(points, opts) {
    opts = opts || {};
    var W = opts.width || 400, H = opts.height || 170, L = 56, R = 12, T = 12, B = 30;
    var svg = s("svg", {
      width: W, height: H, viewBox: "0 0 " + W + " " + H, class: "chart line-chart", role: "img",
      "aria-label": opts.label || "line chart", "data-testid": opts.testid,
    });
    var pts = points.filter(function (p) { return typeof p.value === "number" && isFinite(p.value); });
    if (!pts.length) {
      svg.appendChild(s("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "axis-label", text: "no numeric values recorded" }));
      return svg;
    }
    var ts = pts.map(function (p) { return Date.parse(p.at); });
    var t0 = Math.min.apply(null, ts), t1 = Math.max.apply(null, ts);
    var useIndex = !(t1 > t0) || ts.some(isNaN);
    var vs = pts.map(function (p) { return p.value; });
    var lo = Math.min.apply(null, vs), hi = Math.max.apply(null, vs);
    if (hi === lo) { lo -= Math.abs(lo) * 0.1 || 1; hi += Math.abs(hi) * 0.1 || 1; }
    var ticks = niceTicks(lo, hi, 4);
    lo = Math.min(lo, ticks[0]); hi = Math.max(hi, ticks[ticks.length - 1]);
    function X(i) {
      if (useIndex) return pts.length === 1 ? (L + W - R) / 2 : L + (W - L - R) * i / (pts.length - 1);
      return L + (W - L - R) * (ts[i] - t0) / (t1 - t0);
    }
    function Y(v) { return T + (H - T - B) * (1 - (v - lo) / (hi - lo)); }
    axisY(svg, ticks, Y, L, W - R);
    var d = pts.map(function (p, i) { return (i ? "L" : "M") + X(i).toFixed(1) + " " + Y(p.value).toFixed(1); }).join(" ");
    svg.appendChild(s("path", { d: d, class: "line" }));
    pts.forEach(function (p, i) {
      svg.appendChild(s("circle", { cx: X(i), cy: Y(p.value), r: 4, class: "dot st-" + (p.status || "unknown") },
        s("title", { text: when(p.at) + ": " + cell(p.value) + " (" + (p.status || "?") + ")" })));
    });
    svg.appendChild(s("text", { x: L, y: H - 8, class: "axis-label", text: when(pts[0].at) }));
    if (pts.length > 1) {
      svg.appendChild(s("text", { x: W - R, y: H - 8, class: "axis-label", "text-anchor": "end", text: when(pts[pts.length - 1].at) }));
    }
    return svg;
  }

  function axisY(svg, ticks, Y, x0, x1) {
    ticks.forEach(function (v) {
      var y = Y(v);
      svg.appendChild(s("line", { x1: x0, x2: x1, y1: y, y2: y, class: "grid" }));
      svg.appendChild(s("text", { x: x0 - 6, y: y + 4, class: "axis-label", "text-anchor": "end", text: cell(v) }));
    });
  }

  /** Round tick values covering [lo, hi]. */
  function niceTicks(lo, hi, n, integer) {
    var span = hi - lo || 1;
    var step = Math.pow(10, Math.floor(Math.log10(span / n)));
    var err = span / n / step;
    if (err >= 7.5) step *= 10; else if (err >= 3.5) step *= 5; else if (err >= 1.5) step *= 2;
    if (integer && step < 1) step = 1;
    var out = [];
    for (var v = Math.floor(lo / step) * step; v <= hi + step * 0.5; v += step) out.push(Number(v.toPrecision(12)));
    return out;
  }

  function short(t, n) { t = String(t); return t.length > n ? t.slice(0, n - 1) + "…" : t; }

  // ---------------------------------------------------------------- the run view (shared)

  var ORDER = { fail: 0, error: 1, warn: 2, skipped: 3, pass: 4 };

  /**
   * Draws one run report (the JSON of `sluice check -f json`) into `container`: its
   * summary, a plot of the check outcomes, a plot of the datasets' scan times, and each
   * dataset's checks with the failing samples as tables. The dashboard's run view and the
   * standalone HTML report both call this. `opts.links`: link datasets to the dashboard.
   */
  function renderRun(container, report, opts) {
    opts = opts || {};
    var root = h("section", { class: "run-view", "data-testid": "run-view", "aria-label": "run report" });
    var sum = report.summary || {};
    root.appendChild(h("h2", null, "Run ", badge(report.status), " ", h("span", { class: "mono small" }, report.run_id || "")));
    var meta = [
      ["started", when(report.started_at)],
      ["finished", when(report.finished_at)],
      ["duration", ms(report.duration_ms)],
      ["config", report.config],
      ["logical time", when(report.now)],
      ["sluice", report.sluice_version],
    ];
    if (opts.run && opts.run.actor) meta.push(["actor", opts.run.actor]);
    root.appendChild(h("dl", { class: "meta" }, meta.filter(function (m) { return m[1]; }).map(function (m) {
      return [h("dt", null, m[0]), h("dd", null, m[1])];
    })));

    var counts = [
      { label: "passed", value: sum.passed || 0, cls: "st-pass" },
      { label: "warned", value: sum.warned || 0, cls: "st-warn" },
      { label: "failed", value: sum.failed || 0, cls: "st-fail" },
      { label: "errored", value: sum.errored || 0, cls: "st-error" },
      { label: "skipped", value: sum.skipped || 0, cls: "st-skipped" },
    ];
    var datasets = report.datasets || [];
    root.appendChild(h("div", { class: "plots" },
      h("figure", null, barChart(counts, { width: 420, height: 200, label: "checks by outcome", testid: "run-summary-chart" }),
        h("figcaption", null, (sum.total || 0) + " checks by outcome")),
      datasets.length ? h("figure", null, hbarChart(datasets.map(function (d) {
        return { label: d.name, value: d.duration_ms || 0, title: d.name + " (ms)", cls: d.status === "ok" ? "" : "st-error" };
      }), { width: 420, label: "scan time per dataset (ms)", testid: "run-durations-chart" }),
        h("figcaption", null, "scan time per dataset (ms)")) : null));

    var checks = report.checks || [];
    datasets.forEach(function (d) {
      var mine = checks.filter(function (c) { return c.dataset === d.name; });
      var failing = mine.filter(function (c) { return c.status !== "pass"; })
        .sort(function (a, b) { return (ORDER[a.status] || 9) - (ORDER[b.status] || 9); });
      var passing = mine.filter(function (c) { return c.status === "pass"; });
      var title = opts.links
        ? h("a", { href: "#/lineage/" + encodeURIComponent("dataset:" + d.name) }, d.name)
        : d.name;
      var sec = h("section", { class: "run-dataset", "data-testid": "run-dataset-" + tid(d.name) },
        h("h3", null, title, " ", badge(d.status === "ok" ? (failing.some(function (c) { return c.status === "fail" || c.status === "error"; }) ? "fail" : "pass") : d.status)),
        h("p", { class: "small muted" }, [d.path, d.format, d.rows_scanned !== undefined ? d.rows_scanned + " rows" : null,
          d.files !== undefined ? d.files + " files" : null, ms(d.duration_ms)].filter(Boolean).join(" · ")),
        d.error ? h("p", { class: "error-text" }, cell(d.error)) : null,
        failing.length ? checkTable(failing, true) : h("p", { class: "muted" }, "every check passed"),
        passing.length ? h("details", null, h("summary", null, passing.length + " passing checks"), checkTable(passing, false)) : null);
      root.appendChild(sec);
    });
    // Checks of datasets the report does not list (parity, reconcile across datasets).
    var names = datasets.map(function (d) { return d.name; });
    var rest = checks.filter(function (c) { return names.indexOf(c.dataset) < 0; });
    if (rest.length) root.appendChild(h("section", { class: "run-dataset" }, h("h3", null, "other checks"), checkTable(rest, true)));
    clear(container).appendChild(root);
    return root;
  }

  /** A table of check results, each failing one followed by its samples. */
  function checkTable(checks, withSamples) {
    var body = h("tbody");
    checks.forEach(function (c) {
      body.appendChild(h("tr", { class: "check-row st-row-" + c.status, "data-testid": "check-" + tid(c.name) },
        h("td", null, badge(c.status)),
        h("th", { scope: "row", class: "mono" }, c.name),
        h("td", null, c.kind),
        h("td", { class: "num" }, cell(c.observed)),
        h("td", null, c.threshold === null || c.threshold === undefined ? "" : cell(c.threshold)),
        h("td", null, c.message || "", c.location ? h("div", { class: "small muted mono" }, c.location) : null)));
      if (withSamples && c.samples && c.samples.length) {
        body.appendChild(h("tr", { class: "samples-row" }, h("td", { colspan: 6 }, samplesTable(c))));
      }
    });
    return h("div", { class: "table-wrap" }, h("table", { class: "checks" },
      h("thead", null, h("tr", null, ["status", "check", "kind", "observed", "threshold", "message"].map(function (t) {
        return h("th", { scope: "col" }, t);
      }))), body));
  }

  /** Failing samples (rows of objects) as a table. */
  function samplesTable(c) {
    var cols = [];
    c.samples.forEach(function (r) {
      if (r && typeof r === "object" && !Array.isArray(r)) {
        Object.keys(r).forEach(function (k) { if (cols.indexOf(k) < 0) cols.push(k); });
      }
    });
    var table = h("table", { class: "samples", "data-testid": "samples-" + tid(c.name), "aria-label": "failing samples of " + c.name },
      h("caption", null, "failing samples (" + c.samples.length + (c.failing_rows ? " of " + c.failing_rows : "") + ")"));
    if (!cols.length) {
      table.appendChild(h("tbody", null, c.samples.map(function (r) { return h("tr", null, h("td", null, cell(r))); })));
      return table;
    }
    table.appendChild(h("thead", null, h("tr", null, cols.map(function (k) { return h("th", { scope: "col" }, k); }))));
    table.appendChild(h("tbody", null, c.samples.map(function (r) {
      return h("tr", null, cols.map(function (k) { return h("td", { class: "mono" }, k in r ? cell(r[k]) : ""); }));
    })));
    return table;
  }

  var Sluice = { renderRun: renderRun, barChart: barChart, lineChart: lineChart, hbarChart: hbarChart };
  window.Sluice = Sluice;

  // ---------------------------------------------------------------- standalone report

  var embedded = document.getElementById("sluice-report");
  if (embedded) {
    var report = JSON.parse(embedded.textContent);
    renderRun(document.getElementById("main"), report, { links: false });
    return;
  }

  // ---------------------------------------------------------------- the dashboard

  var main = document.getElementById("main");
  var TOKEN_KEY = "sluice-token";

  /** GETs or POSTs JSON; an error answer throws with the API's own message. */
  function api(path, opts) {
    opts = opts || {};
    var init = { method: opts.method || "GET", headers: { Accept: "application/json" } };
    if (opts.body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(opts.body);
    }
    if (opts.token) init.headers.Authorization = "Bearer " + opts.token;
    return fetch(path, init).then(function (r) {
      return r.text().then(function (t) {
        var v = null;
        try { v = t ? JSON.parse(t) : null; } catch (e) { v = null; }
        if (!r.ok) {
          var msg = v && v.error && v.error.message ? v.error.message : "HTTP " + r.status + " " + (t || r.statusText);
          var err = new Error(msg);
          err.status = r.status;
          throw err;
        }
        return v;
      });
    });
  }

  function enc(x) { return encodeURIComponent(x); }

  function errorBox(e) {
    return h("div", { class: "error-box", role: "alert", "data-testid": "error" }, e && e.message ? e.message : String(e));
  }

  function setTitle(t) { document.title = t + " · sluice"; }

  function navActive(page) {
    Array.prototype.forEach.call(document.querySelectorAll("nav a"), function (a) {
      if (a.getAttribute("data-page") === page) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    });
  }

  // ---- routing

  function parseHash() {
    var raw = location.hash.replace(/^#\/?/, "");
    var q = "", i = raw.indexOf("?");
    if (i >= 0) { q = raw.slice(i + 1); raw = raw.slice(0, i); }
    var parts = raw.split("/").filter(function (p) { return p !== ""; }).map(decodeURIComponent);
    var params = {};
    q.split("&").forEach(function (kv) {
      if (!kv) return;
      var j = kv.indexOf("=");
      params[decodeURIComponent(j < 0 ? kv : kv.slice(0, j))] = j < 0 ? "" : decodeURIComponent(kv.slice(j + 1).replace(/\+/g, " "));
    });
    return { page: parts[0] || "lineage", arg: parts.slice(1).join("/"), params: params };
  }

  var lineage = null; // the lineage page's state while it is shown

  function route() {
    var r = parseHash();
    navActive(r.page === "run" ? "runs" : r.page);
    if (r.page === "lineage") {
      if (lineage && lineage.alive) {
        if (r.arg) lineage.open(r.arg); else lineage.close();
        return;
      }
      lineage = lineagePage(r.arg);
    } else {
      if (lineage) lineage.alive = false;
      lineage = null;
      if (r.page === "runs") runsPage(r.params);
      else if (r.page === "run") runPage(r.arg);
      else if (r.page === "incidents") incidentsPage(r.params);
      else {
        clear(main).appendChild(errorBox("no page `" + r.page + "`: try Lineage, Runs or Incidents"));
      }
    }
  }

  // ---- lineage

  /** State of a dataset's breaker as a colour class. */
  function colourOf(row) {
    if (!row) return "neutral";
    if (row.state === "open" || row.state === "tripped") return "red";
    if (row.state === "override") return "override";
    if (row.blocked_by && row.blocked_by.length) return "amber";
    return "green";
  }

  var COLOUR_TEXT = {
    red: "halted: open or tripped", amber: "blocked upstream",
    green: "flowing: closed", override: "override", neutral: "not a dataset",
  };

  /** Layers a graph: longest path from the sources (cycles broken by DFS), then orders
   *  each layer by the barycentre of its neighbours, a few sweeps down and up. */
  Sluice.layout = layout;
  function layout(nodes, edges) {
    var n = nodes.length, idx = {};
    nodes.forEach(function (nd, i) { idx[nd.id] = i; });
    var out = [], inn = [];
    for (var i = 0; i < n; i++) { out.push([]); inn.push([]); }
    var es = [];
    edges.forEach(function (e) {
      var a = idx[e.from], b = idx[e.to];
      if (a === undefined || b === undefined || a === b) return;
      es.push([a, b]);
    });
    // Break cycles: drop edges that close one in a DFS (iterative: graphs can be deep).
    var adj = [];
    for (i = 0; i < n; i++) adj.push([]);
    es.forEach(function (e, k) { adj[e[0]].push(k); });
    var mark = new Uint8Array(n), back = new Uint8Array(es.length);
    for (var start = 0; start < n; start++) {
      if (mark[start]) continue;
      var stack = [[start, 0]];
      mark[start] = 1;
      while (stack.length) {
        var top = stack[stack.length - 1], v = top[0];
        if (top[1] < adj[v].length) {
          var k = adj[v][top[1]++], w = es[k][1];
          if (mark[w] === 1) back[k] = 1;
          else if (mark[w] === 0) { mark[w] = 1; stack.push([w, 0]); }
        } else { mark[v] = 2; stack.pop(); }
      }
    }
    es.forEach(function (e, k) { if (!back[k]) { out[e[0]].push(e[1]); inn[e[1]].push(e[0]); } });
    // Longest-path layering (Kahn's order).
    var layer = new Int32Array(n), indeg = inn.map(function (x) { return x.length; });
    var queue = [];
    for (i = 0; i < n; i++) if (!indeg[i]) queue.push(i);
    for (var qi = 0; qi < queue.length; qi++) {
      var u = queue[qi];
      out[u].forEach(function (w2) {
        if (layer[u] + 1 > layer[w2]) layer[w2] = layer[u] + 1;
        if (--indeg[w2] === 0) queue.push(w2);
      });
    }
    var layers = [];
    for (i = 0; i < n; i++) { (layers[layer[i]] = layers[layer[i]] || []).push(i); }
    layers = layers.filter(Boolean);
    var pos = new Float64Array(n);
    layers.forEach(function (l) {
      l.sort(function (a, b) { return nodes[a].name < nodes[b].name ? -1 : nodes[a].name > nodes[b].name ? 1 : 0; });
      l.forEach(function (v2, j) { pos[v2] = j; });
    });
    function sweep(order, nbrs) {
      order.forEach(function (l) {
        var key = {};
        l.forEach(function (v3) {
          var ns = nbrs[v3];
          key[v3] = ns.length ? ns.reduce(function (a, x) { return a + pos[x]; }, 0) / ns.length : pos[v3];
        });
        l.sort(function (a, b) { return key[a] - key[b] || pos[a] - pos[b]; });
        l.forEach(function (v3, j) { pos[v3] = j; });
      });
    }
    for (var it = 0; it < 4; it++) {
      sweep(layers.slice(1), inn);
      sweep(layers.slice(0, -1).reverse(), out);
    }
    return { layers: layers, layer: layer, pos: pos, edges: es, back: back };
  }

  var COL_W = 215, ROW_H = 58, NODE_W = 175, NODE_H = 38, PAD = 24;

  function lineagePage(initial) {
    setTitle("Lineage");
    var page = {
      alive: true, nodes: [], byId: {}, els: {}, rows: {}, selected: null,
      open: null, close: null,
    };
    var search = h("input", {
      id: "search", type: "search", placeholder: "Search nodes by name…", "aria-label": "Search nodes by name",
      "data-testid": "search", autocomplete: "off",
    });
    var matches = h("span", { class: "small muted", id: "search-count", "aria-live": "polite" });
    var legend = h("ul", { class: "legend", id: "legend", "aria-label": "legend", "data-testid": "legend" },
      ["red", "amber", "green", "override", "neutral"].map(function (c) {
        return h("li", null, h("span", { class: "swatch c-" + c, "aria-hidden": "true" }), COLOUR_TEXT[c]);
      }));
    var graph = h("div", { class: "graph", id: "graph", "data-testid": "graph" }, h("p", { class: "muted" }, "loading the lineage graph…"));
    var panel = h("aside", { class: "panel", id: "panel", "data-testid": "panel", hidden: true, "aria-label": "node details", tabindex: "-1" });
    var notice = h("div");
    function zoomBtn(label, testid, f) {
      return h("button", { type: "button", "aria-label": label, title: label, "data-testid": testid, onclick: f }, testid === "zoom-in" ? "+" : testid === "zoom-out" ? "−" : "fit");
    }
    var zoom = h("div", { class: "zoom", role: "group", "aria-label": "zoom" },
      zoomBtn("Zoom out", "zoom-out", function () { page.autoFit = false; setScale(page.scale / 1.25); }),
      zoomBtn("Zoom in", "zoom-in", function () { page.autoFit = false; setScale(page.scale * 1.25); }),
      zoomBtn("Fit the graph to the window", "zoom-fit", function () { page.autoFit = true; setScale(fitScale()); }));
    clear(main).appendChild(h("div", { class: "lineage-page" },
      h("div", { class: "toolbar" }, h("label", { for: "search", class: "sr-only" }, "Search"), search, matches, zoom, legend),
      notice,
      h("div", { class: "lineage-body" }, graph, panel)));

    search.addEventListener("input", function () { applySearch(); });
    search.addEventListener("keydown", function (e) {
      if (e.key === "Enter") {
        var first = page.nodes.filter(function (nd) { return nd._match; })[0];
        if (first) { page.els[first.id].focus(); go(first.id); }
      }
    });

    function applySearch() {
      var q = search.value.trim().toLowerCase();
      var count = 0;
      page.nodes.forEach(function (nd) {
        var m = q !== "" && nd.name.toLowerCase().indexOf(q) >= 0;
        nd._match = m;
        if (m) count++;
        var el = page.els[nd.id];
        el.classList.toggle("match", m);
        el.classList.toggle("faded", q !== "" && !m);
      });
      matches.textContent = q ? count + (count === 1 ? " match" : " matches") : "";
    }

    function go(id) { location.hash = "#/lineage/" + enc(id); }

    page.scale = 1;
    page.autoFit = true;
    function refit() { if (page.autoFit) setScale(fitScale()); }
    function fitScale() {
      if (!page.W) return 1;
      var f = Math.min(1, (graph.clientWidth - 4) / page.W, (graph.clientHeight - 4) / page.H);
      return Math.max(0.4, f);
    }
    function setScale(k) {
      page.scale = Math.max(0.1, Math.min(3, k));
      var svg = document.getElementById("lineage-svg");
      if (!svg) return;
      svg.setAttribute("width", Math.round(page.W * page.scale));
      svg.setAttribute("height", Math.round(page.H * page.scale));
    }

    function loadStates() {
      return api("/api/datasets").then(function (v) {
        page.rows = {};
        v.datasets.forEach(function (r) { page.rows[r.dataset] = r; });
        page.nodes.forEach(function (nd) {
          var el = page.els[nd.id];
          if (!el) return;
          var row = nd.kind === "dataset" ? page.rows[nd.name] : null;
          var c = colourOf(row);
          ["red", "amber", "green", "override", "neutral"].forEach(function (k) { el.classList.toggle("c-" + k, k === c); });
          el.setAttribute("data-colour", c);
          el.setAttribute("data-state", row ? row.state : "none");
          el.setAttribute("aria-label", nd.name + ", " + nd.kind + (row ? ", breaker " + row.state + (c === "amber" ? ", blocked by " + row.blocked_by.map(blockName).join(", ") : "") : ""));
        });
      });
    }

    Promise.all([api("/api/lineage"), api("/api/datasets")]).then(function (res) {
      if (!page.alive) return;
      var g = res[0];
      page.nodes = g.nodes;
      g.nodes.forEach(function (nd) { page.byId[nd.id] = nd; });
      if (g.truncated) notice.appendChild(h("p", { class: "warn-box" }, "showing " + g.nodes.length + " of " + g.total + " nodes"));
      drawGraph(g);
      return loadStates().then(function () {
        applySearch();
        if (initial) page.open(initial);
      });
    }).catch(function (e) { clear(graph).appendChild(errorBox(e)); });

    function drawGraph(g) {
      var L = layout(g.nodes, g.edges);
      var maxCount = Math.max.apply(null, L.layers.map(function (l) { return l.length; }).concat([1]));
      var W = PAD * 2 + (L.layers.length - 1) * COL_W + NODE_W;
      var H = PAD * 2 + (maxCount - 1) * ROW_H + NODE_H;
      var xy = [];
      L.layers.forEach(function (l, li) {
        var off = (maxCount - l.length) * ROW_H / 2;
        l.forEach(function (v) { xy[v] = [PAD + li * COL_W, PAD + off + L.pos[v] * ROW_H]; });
      });
      var svg = s("svg", {
        id: "lineage-svg", width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "group",
        "aria-label": "lineage graph: " + g.nodes.length + " nodes, " + g.edges.length + " edges",
      });
      svg.appendChild(s("defs", null, s("marker", {
        id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse",
      }, s("path", { d: "M0 0 L10 5 L0 10 z", class: "arrow" }))));
      var edgeLayer = s("g", { class: "edges", "aria-hidden": "true" });
      page.edgeEls = [];
      L.edges.forEach(function (e) {
        var a = xy[e[0]], b = xy[e[1]];
        var x1 = a[0] + NODE_W, y1 = a[1] + NODE_H / 2, x2 = b[0], y2 = b[1] + NODE_H / 2;
        var d;
        if (x2 > x1) {
          var mx = (x1 + x2) / 2;
          d = "M" + x1 + " " + y1 + " C" + mx + " " + y1 + " " + mx + " " + y2 + " " + x2 + " " + y2;
        } else { // a back edge (a cycle) or within a layer: loop around
          d = "M" + x1 + " " + y1 + " C" + (x1 + 60) + " " + (y1 - 70) + " " + (x2 - 60) + " " + (y2 - 70) + " " + x2 + " " + y2;
        }
        var p = s("path", { d: d, class: "edge", "marker-end": "url(#arrow)" });
        p._from = g.nodes[e[0]].id; p._to = g.nodes[e[1]].id;
        page.edgeEls.push(p);
        edgeLayer.appendChild(p);
      });
      svg.appendChild(edgeLayer);
      var nodeLayer = s("g", { class: "nodes" });
      // Tab order follows the layout: layer by layer, top to bottom.
      L.layers.forEach(function (l) {
        l.slice().sort(function (a, b) { return L.pos[a] - L.pos[b]; }).forEach(function (v) {
          var nd = g.nodes[v], p = xy[v];
          var el = s("g", {
            class: "node kind-" + tid(nd.kind), tabindex: 0, role: "button", transform: "translate(" + p[0] + "," + p[1] + ")",
            "data-testid": "node-" + tid(nd.name), "data-node-id": nd.id, "data-kind": nd.kind, "aria-label": nd.name + ", " + nd.kind,
          },
            s("title", { text: nd.name + " (" + nd.kind + ")" + (nd.owner ? " · owner " + nd.owner : "") }),
            s("rect", { width: NODE_W, height: NODE_H, rx: 7, ry: 7 }),
            s("text", { x: 10, y: 16, class: "node-name", text: short(nd.name, 24) }),
            s("text", { x: 10, y: 30, class: "node-kind", text: short(nd.kind + (nd.tier ? " · tier " + nd.tier : "") + (nd.owner ? " · " + nd.owner : ""), 29) }));
          el.addEventListener("click", function () { go(nd.id); });
          el.addEventListener("keydown", function (e) {
            if (e.key === "Enter" || e.key === " ") { e.preventDefault(); go(nd.id); }
          });
          page.els[nd.id] = el;
          nodeLayer.appendChild(el);
        });
      });
      svg.appendChild(nodeLayer);
      clear(graph).appendChild(svg);
      page.W = W; page.H = H;
      setScale(fitScale());
    }

    function clearImpact() {
      var svg = document.getElementById("lineage-svg");
      if (svg) svg.classList.remove("impact-on");
      Object.keys(page.els).forEach(function (id) {
        page.els[id].classList.remove("selected", "impacted");
      });
      (page.edgeEls || []).forEach(function (p) { p.classList.remove("impacted"); });
    }

    function showImpact(root, imp) {
      var set = {};
      set[root] = true;
      (imp.impacted || []).forEach(function (x) { if (x.id) set[x.id] = true; });
      Object.keys(set).forEach(function (id) { if (page.els[id] && id !== root) page.els[id].classList.add("impacted"); });
      (page.edgeEls || []).forEach(function (p) { p.classList.toggle("impacted", !!(set[p._from] && set[p._to])); });
      var svg = document.getElementById("lineage-svg");
      if (svg) svg.classList.add("impact-on");
    }

    page.close = function () {
      panel.hidden = true;
      refit();
      clearImpact();
      var was = page.selected;
      page.selected = null;
      if (was && page.els[was]) page.els[was].focus();
    };

    page.open = function (id) {
      var nd = page.byId[id];
      if (!nd) {
        panel.hidden = false;
        clear(panel).appendChild(errorBox("no node `" + id + "` in the lineage graph"));
        return;
      }
      clearImpact();
      page.selected = id;
      var el = page.els[id];
      el.classList.add("selected");
      panel.hidden = false;
      refit();
      if (el.scrollIntoView) el.scrollIntoView({ block: "nearest", inline: "nearest" });
      renderPanel(nd);
    };

    function renderPanel(nd) {
      var row = nd.kind === "dataset" ? page.rows[nd.name] : null;
      var closeBtn = h("button", { class: "close", id: "panel-close", "data-testid": "panel-close", "aria-label": "Close the panel (Escape)", type: "button", onclick: function () { location.hash = "#/lineage"; } }, "×");
      var head = h("header", { class: "panel-head" },
        h("h2", { id: "panel-title" }, nd.name), closeBtn,
        h("p", null, h("span", { class: "kind" }, nd.kind), " ",
          row ? h("span", { class: "state-badge c-" + colourOf(row), "data-testid": "panel-state" }, colourOf(row) === "amber" ? "blocked" : row.state) : null));
      var facts = [["owner", nd.owner || (row && row.owner) || "—"], ["tier", nd.tier || (row && row.tier) || "—"]];
      if (row) {
        if (row.description) facts.push(["description", row.description]);
        facts.push(["path", row.path]);
        facts.push(["breaker since", when(row.since)]);
        if (row.reason) facts.push(["reason", row.reason]);
        if (row.manual) facts.push(["by hand", manualText(row.manual)]);
        if (row.blocked_by && row.blocked_by.length) facts.push(["blocked by", row.blocked_by.map(blockName).join(", ")]);
        if (row.last_run) facts.push(["last run", h("a", { href: "#/run/" + enc(row.last_run.run_id) }, when(row.last_run.at) + " " + row.last_run.status)]);
      } else {
        if (nd.origins) facts.push(["from", nd.origins.join(", ")]);
        if (nd.unique_id) facts.push(["id", nd.unique_id]);
      }
      var impactBox = h("section", { id: "impact", "data-testid": "impact", "aria-label": "blast radius" }, h("h3", null, "Blast radius"), h("p", { class: "muted" }, "loading…"));
      var body = h("div", { class: "panel-body" }, h("dl", { class: "meta" }, facts.map(function (f) { return [h("dt", null, f[0]), h("dd", null, f[1])]; })));
      clear(panel).appendChild(head);
      panel.setAttribute("aria-labelledby", "panel-title");
      panel.appendChild(body);
      if (row) {
        body.appendChild(breakerPanel(nd.name, row));
        var checksBox = h("section", { id: "checks", "data-testid": "checks" }, h("h3", null, "Checks"), h("p", { class: "muted" }, "loading…"));
        var runsBox = h("section", { id: "panel-runs", "data-testid": "panel-runs" }, h("h3", null, "Last runs"));
        var auditBox = h("section", { id: "audit-log", "data-testid": "audit-log" }, h("h3", null, "Breaker audit log"));
        body.appendChild(checksBox);
        body.appendChild(impactBox);
        body.appendChild(runsBox);
        body.appendChild(auditBox);
        api("/api/datasets/" + enc(nd.name)).then(function (d) {
          if (page.selected !== nd.id) return;
          renderChecks(checksBox, nd.name, d);
          renderRuns(runsBox, d.runs || []);
        }).catch(function (e) { checksBox.appendChild(errorBox(e)); });
        loadAudit(auditBox, nd.name);
      } else {
        body.appendChild(impactBox);
      }
      api("/api/impact/" + enc(nd.id)).then(function (imp) {
        if (page.selected !== nd.id) return;
        showImpact(nd.id, imp);
        renderImpact(impactBox, imp);
      }).catch(function (e) { impactBox.appendChild(errorBox(e)); });
      closeBtn.focus();
    }

    function renderImpact(box, imp) {
      var list = imp.impacted || [];
      clear(box).appendChild(h("h3", null, "Blast radius"));
      if (!list.length) { box.appendChild(h("p", { class: "muted", "data-testid": "impact-none" }, "nothing downstream")); return; }
      var by = imp.summary && imp.summary.by_kind ? Object.keys(imp.summary.by_kind).map(function (k) { return imp.summary.by_kind[k] + " " + k; }).join(", ") : "";
      box.appendChild(h("p", { "data-testid": "impact-summary" }, list.length + " downstream (highlighted on the graph)" + (by ? ": " + by : "")));
      if (imp.notify && imp.notify.length) {
        box.appendChild(h("p", { class: "small" }, "Whom to call:"));
        box.appendChild(h("ul", { class: "notify" }, imp.notify.map(function (n) {
          return h("li", null, typeof n === "object" ? (n.owner || "?") + (n.tier ? " (tier " + n.tier + ")" : "") + " — " + (n.count || 0) + " nodes, most critical " + (n.most_critical || "?") : cell(n));
        })));
      }
      box.appendChild(h("ul", { class: "impacted" }, list.slice(0, 50).map(function (x) {
        return h("li", null, h("a", { href: "#/lineage/" + enc(x.id || x.name) }, x.name), " ", h("span", { class: "small muted" }, x.kind + " · depth " + x.depth + (x.owner ? " · " + x.owner : "")));
      })));
      if (list.length > 50) box.appendChild(h("p", { class: "small muted" }, "and " + (list.length - 50) + " more"));
    }

    function renderChecks(box, dataset, d) {
      clear(box).appendChild(h("h3", null, "Checks"));
      if (d.last_run_id) box.appendChild(h("p", { class: "small muted" }, "last results from run ", h("a", { href: "#/run/" + enc(d.last_run_id) }, d.last_run_id)));
      var checks = (d.checks || []).slice().sort(function (a, b) {
        var sa = a.last ? a.last.status : "none", sb = b.last ? b.last.status : "none";
        return (ORDER[sa] === undefined ? 8 : ORDER[sa]) - (ORDER[sb] === undefined ? 8 : ORDER[sb]);
      });
      var list = h("ul", { class: "check-list" });
      checks.forEach(function (c) {
        var st = c.last ? c.last.status : "none";
        var chartBox = h("div", { class: "history-box", hidden: true });
        var btn = h("button", {
          type: "button", class: "small-btn", "aria-expanded": "false", "data-testid": "history-" + tid(c.name),
          "aria-label": "metric history of " + c.name,
        }, "history");
        btn.addEventListener("click", function () {
          var open = chartBox.hidden;
          chartBox.hidden = !open;
          btn.setAttribute("aria-expanded", String(open));
          if (open && !chartBox.firstChild) loadHistory(chartBox, dataset, c.name);
        });
        var li = h("li", { class: "check-item st-row-" + st, "data-testid": "panel-check-" + tid(c.name) },
          h("div", { class: "check-head" }, badge(st), " ", h("span", { class: "mono" }, c.name), " ", h("span", { class: "small muted" }, c.kind + (c.severity === "warn" ? " · warn" : "")), btn),
          c.last && c.last.message ? h("div", { class: "small" }, c.last.message) : null,
          c.last && c.last.samples && c.last.samples.length ? samplesTable(c.last) : null,
          chartBox);
        list.appendChild(li);
      });
      box.appendChild(list);
    }

    function loadHistory(box, dataset, check) {
      box.appendChild(h("p", { class: "muted small" }, "loading…"));
      api("/api/history/" + enc(dataset) + "?check=" + enc(check)).then(function (v) {
        clear(box);
        var m = (v.metrics || []).filter(function (x) { return x.metric === check; })[0] || (v.metrics || [])[0];
        if (!m || !m.points || !m.points.length) { box.appendChild(h("p", { class: "muted small" }, "no history recorded for this check")); return; }
        box.appendChild(lineChart(m.points, { label: "history of " + check, testid: "history-chart" }));
        box.appendChild(h("p", { class: "small muted" }, m.points.length + " recorded values of " + m.metric));
      }).catch(function (e) { clear(box).appendChild(errorBox(e)); });
    }

    function renderRuns(box, runs) {
      clear(box).appendChild(h("h3", null, "Last runs"));
      if (!runs.length) { box.appendChild(h("p", { class: "muted" }, "no recorded runs")); return; }
      box.appendChild(h("ul", { class: "runs-mini" }, runs.map(function (r) {
        return h("li", null, badge(r.status), " ", h("a", { href: "#/run/" + enc(r.run_id) }, when(r.started_at)),
          " ", h("span", { class: "small muted" }, (r.summary ? r.summary.failed + " failed of " + r.summary.total : "")));
      })));
    }

    function loadAudit(box, dataset) {
      return api("/api/breakers/" + enc(dataset) + "/history?limit=20").then(function (v) {
        clear(box).appendChild(h("h3", null, "Breaker audit log"));
        var log = (v.log || []).slice().reverse();
        if (!log.length) { box.appendChild(h("p", { class: "muted" }, "no transitions yet")); return; }
        box.appendChild(h("ol", { class: "audit" }, log.map(function (e) {
          return h("li", { "data-testid": "audit-entry", "data-event": e.event },
            h("span", { class: "mono small" }, when(e.at)), " ", h("strong", null, e.event), " ",
            (e.from || "?") + " → " + (e.to || "?"), " by ", h("em", null, e.by || "?"),
            e.reason ? h("div", { class: "small" }, e.reason) : null);
        })));
      }).catch(function (e) { clear(box).appendChild(errorBox(e)); });
    }

    function breakerPanel(dataset, row) {
      var reason = h("textarea", { id: "breaker-reason", "data-testid": "breaker-reason", rows: 2, placeholder: "why (kept in the audit log)" });
      var until = h("input", { id: "breaker-until", "data-testid": "breaker-until", type: "text", placeholder: "4h, or 2026-12-01T08:00:00Z" });
      var token = h("input", { id: "breaker-token", "data-testid": "breaker-token", type: "password", autocomplete: "off" });
      var tokenRow = h("div", { class: "field" }, h("label", { for: "breaker-token" }, "Token (asked once, kept for this tab)"), token);
      var forget = h("button", { type: "button", class: "link-btn", "data-testid": "breaker-forget-token" }, "forget the token");
      var msg = h("div", { class: "breaker-message", id: "breaker-message", "data-testid": "breaker-message", role: "status", "aria-live": "polite" });
      function syncToken() {
        var have = !!sessionStorage.getItem(TOKEN_KEY);
        tokenRow.hidden = have;
        forget.hidden = !have;
      }
      forget.addEventListener("click", function () { sessionStorage.removeItem(TOKEN_KEY); syncToken(); token.focus(); });
      syncToken();
      function act(action) {
        var t = sessionStorage.getItem(TOKEN_KEY) || token.value.trim();
        msg.className = "breaker-message";
        if (!t) { msg.classList.add("bad"); msg.textContent = "Enter the server's token first (SLUICE_TOKEN on the server)."; token.focus(); return; }
        var body = { reason: reason.value.trim() || null, by: "dashboard" };
        if (until.value.trim()) body.until = until.value.trim();
        msg.textContent = action + "…";
        api("/api/breakers/" + enc(dataset) + "/" + action, { method: "POST", body: body, token: t }).then(function (v) {
          sessionStorage.setItem(TOKEN_KEY, t);
          token.value = "";
          msg.classList.add("good");
          var now = v && v.breaker ? v.breaker.state : v && v.state;
          msg.textContent = "Done: " + action + (now ? " — the breaker is now " + now : "") + ".";
          return refresh(dataset, msg.textContent);
        }).catch(function (e) {
          if (e.status === 401) sessionStorage.removeItem(TOKEN_KEY);
          syncToken();
          msg.classList.add("bad");
          msg.setAttribute("data-http-status", e.status || "");
          msg.textContent = e.message;
        });
      }
      var stateText = colourOf(row) === "amber" ? "closed, but blocked upstream" : row.state;
      return h("section", { class: "breaker-panel", id: "breaker-panel", "data-testid": "breaker-panel", "aria-label": "breaker" },
        h("h3", null, "Breaker: ", h("span", { "data-testid": "breaker-state" }, stateText)),
        h("div", { class: "field" }, h("label", { for: "breaker-reason" }, "Reason"), reason),
        h("div", { class: "field" }, h("label", { for: "breaker-until" }, "Until (override needs it; optional for trip)"), until),
        tokenRow,
        h("div", { class: "buttons" },
          h("button", { type: "button", id: "breaker-reset", "data-testid": "breaker-reset", onclick: function () { act("reset"); } }, "Reset"),
          h("button", { type: "button", id: "breaker-trip", "data-testid": "breaker-trip", class: "danger", onclick: function () { act("trip"); } }, "Trip"),
          h("button", { type: "button", id: "breaker-override", "data-testid": "breaker-override", onclick: function () { act("override"); } }, "Override"),
          forget),
        msg);
    }

    /** After a breaker command: new colours on the graph, the panel again. */
    function refresh(dataset, message) {
      return loadStates().then(function () {
        var nd = page.byId[page.selected];
        if (nd) {
          renderPanel(nd);
          var m = document.getElementById("breaker-message");
          if (m && message) { m.className = "breaker-message good"; m.textContent = message; }
        }
      });
    }

    return page;
  }

  /** A manual overlay: `tripped by alice at ... until ...: reason`. */
  function manualText(m) {
    if (!m || typeof m !== "object") return cell(m);
    return (m.kind || "manual") + " by " + (m.by || "?") + " at " + when(m.at) +
      (m.until ? " until " + when(m.until) : "") + (m.reason ? ": " + m.reason : "");
  }

  function blockName(b) {
    if (b && typeof b === "object") return b.dataset || b.name || JSON.stringify(b);
    return String(b);
  }

  // ---- runs

  function runsPage(params) {
    setTitle("Runs");
    var dsSel = h("select", { id: "runs-dataset", "data-testid": "runs-dataset", "aria-label": "dataset" }, h("option", { value: "" }, "all datasets"));
    var stSel = h("select", { id: "runs-status", "data-testid": "runs-status", "aria-label": "status" },
      ["", "passed", "warned", "failed", "error"].map(function (v) { return h("option", { value: v }, v || "any status"); }));
    stSel.value = params.status || "";
    var tbody = h("tbody");
    var more = h("button", { type: "button", id: "runs-more", "data-testid": "runs-more", hidden: true }, "Load more");
    var status = h("div");
    clear(main).appendChild(h("div", { class: "page" },
      h("h2", null, "Runs"),
      h("form", { class: "filters", role: "search", onsubmit: function (e) { e.preventDefault(); } },
        h("label", null, "Dataset ", dsSel), h("label", null, "Status ", stSel)),
      status,
      h("div", { class: "table-wrap" }, h("table", { class: "runs", id: "runs-table", "data-testid": "runs-table" },
        h("thead", null, h("tr", null, ["started", "status", "checks", "datasets", "actor", "run"].map(function (t) { return h("th", { scope: "col" }, t); }))),
        tbody)),
      more));
    function refilter() {
      var q = [];
      if (dsSel.value) q.push("dataset=" + enc(dsSel.value));
      if (stSel.value) q.push("status=" + enc(stSel.value));
      location.hash = "#/runs" + (q.length ? "?" + q.join("&") : "");
    }
    dsSel.addEventListener("change", refilter);
    stSel.addEventListener("change", refilter);
    api("/api/datasets").then(function (v) {
      v.datasets.forEach(function (d) { dsSel.appendChild(h("option", { value: d.dataset }, d.dataset)); });
      dsSel.value = params.dataset || "";
    }).catch(function () { /* the filter just lists no names */ });
    function load(cursor) {
      var q = ["limit=" + (/^[0-9]{1,3}$/.test(params.limit || "") ? params.limit : "25")];
      if (params.dataset) q.push("dataset=" + enc(params.dataset));
      if (params.status) q.push("status=" + enc(params.status));
      if (cursor) q.push("cursor=" + enc(cursor));
      more.disabled = true;
      api("/api/runs?" + q.join("&")).then(function (v) {
        clear(status);
        if (!cursor && !v.runs.length) status.appendChild(h("p", { class: "muted" }, "no runs recorded" + (params.dataset || params.status ? " that match" : "")));
        v.runs.forEach(function (r) {
          var sm = r.summary || {};
          tbody.appendChild(h("tr", { "data-testid": "run-row", "data-run-id": r.run_id },
            h("td", null, when(r.started_at)),
            h("td", null, badge(r.status)),
            h("td", null, (sm.failed || 0) + " failed, " + (sm.warned || 0) + " warned of " + (sm.total || 0)),
            h("td", null, (r.datasets || []).map(function (d) { return d.dataset + (d.failed ? " (" + d.failed + " failed)" : ""); }).join(", ")),
            h("td", null, r.actor || ""),
            h("td", null, h("a", { href: "#/run/" + enc(r.run_id), class: "mono small", "aria-label": "open run " + r.run_id }, r.run_id.slice(0, 13) + "…"))));
        });
        more.hidden = !v.next_cursor;
        more.disabled = false;
        more.onclick = function () { load(v.next_cursor); };
      }).catch(function (e) { clear(status).appendChild(errorBox(e)); });
    }
    load(null);
  }

  function runPage(id) {
    setTitle("Run " + id);
    var box = h("div", { class: "page" }, h("p", null, h("a", { href: "#/runs" }, "← all runs")), h("p", { class: "muted" }, "loading…"));
    clear(main).appendChild(box);
    api("/api/runs/" + enc(id)).then(function (v) {
      box.removeChild(box.lastChild);
      var holder = h("div");
      box.appendChild(holder);
      if (v.report) {
        renderRun(holder, v.report, { links: true, run: v });
      } else {
        holder.appendChild(h("div", { class: "warn-box", "data-testid": "run-pending" },
          "run " + (v.run_id || id) + ": " + (v.status || "no report kept") + (v.message ? " — " + v.message : "")));
      }
    }).catch(function (e) { box.removeChild(box.lastChild); box.appendChild(errorBox(e)); });
  }

  // ---- incidents

  function incidentsPage(params) {
    setTitle("Incidents");
    var since = params.since || "365d";
    var sel = h("select", { id: "incidents-since", "data-testid": "incidents-since", "aria-label": "period" },
      ["30d", "90d", "365d"].map(function (v) { return h("option", { value: v }, "last " + v); }));
    sel.value = since;
    sel.addEventListener("change", function () { location.hash = "#/incidents?since=" + enc(sel.value); });
    var box = h("div", null, h("p", { class: "muted" }, "loading…"));
    clear(main).appendChild(h("div", { class: "page", "data-testid": "incidents-page" },
      h("h2", null, "Incidents ", sel), box));
    api("/api/incidents?since=" + enc(since)).then(function (r) {
      clear(box);
      var rec = r.recovery || {};
      box.appendChild(h("p", { class: "small muted" }, when(r.since) + " to " + when(r.until)));
      box.appendChild(h("div", { class: "cards" },
        card("breaker trips", r.incidents, "incidents-total"),
        card("recovered", rec.recovered),
        card("still open", rec.ongoing),
        card("median time to recover", duration(rec.median_s)),
        card("worst time to recover", duration(rec.worst_s))));
      var months = (r.per_month || []).map(function (m) { return { label: m.month, value: m.incidents, cls: "st-fail" }; });
      box.appendChild(h("figure", null, barChart(months, { width: 760, height: 240, label: "trips per month", testid: "incidents-per-month" }),
        h("figcaption", null, "breaker trips per month")));
      var ds = (r.datasets || []).slice().sort(function (a, b) { return b.incidents - a.incidents; });
      if (ds.length) {
        box.appendChild(h("figure", null, hbarChart(ds.slice(0, 15).map(function (d) {
          return { label: d.dataset, value: d.incidents, cls: "st-fail" };
        }), { width: 760, label: "the datasets that trip most", testid: "incidents-by-dataset" }),
          h("figcaption", null, "the datasets that trip most")));
        box.appendChild(h("div", { class: "table-wrap" }, h("table", { "data-testid": "incidents-table" },
          h("thead", null, h("tr", null, ["dataset", "trips", "by hand", "median recovery", "worst recovery", "open since"].map(function (t) { return h("th", { scope: "col" }, t); }))),
          h("tbody", null, ds.map(function (d) {
            return h("tr", null,
              h("th", { scope: "row" }, h("a", { href: "#/lineage/" + enc("dataset:" + d.dataset) }, d.dataset)),
              h("td", { class: "num" }, d.incidents), h("td", { class: "num" }, d.manual),
              h("td", null, duration(d.median_recovery_s)), h("td", null, duration(d.worst_recovery_s)),
              h("td", null, d.open_since ? when(d.open_since) : "recovered"));
          })))));
      } else {
        box.appendChild(h("p", { class: "muted" }, "no breaker tripped in this period"));
      }
    }).catch(function (e) { clear(box).appendChild(errorBox(e)); });
  }

  function card(label, value, testid) {
    return h("div", { class: "card", "data-testid": testid }, h("div", { class: "card-value" }, value === null || value === undefined ? "—" : value), h("div", { class: "card-label" }, label));
  }

  // ---- keys

  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && lineage && lineage.alive && lineage.selected) {
      e.preventDefault();
      location.hash = "#/lineage";
    } else if (e.key === "/" && document.activeElement === document.body) {
      var sbox = document.getElementById("search");
      if (sbox) { e.preventDefault(); sbox.focus(); }
    }
  });

  window.addEventListener("hashchange", route);
  route();
})();
