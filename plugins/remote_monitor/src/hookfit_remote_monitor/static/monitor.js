// hookfit monitor's page: one panel per run, a uPlot chart per metric (a
// metric with its val_ twin), and a table of the latest values, kept live by
// the server's event stream (/events).
//
// Every run id, metric name and value comes from whoever posted it: the DOM
// is built with createElement and textContent only, never innerHTML, so
// markup in a payload shows as text and never runs.
"use strict";

(function () {
  const FIRST = ["loss", "acc", "lr"]; // charts in this order, then by name
  const COLORS = ["#1565c0", "#e65100", "#2e7d32", "#6a1b9a", "#c62828", "#00838f"];
  const EPOCH_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]; // whole epochs
  const runs = new Map(); // run id -> run (see newRun)
  const root = document.getElementById("runs");
  let pending = false;

  document.getElementById("root").textContent = window.location.origin;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  // NaN and infinities arrive as text (JSON has no such numbers).
  function number(value) {
    if (typeof value === "number") return value;
    if (value === "NaN") return NaN;
    if (value === "Infinity") return Infinity;
    if (value === "-Infinity") return -Infinity;
    return null;
  }

  function shown(value) {
    const n = number(value);
    if (n === null) return typeof value === "string" ? value : JSON.stringify(value);
    return Number.isFinite(n) ? String(Number(n.toPrecision(6))) : String(n);
  }

  function newRun(id) {
    const panel = el("section", "run");
    panel.dataset.run = id;
    panel.append(el("h2", "run-id", id));
    const meta = panel.appendChild(el("p", "meta"));
    const body = panel.appendChild(el("div", "body"));
    const charts = body.appendChild(el("div", "charts"));
    const table = body.appendChild(el("table", "latest"));
    table.append(el("caption", null, "latest values"));
    const head = table.appendChild(el("thead")).appendChild(el("tr"));
    for (const name of ["metric", "value", "epoch"]) head.append(el("th", null, name));
    const rows = table.appendChild(el("tbody"));
    root.prepend(panel); // the newest run on top
    const run = { id, panel, meta, charts, rows, epochs: new Map(), keys: new Set(),
      plots: new Map(), count: 0, last: 0, dirty: true, shape: "" };
    runs.set(id, run);
    return run;
  }

  function add(event) {
    const run = runs.get(event.run_id) || newRun(event.run_id);
    run.epochs.set(event.epoch, event.logs);
    for (const key of Object.keys(event.logs)) run.keys.add(key);
    run.count += 1;
    run.last = Math.max(run.last, event.received);
    run.dirty = true;
  }

  // Charts: "loss" with "val_loss", "acc" with "val_acc", "lr", then every
  // other key holding numbers, each with its val_ twin when there is one.
  function groups(run) {
    const numeric = [...run.keys].filter((key) =>
      [...run.epochs.values()].some((logs) => key in logs && number(logs[key]) !== null));
    const found = new Map();
    for (const key of numeric.sort()) {
      const base = key.startsWith("val_") && numeric.includes(key.slice(4)) ? key.slice(4) : key;
      if (!found.has(base)) found.set(base, []);
      found.get(base).push(key);
    }
    const rank = (name) => (FIRST.includes(name) ? FIRST.indexOf(name) : FIRST.length);
    return [...found.entries()].sort((a, b) => rank(a[0]) - rank(b[0]) || (a[0] < b[0] ? -1 : 1));
  }

  function chartWidth(run) { // three charts a row on a wide screen, fewer on a narrow one
    const room = run.charts.clientWidth || 640;
    const columns = Math.max(1, Math.min(3, Math.floor(room / 300)));
    return Math.max(240, Math.floor(room / columns) - 20);
  }

  function drawCharts(run) {
    const epochs = [...run.epochs.keys()].sort((a, b) => a - b);
    const found = groups(run);
    const shape = JSON.stringify(found);
    if (shape !== run.shape) { // a new metric: build the charts again
      for (const { plot } of run.plots.values()) plot.destroy();
      run.plots.clear();
      run.charts.replaceChildren();
      run.shape = shape;
    }
    for (const [name, keys] of found) {
      const data = [epochs, ...keys.map((key) => epochs.map((epoch) => {
        const n = number(run.epochs.get(epoch)[key]);
        return n === null || !Number.isFinite(n) ? null : n;
      }))];
      const existing = run.plots.get(name);
      if (existing) { existing.plot.setData(data); continue; }
      const box = run.charts.appendChild(el("div", "chart"));
      box.dataset.metric = name;
      const plot = new uPlot({
        title: name, width: chartWidth(run), height: 200, legend: { live: false },
        scales: { x: { time: false } },
        axes: [{ label: "epoch", incrs: EPOCH_STEPS }, {}],
        series: [{ label: "epoch" },
          ...keys.map((key, i) => ({ label: key, stroke: COLORS[i % COLORS.length], width: 2,
            points: { show: epochs.length < 60 } }))],
      }, data, box);
      run.plots.set(name, { plot, keys });
    }
  }

  function drawTable(run) {
    const latest = new Map(); // key -> [value, epoch]
    for (const epoch of [...run.epochs.keys()].sort((a, b) => a - b)) {
      const logs = run.epochs.get(epoch);
      for (const key of Object.keys(logs)) latest.set(key, [logs[key], epoch]);
    }
    const rows = [];
    for (const key of [...latest.keys()].sort()) {
      const [value, epoch] = latest.get(key);
      const row = el("tr");
      row.dataset.key = key;
      row.append(el("td", "key", key));
      const cell = row.appendChild(el("td", "value", shown(value)));
      cell.title = typeof value === "string" ? value : JSON.stringify(value);
      row.append(el("td", "epoch", epoch));
      rows.push(row);
    }
    run.rows.replaceChildren(...rows);
  }

  function draw() {
    pending = false;
    let total = 0;
    for (const run of runs.values()) {
      total += run.count;
      if (!run.dirty) continue;
      run.dirty = false;
      const when = run.last ? new Date(run.last * 1000).toLocaleTimeString() : "";
      run.meta.textContent = `${run.epochs.size} epochs, last at ${when}`;
      drawCharts(run);
      drawTable(run);
    }
    document.getElementById("summary").textContent =
      `${runs.size} run${runs.size === 1 ? "" : "s"}, ${total} epochs received`;
    document.getElementById("empty").hidden = runs.size > 0;
  }

  function later() { // at most one redraw per 100 ms, however fast epochs come
    if (!pending) { pending = true; setTimeout(draw, 100); }
  }

  function status(text) {
    const node = document.getElementById("status");
    node.textContent = text;
    node.className = `status ${text}`;
  }

  window.addEventListener("resize", () => {
    for (const run of runs.values()) {
      for (const { plot } of run.plots.values()) plot.setSize({ width: chartWidth(run), height: 200 });
    }
  });

  const stream = new EventSource("/events");
  stream.addEventListener("snapshot", (message) => {
    // Sent first on every (re)connection: it replaces what the page holds.
    for (const run of runs.values()) {
      for (const { plot } of run.plots.values()) plot.destroy();
      run.panel.remove();
    }
    runs.clear();
    const all = Object.values(JSON.parse(message.data))
      .sort((a, b) => (a[0] ? a[0].received : 0) - (b[0] ? b[0].received : 0));
    for (const events of all) for (const event of events) add(event);
    draw();
    status("live");
  });
  stream.addEventListener("epoch", (message) => { add(JSON.parse(message.data)); later(); });
  stream.addEventListener("error", () => status("connecting"));
})();
