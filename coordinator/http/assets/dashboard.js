// The μNAS live dashboard: draws the page its path names from the JSON and
// SVG endpoints of this coordinator (docs/api.md, "Dashboard endpoints") and
// keeps it up to date without reloading: the job page long-polls (the server
// answers as soon as a result arrives), the other pages poll every few
// seconds. Plots are drawn by the server with the report's plotting code and
// inserted as they come. No libraries, nothing fetched from elsewhere.
"use strict";

const POLL_MS = 2000;
const app = document.getElementById("app");
const live = document.getElementById("live");
let updates = 0;

// ---- small helpers -------------------------------------------------------

function esc(value) {
  return String(value === undefined || value === null ? "" : value)
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}
function num(value) { return value === undefined || value === null ? 0 : Number(value); }
function pct(x) {
  return x === null || x === undefined || !isFinite(x) ? "—" : (x * 100).toFixed(2) + "%";
}
function si(x, unit) {
  if (x === null || x === undefined || !isFinite(x)) return "—";
  const prefixes = ["", "k", "M", "G", "T"];
  let i = 0;
  while (Math.abs(x) >= 1000 && i < prefixes.length - 1) { x /= 1000; i++; }
  const digits = Math.abs(x) >= 100 || i === 0 ? 0 : Math.abs(x) >= 10 ? 1 : 2;
  return x.toFixed(digits).replace(/\.0+$/, "").replace(/(\.\d*?)0+$/, "$1") +
    (unit ? " " + prefixes[i] + unit : prefixes[i]);
}
function bytes(x) { return si(num(x), "B"); }
function count(x) { return si(num(x), ""); }
function duration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "—";
  seconds = Math.round(seconds);
  if (seconds < 60) return seconds + " s";
  if (seconds < 3600) return Math.floor(seconds / 60) + " min " + (seconds % 60) + " s";
  return Math.floor(seconds / 3600) + " h " + Math.round((seconds % 3600) / 60) + " min";
}
function rate(x) { return x === null || x === undefined ? "—" : x.toFixed(x < 10 ? 1 : 0); }
function stateName(s) { return String(s || "UNSPECIFIED").replace(/^(JOB|CANDIDATE)_STATE_/, ""); }
function badge(state, id) {
  const name = stateName(state);
  return `<span class="badge state-${esc(name.toLowerCase())}"${id ? ` id="${id}"` : ""}>${esc(name)}</span>`;
}
function bar(fraction) {
  const w = Math.max(0, Math.min(1, fraction || 0)) * 100;
  return `<div class="bar"><div style="width:${w.toFixed(1)}%"></div></div>`;
}
function valueSpan(id, value, text) {
  return `<span id="${id}" data-value="${value === null || value === undefined ? "" : esc(value)}">${esc(text)}</span>`;
}
function card(label, valueHtml, subHtml) {
  return `<div class="card"><div class="label">${esc(label)}</div><div class="value">${valueHtml}</div>` +
    (subHtml ? `<div class="sub">${subHtml}</div>` : "") + `</div>`;
}
function setHtml(id, html) {
  const el = document.getElementById(id);
  if (el && el.innerHTML !== html) el.innerHTML = html;
}

function markLive(ok) {
  const now = new Date();
  live.textContent = ok ? "live · updated " + now.toLocaleTimeString() : "coordinator unreachable · retrying";
  live.classList.toggle("stale", !ok);
  document.body.dataset.updates = String(updates);
}

// The coordinator's database cannot commit (a full disk, say): changes are
// refused until it can. Shown above every page while it lasts.
function showStoreError(message) {
  const el = document.getElementById("store-error");
  if (!el) return;
  el.hidden = !message;
  el.textContent = message ? "Store error: " + message : "";
}

async function fetchText(url) {
  const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
  if (response.status === 401) { window.location.assign("/login"); throw new Error("signed out"); }
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try { message = JSON.parse(text).error; } catch (e) { /* not JSON */ }
    throw new Error(`${url}: ${response.status} ${message}`);
  }
  return text;
}
async function fetchJson(url) { return JSON.parse(await fetchText(url)); }

