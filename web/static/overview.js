// The overview page: signs in with Teams SSO (teams-js authentication.getAuthToken), asks
// /api/overview for the anonymous figures and draws what it answers: one chart (chart.js)
// per figure, each with a table of the same numbers beside it, where a hidden (suppressed)
// figure is said in words. No figure is ever worked out here.
"use strict";

(function () {
  performance.mark("overview-start");
  const page = JSON.parse(document.getElementById("overview-data").textContent);
  const t = page.texts;
  const $ = (id) => document.getElementById(id);
  // The charts' series colours per Teams theme, each at least 3:1 against its background;
  // axis texts and grid lines take the page's own colours (overview.css).
  const COLOURS = {
    default: ["#00616E", "#8A4B00", "#5B3E96", "#1F5FAD", "#A4262C", "#3B6E22"],
    dark: ["#5CC3CF", "#F0A35E", "#B9A3E8", "#7FB2F0", "#FF8C8C", "#8FCF6E"],
    contrast: ["#FFFF00", "#00FFFF", "#FF80FF", "#FFFFFF", "#80FF80", "#FFA500"],
  };
  const darkScheme = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  let theme = "default";
  let inTeams = false;
  let shown = null; // the overview drawn last, to draw again in a new theme
  let token = null;
  let charts = [];
  let firstChart = true;
  let loaded = false; // the filters are filled once the API has answered

  function format(text, params) {
    return text.replace(/\{(\w+)\}/g, (whole, key) => (key in params ? String(params[key]) : whole));
  }

  function say(message, isError) {
    const status = $("status");
    status.textContent = message;
    status.classList.toggle("error", Boolean(isError));
  }

  function clearFigures() {
    charts.forEach((chart) => chart.destroy());
    charts = [];
    $("figures").replaceChildren();
    $("export").hidden = true;
  }

  function refuse(message) {
    clearFigures();
    shown = null;
    say(message, true);
    $("filters").hidden = !loaded; // nothing to choose between without an answer
  }

  // Teams' theme (default, dark, contrast); outside Teams the browser's colour scheme.
  function setTheme(wanted) {
    theme = wanted === "dark" || wanted === "contrast" ? wanted : "default";
    document.documentElement.dataset.theme = theme;
    if (shown) draw(shown);
  }

  function followBrowser() {
    if (!inTeams) setTheme(darkScheme && darkScheme.matches ? "dark" : "default");
  }

  function pickLocale(locale) {
    return String(locale || "").toLowerCase().startsWith("en") ? "en-US" : "da-DK";
  }

  function withTimeout(promise, ms) {
    return Promise.race([
      promise,
      new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), ms)),
    ]);
  }

  // The token of the signed-in Teams user; null in local mode (no sign-in there).
  async function signIn() {
    if (page.local) return null;
    const teams = window.microsoftTeams;
    if (!teams || window.parent === window) throw new Error("not in Teams");
    await withTimeout(teams.app.initialize(), 10000);
    const context = await teams.app.getContext();
    inTeams = true;
    setTheme(context && context.app && context.app.theme);
    teams.app.registerOnThemeChangeHandler(setTheme);
    const wanted = context && context.app && context.app.locale;
    if (wanted && !page.localeGiven && pickLocale(wanted) !== page.locale) {
      const url = new URL(window.location.href);
      url.searchParams.set("locale", pickLocale(wanted));
      window.location.replace(url.toString());
      return new Promise(() => {});
    }
    return teams.authentication.getAuthToken();
  }

  function query(extra) {
    const params = new URLSearchParams();
    const unit = $("unit").value;
    const period = $("period").value;
    if (unit) params.set("unit", unit);
    if (period) params.set("period", period);
    params.set("locale", page.locale);
    Object.entries(extra || {}).forEach(([key, value]) => params.set(key, value));
    return params.toString();
  }

  async function ask(path) {
    const headers = token ? { Authorization: "Bearer " + token } : {};
    return fetch(path, { headers, cache: "no-store", credentials: "omit" });
  }

  function refusal(status) {
    if (status === 401) return t.signed_out;
    if (status === 403) return $("unit").value ? t.unit_not_allowed : t.not_allowed;
    return t.failed;
  }

  function fillSelect(select, options, chosen) {
    select.replaceChildren(
      ...options.map(([value, label]) => {
        const option = document.createElement("option");
        option.value = value;
        option.textContent = label;
        option.selected = value === chosen;
        return option;
      })
    );
    select.disabled = false;
  }

  function cellText(cell, k) {
    return cell.suppressed || cell.value === null ? format(t.suppressed, { k }) : String(cell.value).replace(".", page.locale === "da-DK" ? "," : ".");
  }

  function element(tag, text, attributes) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    Object.entries(attributes || {}).forEach(([key, value]) => node.setAttribute(key, value));
    return node;
  }

  function table(figure, k, id) {
    const node = element("table", null, { id });
    node.append(element("caption", format(t.table_caption, { title: figure.title })));
    const head = element("tr");
    head.append(element("th", t.category, { scope: "col" }));
    figure.series.forEach((series) => head.append(element("th", series.label, { scope: "col" })));
    node.appendChild(element("thead")).append(head);
    const body = node.appendChild(element("tbody"));
    figure.categories.forEach((category, i) => {
      const row = body.appendChild(element("tr"));
      row.append(element("th", category, { scope: "row" }));
      figure.series.forEach((series) => {
        const cell = series.cells[i];
        row.append(element("td", cellText(cell, k), cell.suppressed ? { class: "suppressed" } : {}));
      });
    });
    return node;
  }

  function chart(canvas, figure) {
    const style = getComputedStyle(document.documentElement);
    window.Chart.defaults.color = style.getPropertyValue("--muted").trim(); // axis texts
    window.Chart.defaults.borderColor = style.getPropertyValue("--rule").trim(); // grid lines
    const colours = COLOURS[theme];

    const stacked = figure.chart === "stacked_bar";
    return new window.Chart(canvas, {
      type: figure.chart === "line" ? "line" : "bar",
      data: {
        labels: figure.categories,
        datasets: figure.series.map((series, i) => ({
          label: series.label,
          data: series.cells.map((cell) => (cell.suppressed ? null : cell.value)),
          backgroundColor: colours[i % colours.length],
          borderColor: colours[i % colours.length],
        })),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        locale: page.locale,
        scales: { x: { stacked }, y: { stacked, beginAtZero: true } },
        plugins: { legend: { display: figure.series.length > 1 } },
      },
    });
  }

  function markFirstChart() {
    if (!firstChart) return;
    firstChart = false;
    performance.mark("overview-first-chart");
    const measure = performance.measure("overview-time-to-first-chart", "overview-start", "overview-first-chart");
    document.body.dataset.firstChartMs = String(Math.round(measure.duration));
    document.body.dataset.firstChartSinceNavigationMs = String(Math.round(performance.now()));
  }

  function draw(overview) {
    clearFigures();
    shown = overview;
    const figures = $("figures");
    const k = overview.k;
    if (!overview.units.length) {
      say(t.no_units);
      return;
    }
    overview.units.forEach((unit, u) => {
      const section = figures.appendChild(element("section", null, { "aria-labelledby": `unit-${u}` }));
      section.append(element("h2", unit.label, { id: `unit-${u}` }));
      section.append(element("p", `${t.people}: ${cellText(unit.people, k)}`, { class: "people" }));
      unit.figures.forEach((figure, f) => {
        const id = `figure-${u}-${f}`;
        section.append(element("h3", figure.title, { id: `${id}-title` }));
        const box = section.appendChild(element("div", null, { class: "chart" }));
        const canvas = box.appendChild(
          element("canvas", null, { role: "img", "aria-label": format(t.chart_label, { title: figure.title }) })
        );
        canvas.append(element("p", format(t.chart_label, { title: figure.title })));
        section.append(table(figure, k, `${id}-table`));
        if (figure.note) section.append(element("p", figure.note, { class: "note" }));
        charts.push(chart(canvas, figure));
        markFirstChart();
      });
    });
    say(format(t.showing, { period: overview.period.label }));
    $("export").hidden = false;
  }

  async function load() {
    say(t.loading);
    let response;
    try {
      response = await ask("/api/overview?" + query());
    } catch (error) {
      refuse(t.failed);
      return;
    }
    if (!response.ok) {
      refuse(refusal(response.status));
      return;
    }
    const body = await response.json();
    loaded = true;
    $("filters").hidden = false;
    fillSelect($("unit"), [["", t.all_units], ...body.units.map((u) => [u, u])], body.unit);
    fillSelect($("period"), body.periods.map((p) => [p.key, p.label]), body.overview.period.key);
    $("show").disabled = false;
    draw(body.overview);
  }

  async function download(kind) {
    const response = await ask("/api/overview/export?" + query({ format: kind }));
    if (!response.ok) {
      refuse(refusal(response.status));
      return;
    }
    const disposition = response.headers.get("Content-Disposition") || "";
    const name = (disposition.match(/filename="([^"]+)"/) || [])[1] || `overview.${kind}`;
    const link = element("a", null, { href: URL.createObjectURL(await response.blob()), download: name });
    document.body.append(link);
    link.click();
    link.remove();
  }

  async function start() {
    followBrowser();
    if (darkScheme) darkScheme.addEventListener("change", followBrowser);
    $("filters").addEventListener("submit", (event) => {
      event.preventDefault();
      load().catch(() => refuse(t.failed));
    });
    $("export-csv").addEventListener("click", () => download("csv").catch(() => refuse(t.failed)));
    $("export-xlsx").addEventListener("click", () => download("xlsx").catch(() => refuse(t.failed)));
    try {
      token = await signIn();
    } catch (error) {
      refuse(t.signed_out);
      return;
    }
    await load();
  }

  function run() {
    start().catch(() => refuse(t.failed));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
})();