// Replaces the contents of slot `id` with the SVG at `url`.
async function loadSvg(id, url) {
  const svg = await fetchText(url);
  setHtml(id, svg);
}

// Runs `step` now and then every `ms` (or as soon as it returns, for long
// polls: step returns the delay before the next run).
function every(ms, step) {
  const run = async () => {
    let delay = ms;
    try {
      const next = await step();
      if (typeof next === "number") delay = next;
      markLive(true);
    } catch (error) {
      markLive(false);
      console.warn(String(error));
    }
    setTimeout(run, delay);
  };
  run();
}

// ---- a sortable, filterable table ----------------------------------------

// columns: {key, label, num, html(row)}; rows: objects. Clicking a header
// sorts by it; `filter(row)` chooses the rows shown.
class Table {
  constructor(id, columns, options) {
    this.id = id;
    this.columns = columns;
    this.sortKey = options.sortKey;
    this.sortDesc = !!options.sortDesc;
    this.rowClass = options.rowClass || (() => "");
    this.empty = options.empty || "Nothing yet.";
    this.limit = options.limit || 0;
    this.rows = [];
    this.filter = () => true;
  }
  setRows(rows) { this.rows = rows; this.render(); }
  render() {
    const host = document.getElementById(this.id + "-wrap");
    if (!host) return;
    let rows = this.rows.filter(this.filter);
    const shown = rows.length;
    if (this.sortKey) {
      const k = this.sortKey;
      rows = rows.slice().sort((a, b) => {
        const x = a[k], y = b[k];
        const c = (x === null || x === undefined) - (y === null || y === undefined) ||
          (typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y)));
        return this.sortDesc ? -c : c;
      });
    }
    if (this.limit && rows.length > this.limit) rows = rows.slice(0, this.limit);
    const head = this.columns.map((c) => {
      const sorted = c.key === this.sortKey ? (this.sortDesc ? " sorted-desc" : " sorted-asc") : "";
      return `<th class="sortable${c.num ? " num" : ""}${sorted}" data-key="${esc(c.key)}">${esc(c.label)}</th>`;
    }).join("");
    const body = rows.length === 0
      ? `<tr><td class="empty" colspan="${this.columns.length}">${esc(this.empty)}</td></tr>`
      : rows.map((r) => `<tr class="${this.rowClass(r)}">` + this.columns.map((c) =>
        `<td class="${c.num ? "num " : ""}${esc(c.key)}">${c.html ? c.html(r) : esc(r[c.key])}</td>`).join("") +
        "</tr>").join("\n");
    host.innerHTML = `<table id="${this.id}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
    host.querySelectorAll("th.sortable").forEach((th) => th.addEventListener("click", () => {
      const key = th.dataset.key;
      if (key === this.sortKey) this.sortDesc = !this.sortDesc; else { this.sortKey = key; this.sortDesc = false; }
      this.render();
      if (this.onSort) this.onSort();
    }));
    const counter = document.getElementById(this.id + "-count");
    if (counter) counter.textContent = `${shown} of ${this.rows.length} shown` +
      (this.limit && shown > this.limit ? ` (first ${this.limit})` : "");
  }
}

// ---- pages ---------------------------------------------------------------

function jobsPage() {
  document.title = "Jobs · μNAS dashboard";
  app.innerHTML = `<div class="eyebrow">μNAS live dashboard</div><h1>Jobs</h1>
    <div class="table-wrap" id="jobs-table-wrap"></div>`;
  const table = new Table("jobs-table", [
    { key: "job_id", label: "job", num: true, html: (r) => `<a href="/jobs/${r.job_id}">#${r.job_id}</a>` },
    { key: "name", label: "name", html: (r) => `<a href="/jobs/${r.job_id}">${esc(r.name || "(unnamed)")}</a>` },
    { key: "state", label: "state", html: (r) => badge(r.state) },
    { key: "evaluations_done", label: "progress", num: true,
      html: (r) => `<span class="evaluations-done">${r.evaluations_done}</span> / ${r.rounds}` +
        (r.candidates_stopped ? ` <small class="muted">+ ${r.candidates_stopped} stopped</small>` : "") +
        bar(r.rounds ? (r.evaluations_done + (r.candidates_stopped || 0)) / r.rounds : 0) },
    { key: "best_feasible_test_error", label: "best feasible test error", num: true,
      html: (r) => `<span class="best-error" data-value="${r.best_feasible_test_error ?? ""}">${pct(r.best_feasible_test_error)}</span>` },
    { key: "evaluations_per_hour", label: "evaluations / hour", num: true,
      html: (r) => `<span class="evals-per-hour" data-value="${r.evaluations_per_hour ?? ""}">${rate(r.evaluations_per_hour)}</span>` },
    { key: "eta_seconds", label: "ETA", num: true,
      html: (r) => `<span class="eta">${r.state === "RUNNING" ? duration(r.eta_seconds) : "—"}</span>` },
  ], { sortKey: "job_id", sortDesc: true, empty: "No jobs yet: submit one with unasctl submit.",
       rowClass: (r) => "job-row" });
  every(POLL_MS, async () => {
    const data = await fetchJson("/api/jobs");
    updates++;
    showStoreError(data.store_error);
    table.setRows(data.jobs.map((j) => j.summary));
  });
}

function candidateColumns(jobId) {
  return [
    { key: "candidate_id", label: "candidate", num: true,
      html: (r) => `<a href="/jobs/${jobId}/candidates/${r.candidate_id}">#${r.candidate_id}</a>` +
        (r.pareto ? `<span class="tag">PARETO</span>` : "") },
    { key: "parent_id", label: "parent", num: true,
      html: (r) => r.parent_id === null || r.parent_id === undefined ? "random"
        : `<a href="/jobs/${jobId}/candidates/${r.parent_id}">#${r.parent_id}</a>` },
    { key: "feasible", label: "feasible", html: (r) => (r.feasible ? "yes" : "no") },
    { key: "validation_error", label: "val. error", num: true, html: (r) => pct(r.validation_error) },
    { key: "test_error", label: "test error", num: true, html: (r) => pct(r.test_error) },
    { key: "peak_memory_bytes", label: "PMU", num: true, html: (r) => bytes(r.peak_memory_bytes) },
    { key: "model_size_bytes", label: "size", num: true, html: (r) => bytes(r.model_size_bytes) },
    { key: "macs", label: "MACs", num: true, html: (r) => count(r.macs) },
  ];
}

function jobPage(jobId) {
  app.innerHTML = `<header id="job-header"></header>
    <section class="cards" id="summary"></section>
    <h2>Error versus resources and progress</h2>
    <section class="plots" id="plots">
      <figure><div id="slot-progress"></div><figcaption>Best feasible test error after each evaluation.</figcaption></figure>
      <figure><div id="slot-pmu"></div><figcaption>Peak memory; the Pareto set highlighted, bounds dashed.</figcaption></figure>
      <figure><div id="slot-size"></div><figcaption>Model size (μNAS count).</figcaption></figure>
      <figure><div id="slot-macs"></div><figcaption>Multiply-accumulates.</figcaption></figure>
    </section>
    <h2>Population <small class="muted" id="population-note"></small></h2>
    <div class="table-wrap" id="population-table-wrap"></div>
    <h2>History</h2>
    <div class="filters">
      <input type="search" id="history-filter" placeholder="filter: candidate, parent, architecture, worker…">
      <label><input type="checkbox" id="feasible-only"> feasible only</label>
      <label><input type="checkbox" id="pareto-only"> Pareto set only</label>
      <span class="muted" id="history-table-count"></span>
    </div>
    <div class="table-wrap" id="history-table-wrap"></div>`;
  const population = new Table("population-table", candidateColumns(jobId),
    { sortKey: "validation_error", empty: "No population (yet).",
      rowClass: (r) => (r.pareto ? "pareto-row" : "") });
  const historyColumns = [
    { key: "evaluation", label: "#", num: true },
    ...candidateColumns(jobId),
    { key: "epochs", label: "epochs", num: true },
    { key: "training_seconds", label: "train s", num: true, html: (r) => num(r.training_seconds).toFixed(1) },
    { key: "worker_id", label: "worker" },
    { key: "architecture", label: "architecture", html: (r) => `<span class="arch">${esc(r.architecture)}</span>` },
  ];
  const history = new Table("history-table", historyColumns,
    { sortKey: "evaluation", sortDesc: true, limit: 500, empty: "No evaluated candidates yet.",
      rowClass: (r) => "history-row" + (r.pareto ? " pareto-row" : "") });
  const filterBox = document.getElementById("history-filter");
  const feasibleOnly = document.getElementById("feasible-only");
  const paretoOnly = document.getElementById("pareto-only");
  const applyFilter = () => {
    const words = filterBox.value.toLowerCase().split(/\s+/).filter((w) => w);
    history.filter = (r) => (!feasibleOnly.checked || r.feasible) && (!paretoOnly.checked || r.pareto) &&
      words.every((w) => [r.candidate_id, r.parent_id, r.architecture, r.worker_id, r.device]
        .join(" ").toLowerCase().includes(w));
    history.render();
  };
  // The filter and sort live in the address (?q=...&feasible=1&pareto=1&sort=-test_error), so a
  // filtered view can be bookmarked or shared.
  const params = new URLSearchParams(window.location.search);
  filterBox.value = params.get("q") || "";
  feasibleOnly.checked = params.get("feasible") === "1";
  paretoOnly.checked = params.get("pareto") === "1";
  const sort = params.get("sort");
  if (sort) { history.sortDesc = sort.startsWith("-"); history.sortKey = sort.replace(/^-/, ""); }
  const remember = () => {
    const p = new URLSearchParams();
    if (filterBox.value) p.set("q", filterBox.value);
    if (feasibleOnly.checked) p.set("feasible", "1");
    if (paretoOnly.checked) p.set("pareto", "1");
    p.set("sort", (history.sortDesc ? "-" : "") + history.sortKey);
    window.history.replaceState(null, "", window.location.pathname + "?" + p.toString());
  };
  history.onSort = remember;
  for (const [el, ev] of [[filterBox, "input"], [feasibleOnly, "change"], [paretoOnly, "change"]]) {
    el.addEventListener(ev, () => { applyFilter(); remember(); });
  }
  applyFilter();

  let version = "";
  let firstDone = null;
  every(POLL_MS, async () => {
    const data = await fetchJson(`/api/jobs/${jobId}` + (version ? `?changed_since=${encodeURIComponent(version)}` : ""));
    const s = data.summary;
    if (firstDone === null) { firstDone = s.evaluations_done; document.body.dataset.firstDone = String(firstDone); }
    const changed = data.version !== version;
    version = data.version;
    renderJobHeader(data.job, s);
    showStoreError(data.job.store_error);
    if (changed) {
      updates++;
      const paretoIds = new Set(data.pareto_ids.map(Number));
      await Promise.all([
        ...["progress", "pmu", "size", "macs"].map((p) => loadSvg("slot-" + p, `/api/jobs/${jobId}/plots/${p}.svg`)),
        fetchJson(`/api/jobs/${jobId}/population`).then((p) => {
          document.getElementById("population-note").textContent = p.note ? p.note :
            `(${p.candidates.length} candidates aging evolution samples parents from)`;
          population.setRows(p.candidates.map((c) => Object.assign(c, { pareto: paretoIds.has(c.candidate_id) })));
        }),
        fetchJson(`/api/jobs/${jobId}/history`).then((h) => { history.setRows(h.candidates); }),
      ]);
    }
    // Running: ask again at once (the server waits for a change). Ended: slowly.
    return s.state === "RUNNING" ? 0 : 10 * POLL_MS;
  });
}

function renderJobHeader(job, s) {
  const spec = job.spec || {};
  document.title = `${s.name || "job " + s.job_id} · μNAS dashboard`;
  const b = spec.bounds || {};
  const bounds = [
    b.error !== undefined ? `error ≤ ${pct(b.error)}` : null,
    b.peak_memory_bytes !== undefined ? `PMU ≤ ${bytes(b.peak_memory_bytes)}` : null,
    b.model_size_bytes !== undefined ? `size ≤ ${bytes(b.model_size_bytes)}` : null,
    b.macs !== undefined ? `MACs ≤ ${count(b.macs)}` : null,
  ].filter((x) => x);
  setHtml("job-header", `<div class="eyebrow"><a href="/">Jobs</a> / job ${s.job_id}</div>
    <h1 id="job-name">${esc(s.name || "(unnamed job)")}</h1>
    <div class="meta">${badge(job.state, "job-state")}
      <span class="chip">job ${s.job_id}</span>
      ${bounds.map((x) => `<span class="chip">${esc(x)}</span>`).join("")}</div>
    ${job.failure_reason ? `<div class="alert"><b>Job failed:</b> ${esc(job.failure_reason)}</div>` : ""}`);
  setHtml("summary",
    card("Evaluations", `${valueSpan("evaluations-done", s.evaluations_done, s.evaluations_done)} <small>/ ${s.rounds}</small>`,
      `${s.evaluations_in_flight} in flight · ${s.evaluations_queued} queued · ${s.evaluations_failed} failed · ${s.candidates_skipped} skipped` +
      (s.automated_stopping || s.candidates_stopped
        ? ` · <span id="stopped-count">${s.candidates_stopped}</span> stopped early` : "") +
      bar(s.rounds ? (s.evaluations_done + (s.candidates_stopped || 0)) / s.rounds : 0)) +
    card("Best feasible test error", valueSpan("best-test-error", s.best_feasible_test_error, pct(s.best_feasible_test_error)),
      s.best_candidate_id !== null ? `candidate <a href="/jobs/${s.job_id}/candidates/${s.best_candidate_id}">#${s.best_candidate_id}</a> · validation ${pct(s.best_feasible_validation_error)}`
        : "no feasible candidate yet") +
    card("Evaluations / hour", valueSpan("evals-per-hour", s.evaluations_per_hour, rate(s.evaluations_per_hour)),
      "over the latest 20 results") +
    card("ETA", valueSpan("eta", s.eta_seconds, s.state === "RUNNING" ? duration(s.eta_seconds) : "—"),
      s.state === "RUNNING" ? "at the current pace" : "the job has ended") +
    card("Pareto set", `${valueSpan("pareto-size", s.pareto_size, s.pareto_size)} <small>models</small>`,
      `${s.feasible} feasible of ${s.evaluations_done}`));
}

function candidatePage(jobId, candidateId) {
  document.title = `Candidate #${candidateId} · μNAS dashboard`;
  app.innerHTML = `<div class="eyebrow"><a href="/">Jobs</a> / <a href="/jobs/${jobId}">job ${jobId}</a> / candidate ${candidateId}</div>
    <h1 id="candidate-title">Candidate #${candidateId}</h1>
    <div class="meta" id="candidate-meta"></div>
    <h2>Metrics</h2><div id="metrics"></div>
    <div id="stopping"></div>
    <h2>Errors per epoch</h2>
    <section class="plots"><figure><div id="slot-epochs"></div></figure>
      <div class="table-wrap" id="epochs-table-wrap"></div></section>
    <h2>Pruning</h2><div class="table-wrap" id="pruning-table-wrap"></div>
    <h2>Lineage</h2><div id="lineage" class="lineage"></div>
    <h3>Children</h3><div id="children" class="lineage"></div>
    <h2>Network <small class="muted">(<a href="/api/jobs/${jobId}/candidates/${candidateId}/network.dot">DOT</a>)</small></h2>
    <figure class="network"><div id="slot-network"></div></figure>`;
  const epochs = new Table("epochs-table", [
    { key: "epoch", label: "epoch", num: true },
    { key: "train_error", label: "train error", num: true, html: (r) => pct(r.train_error) },
    { key: "validation_error", label: "val. error", num: true, html: (r) => pct(r.validation_error) },
    { key: "learning_rate", label: "learning rate", num: true, html: (r) => num(r.learning_rate).toPrecision(3) },
    { key: "sparsity", label: "sparsity", num: true, html: (r) => pct(r.sparsity) },
  ], { sortKey: "epoch", empty: "No epochs recorded." });
  const pruning = new Table("pruning-table", [
    { key: "layer", label: "layer" },
    { key: "surviving_channels", label: "channels kept", num: true },
    { key: "nonzero_weights", label: "non-zero weights", num: true },
    { key: "total_weights", label: "weights", num: true },
    { key: "density", label: "density", num: true, html: (r) => pct(r.density) },
  ], { empty: "This candidate was not pruned." });
  let lastState = "";
  every(POLL_MS, async () => {
    const data = await fetchJson(`/api/jobs/${jobId}/candidates/${candidateId}`);
    const c = data.candidate;
    const e = c.evaluation || {};
    const m = c.metrics || {};
    const state = stateName(c.state);
    setHtml("candidate-meta", badge(c.state, "candidate-state") +
      (c.feasible ? `<span class="chip">feasible</span>` : `<span class="chip">infeasible</span>`) +
      (data.pareto ? `<span class="tag">PARETO</span>` : "") +
      (data.evaluation ? `<span class="chip">evaluation ${data.evaluation}</span>` : "") +
      `<span class="chip">worker ${esc(c.worker_id || "—")}</span>`);
    const rows = [
      ["validation error", valueSpan("val-error", e.validation_error ?? null, pct(e.validation_error))],
      ["test error", valueSpan("test-error", e.test_error ?? null, pct(e.test_error))],
      ["int8 test error", pct(e.int8_test_error)],
      ["Cortex-M4 latency", e.cortex_m4_instructions !== undefined
        ? valueSpan("cortex-m4", num(e.cortex_m4_instructions), `${count(e.cortex_m4_instructions)} instructions per inference`) +
          ` <small class="muted">(${num(e.cortex_m4_instructions)}; generated C on QEMU mps2-an386, -icount)</small>`
        : `<span class="muted">not measured</span>`],
      ["peak memory", valueSpan("pmu", num(m.peak_memory_bytes), bytes(m.peak_memory_bytes)) + ` <small class="muted">(${num(m.peak_memory_bytes)} B; with input ${bytes(m.peak_memory_with_input_bytes)})</small>`],
      ["model size", valueSpan("model-size", num(m.model_size_bytes), bytes(m.model_size_bytes)) + ` <small class="muted">(int8 deployed ${bytes(m.model_size_deployed_bytes)})</small>`],
      ["MACs", valueSpan("macs", num(m.macs), count(m.macs))],
      ["parameters", count(m.parameter_count)],
      ["latency proxy", count(m.latency_proxy)],
      ["sparsity", c.sparsity !== undefined ? `target ${pct(c.sparsity)}, reached ${pct(e.achieved_sparsity)}` : "—"],
      ["training", `${num(e.training_seconds).toFixed(1)} s on ${esc(e.device || "—")}`],
      ["attempts", num(c.attempts) + ((c.failure_reasons || []).length ? ` · ${esc(c.failure_reasons.join("; "))}` : "")],
    ];
    setHtml("metrics", `<dl class="kv">${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join("")}</dl>`);
    // Stopped early: the rule and its numbers, and the learning curve (of
    // any candidate that has one).
    const d = c.stopping;
    const curve = e.curve || [];
    setHtml("stopping",
      (d ? `<h2>Stopped early</h2><p id="stopping-decision">Stopped by the ${esc(d.rule)} stopping rule at ` +
        `<b>${num(d.epoch_fraction).toFixed(2)}</b> epochs: its best validation error ${pct(d.candidate_error)} ` +
        `was worse than ${pct(d.threshold)}, the median of ${num(d.completed_compared)} completed candidates' ` +
        `mean errors up to that point.</p>` : "") +
      (curve.length ? `<h2>Learning curve</h2><div class="table-wrap"><table id="curve-table"><thead><tr>` +
        `<th class="num">epochs</th><th class="num">val. error <small>(curve subset)</small></th>` +
        `<th class="num">training s</th></tr></thead><tbody>` +
        curve.map((p) => `<tr><td class="num">${num(p.epoch_fraction).toFixed(2)}</td>` +
          `<td class="num">${pct(p.validation_error ?? 0)}</td>` +
          `<td class="num">${num(p.training_seconds).toFixed(1)}</td></tr>`).join("") +
        `</tbody></table></div>` : ""));
    const link = (r) => `<a class="chip" href="/jobs/${jobId}/candidates/${r.candidate_id}">#${r.candidate_id} · ${pct(r.validation_error)}</a>`;
    setHtml("lineage", data.lineage.map(link).join(`<span class="arrow">→</span>`));
    setHtml("children", data.children.length ? data.children.map(link).join(" ") : `<span class="muted">none yet</span>`);
    epochs.setRows((e.epochs || []).map((x) => ({
      epoch: num(x.epoch), train_error: x.train_accuracy !== undefined ? 1 - x.train_accuracy : null,
      validation_error: 1 - num(x.validation_accuracy), learning_rate: x.learning_rate, sparsity: x.sparsity ?? null })));
    pruning.setRows((e.pruning || []).map((p) => ({
      layer: p.layer, surviving_channels: num(p.surviving_channels), nonzero_weights: num(p.nonzero_weights),
      total_weights: num(p.total_weights), density: num(p.total_weights) ? num(p.nonzero_weights) / num(p.total_weights) : null })));
    if (state !== lastState) {
      updates++;
      lastState = state;
      await Promise.all([
        loadSvg("slot-epochs", `/api/jobs/${jobId}/candidates/${candidateId}/epochs.svg`),
        loadSvg("slot-network", `/api/jobs/${jobId}/candidates/${candidateId}/network.svg`),
      ]);
    }
    return state === "QUEUED" || state === "LEASED" ? POLL_MS : 5 * POLL_MS;
  });
}

function workersPage() {
  document.title = "Workers · μNAS dashboard";
  app.innerHTML = `<div class="eyebrow">μNAS live dashboard</div><h1>Workers</h1>
    <div class="table-wrap" id="workers-table-wrap"></div>`;
  const table = new Table("workers-table", [
    { key: "name", label: "name" },
    { key: "host", label: "host" },
    { key: "device", label: "device" },
    { key: "busy", label: "busy slots", num: true, html: (r) => `${r.busy} / ${r.slots}` },
    { key: "task", label: "current task", html: (r) => r.tasks.length === 0 ? `<span class="muted">idle</span>` :
      r.tasks.map((t) => `<a href="/jobs/${t.job_id}/candidates/${t.candidate_id}">job ${t.job_id} · #${t.candidate_id}</a>`).join(", ") },
    { key: "heartbeat", label: "last heartbeat", num: true, html: (r) => r.heartbeat === null ? "—" : duration(r.heartbeat) + " ago" },
    { key: "last_hour", label: "evaluations, last hour", num: true },
    { key: "done", label: "evaluations in all", num: true },
  ], { sortKey: "name", empty: "No worker has registered yet.", rowClass: () => "worker-row" });
  every(POLL_MS, async () => {
    const data = await fetchJson("/api/workers");
    updates++;
    table.setRows(data.workers.map((w) => ({
      name: w.worker.name, host: w.worker.host || "", device: w.worker.device || "",
      slots: num(w.worker.slots), busy: num(w.worker.busy_slots), tasks: w.current_tasks,
      task: w.current_tasks.length, heartbeat: w.heartbeat_age_seconds,
      last_hour: w.evaluations_last_hour, done: num(w.worker.evaluations_done) })));
  });
}

// ---- routing -------------------------------------------------------------

(function route() {
  const path = window.location.pathname;
  let m;
  if ((m = path.match(/^\/jobs\/(\d+)\/candidates\/(\d+)$/))) candidatePage(m[1], m[2]);
  else if ((m = path.match(/^\/jobs\/(\d+)$/))) jobPage(m[1]);
  else if (path === "/workers") workersPage();
  else jobsPage();
})();
