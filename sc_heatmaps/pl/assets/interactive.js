/* sc_heatmaps interactive heatmap: reorder, top-N, search, TSV download, snapshots.
   Labels are only ever inserted as text (textContent) or escaped for plotly by esc(),
   the one escape for every user string handed to plotly (ticks, titles, hover templates
   and hover data). */
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("sch-data").textContent);
  const gd = document.getElementById("sch-heatmap");
  const $ = (id) => document.getElementById(id);
  const nR = D.rows.length, nC = D.cols.length;
  const range = (n) => Array.from({ length: n }, (_, i) => i);
  // plotly reads "<tag>" and "&entity;" as markup and "%{name}" as a template; "&#37;" is
  // shown as "%" without forming a template.
  const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;")
    .replace(/>/g, "&gt;").replace(/%/g, "&#37;");
  // Rows rank by the sum and variance of their values before row scaling, computed in
  // Python (a z-scored row always sums to 0 with variance 1); null (no value) ranks last.
  const noneLast = (scores) => scores.map((v) => (v === null ? -Infinity : v));
  const rowSum = noneLast(D.row_scores.sum);
  const rowVar = noneLast(D.row_scores.variance);
  const variance = (arr) => {
    const v = arr.filter((x) => x !== null);
    if (!v.length) return 0;
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    return v.reduce((a, b) => a + (b - m) * (b - m), 0) / v.length;
  };
  const colSum = range(nC).map((j) => range(nR).reduce((a, i) => a + (D.values[i][j] || 0), 0));
  const colVar = range(nC).map((j) => variance(range(nR).map((i) => D.values[i][j])));
  const byDesc = (score) => (a, b) => (score[a] === score[b] ? a - b : score[b] - score[a]);
  const byLabel = (labels) => (a, b) => labels[a].localeCompare(labels[b]) || a - b;
  const state = { rows: range(nR), cols: range(nC), search: [] };
  window.schState = state;

  function order(kind, items, axis) {
    const labels = axis === "row" ? D.rows : D.cols;
    const sums = axis === "row" ? rowSum : colSum;
    const vars = axis === "row" ? rowVar : colVar;
    const drawn = axis === "row" ? D.row_order.drawn : D.col_order.drawn;
    const cluster = axis === "row" ? D.row_order.cluster : D.col_order.cluster;
    const rank = (seq) => { const r = {}; seq.forEach((v, k) => { r[v] = k; }); return r; };
    const out = items.slice();
    if (kind === "sum") return out.sort(byDesc(sums));
    if (kind === "variance") return out.sort(byDesc(vars));
    if (kind === "label") return out.sort(byLabel(labels));
    const r = rank(kind === "cluster" ? cluster : drawn);
    return out.sort((a, b) => r[a] - r[b]);
  }

  function visibleRows() {
    const n = $("sch-top-n").value;
    let rows = range(nR);
    if (n !== "all") {
      const score = $("sch-top-by").value === "sum" ? rowSum : rowVar;
      rows = rows.sort(byDesc(score)).slice(0, Number(n));
    }
    return order($("sch-row-order").value, rows, "row");
  }

  function discrete(colors) {
    const k = colors.length, scale = [];
    colors.forEach((c, i) => { scale.push([i / k, c]); scale.push([(i + 1) / k, c]); });
    return { scale: scale, max: k };
  }

  function traces() {
    const R = state.rows, C = state.cols;
    const z = R.map((i) => C.map((j) => D.values[i][j]));
    const T = D.test;  // the significance test of a marked figure (logfc, padj as text)
    const custom = R.map((i) => C.map((j) => [esc(D.rows[i]), esc(D.cols[j]),
      D.n_cells ? D.n_cells[j] : "", D.fraction ? D.fraction[i][j] : "",
      T ? esc(T.logfc[i][j]) : "", T ? esc(T.padj[i][j]) : ""]));
    let hover = esc(D.row_title) + ": %{customdata[0]}<br>" + esc(D.col_title) +
      ": %{customdata[1]}<br>" + esc(D.value_name) + ": %{z:.3f}";
    if (D.n_cells) hover += "<br>n cells: %{customdata[2]}";
    if (D.fraction) hover += "<br>fraction expressing: %{customdata[3]:.2f}";
    if (T) hover += "<br>logfc: %{customdata[4]}<br>padj: %{customdata[5]}<br>" +
      esc(T.label);
    if (D.dots) return [dotTrace(R, C, hover, T)].concat(markTrace(R, C, T), barTraces(R, C));
    const out = [{
      type: "heatmap", z: z, x: range(C.length), y: range(R.length), customdata: custom,
      hovertemplate: hover + "<extra></extra>", colorscale: D.colorscale, zmin: D.zmin,
      zmax: D.zmax, zmid: D.zmid, xgap: 0, ygap: 0, name: "values",
      colorbar: { title: { text: esc(D.value_name), side: "right" }, len: 0.4, y: 0.8,
        x: 1, xref: "container", xanchor: "right" },
    }];
    return out.concat(markTrace(R, C, T), barTraces(R, C));
  }

  // a mark on each significant cell, as in the static figure: a dot on a heatmap's
  // cell, a ring around the largest dot on a dot plot's (the dot stays in view)
  function markTrace(R, C, T) {
    if (!T) return [];
    const at = [];
    R.forEach((i, y) => C.forEach((j, x) => { if (T.significant[i][j]) at.push([x, y]); }));
    const marker = D.dots ?
      { symbol: "circle-open", color: "#000", size: D.dots.max_px + 2, line: { width: 1.5 } } :
      { color: "#000", size: 6, line: { color: "#fff", width: 1 } };
    return [{ type: "scatter", mode: "markers", x: at.map((p) => p[0]),
      y: at.map((p) => p[1]), hoverinfo: "skip", name: esc(T.label), showlegend: false,
      marker: marker }];
  }

  // a dot plot: one marker per cell, its area proportional to the fraction expressing
  // (D.dots.max_px: the diameter of a dot of fraction 1), coloured like the figure
  function dotTrace(R, C, hover, T) {
    const x = [], y = [], size = [], color = [], custom = [];
    R.forEach((i, r) => C.forEach((j, c) => {
      const f = D.fraction[i][j];
      if (f === null) return;
      x.push(c); y.push(r); size.push(Math.max(1, D.dots.max_px * Math.sqrt(f)));
      color.push(D.values[i][j]);
      custom.push([esc(D.rows[i]), esc(D.cols[j]), D.n_cells[j], f,
        T ? esc(T.logfc[i][j]) : "", T ? esc(T.padj[i][j]) : "", D.dots.mean[i][j]]);
    }));
    return {
      type: "scatter", mode: "markers", x: x, y: y, customdata: custom, name: "dots",
      hovertemplate: hover.replace("%{z:.3f}", "%{marker.color:.3f}") +
        "<br>mean: %{customdata[6]:.3f}<extra></extra>",
      marker: { size: size, color: color, colorscale: D.colorscale, cmin: D.zmin,
        cmax: D.zmax, cmid: D.zmid === null ? undefined : D.zmid, line: { width: 0 },
        colorbar: { title: { text: esc(D.value_name), side: "right" }, len: 0.4, y: 0.8,
          x: 1, xref: "container", xanchor: "right" } },
    };
  }

  function barTraces(R, C) {
    const out = [];
    D.row_bars.forEach((bar, b) => {
      const d = discrete(bar.colors);
      out.push({ type: "heatmap", xaxis: "x2", yaxis: "y", showscale: false,
        z: R.map((i) => [bar.codes[i] + 0.5]), x: [b], y: range(R.length),
        customdata: R.map((i) => [esc(bar.categories[bar.codes[i]])]),
        hovertemplate: esc(bar.name) + ": %{customdata}<extra></extra>",
        colorscale: d.scale, zmin: 0, zmax: d.max, name: esc(bar.name) });
    });
    D.col_bars.forEach((bar, b) => {
      const d = discrete(bar.colors);
      out.push({ type: "heatmap", xaxis: "x", yaxis: "y2", showscale: false,
        z: [C.map((j) => bar.codes[j] + 0.5)], x: range(C.length), y: [b],
        customdata: [C.map((j) => esc(bar.categories[bar.codes[j]]))],
        hovertemplate: esc(bar.name) + ": %{customdata}<extra></extra>",
        colorscale: d.scale, zmin: 0, zmax: d.max, name: esc(bar.name) });
    });
    return out;
  }

  function layout() {
    const R = state.rows, C = state.cols;
    const shapes = state.search.filter((i) => R.includes(i)).map((i) => ({
      type: "rect", xref: "x", yref: "y", x0: -0.5, x1: C.length - 0.5,
      y0: R.indexOf(i) - 0.5, y1: R.indexOf(i) + 0.5, line: { color: "#000", width: 2 } }));
    const barW = D.row_bars.length ? 0.025 * D.row_bars.length : 0;
    const barH = D.col_bars.length ? 0.035 * D.col_bars.length : 0;
    const longest = (labels) => labels.reduce((m, s) => Math.max(m, String(s).length), 4);
    const rowLab = Math.min(320, 7 * longest(R.map((i) => D.rows[i])) + 20);
    const colLab = Math.min(360, 6.5 * longest(C.map((j) => D.cols[j])) + 30);
    return {
      title: { text: esc(D.title || "") },
      height: Math.max(420, 18 * R.length + colLab + 140),
      margin: { l: 90, r: rowLab + 150, t: 60, b: colLab },
      xaxis: { domain: [barW + 0.01, 1], tickvals: range(C.length),
        ticktext: C.map((j) => esc(D.cols[j])), tickangle: -90, showgrid: false, zeroline: false },
      yaxis: { domain: [0, 0.98 - barH], tickvals: range(R.length), side: "right",
        ticktext: R.map((i) => esc(D.rows[i])), autorange: "reversed", showgrid: false,
        zeroline: false },
      xaxis2: { domain: [0, barW], showticklabels: false, ticks: "", showgrid: false,
        zeroline: false, fixedrange: true },
      yaxis2: { domain: [1 - barH, 1], anchor: "x", tickvals: range(D.col_bars.length),
        ticktext: D.col_bars.map((b) => esc(b.name)), showgrid: false, zeroline: false,
        fixedrange: true, autorange: "reversed" },
      shapes: shapes, dragmode: "zoom",
    };
  }

  function render() {
    state.rows = visibleRows();
    state.cols = order($("sch-col-order").value, range(nC), "col");
    Plotly.react(gd, traces(), layout(), { responsive: true, displaylogo: false,
      toImageButtonOptions: { filename: D.filename } });
    $("sch-shown").textContent = state.rows.length + " of " + nR + " rows";
  }

  function search() {
    const q = $("sch-search").value.trim().toLowerCase();
    state.search = q ? range(nR).filter((i) => D.rows[i].toLowerCase().includes(q)) : [];
    const shown = state.search.filter((i) => state.rows.includes(i));
    const status = $("sch-search-status");
    if (!q) status.textContent = "";
    else if (!state.search.length) status.textContent = "no match";
    else status.textContent = "found: " + shown.map((i) => D.rows[i]).join(", ") +
      (shown.length < state.search.length ? " (" + (state.search.length - shown.length) +
        " hidden by the top-N filter)" : "");
    Plotly.relayout(gd, { shapes: layout().shapes });
  }

  // A field holding a tab, a line break or a double quote is quoted, quotes doubled
  // (what pandas, R and spreadsheets read back).
  const tsvField = (v) => {
    const s = String(v);
    return /[\t\n\r"]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  };

  function tsv() {
    const line = (fields) => fields.map(tsvField).join("\t");
    const head = line([D.row_title].concat(state.cols.map((j) => D.cols[j])));
    const body = state.rows.map((i) => line([D.rows[i]].concat(state.cols.map((j) =>
      D.values[i][j] === null ? "" : String(D.values[i][j])))));
    return [head].concat(body).join("\n") + "\n";
  }
  window.schTsv = tsv;

  function download() {
    const blob = new Blob([tsv()], { type: "text/tab-separated-values" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = D.filename + ".tsv";
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  function labelRanking() {
    if (!D.rows_ranked_unscaled) return;
    ["sch-row-order", "sch-top-by"].forEach((id) => {
      Array.from($(id).options || []).forEach((o) => {
        if (o.value === "sum" || o.value === "variance") o.textContent += " before scaling";
      });
    });
  }

  function legend() {
    const box = $("sch-legend");
    D.row_bars.concat(D.col_bars).forEach((bar) => {
      if (box.querySelector('[data-bar="' + CSS.escape(bar.name) + '"]')) return;
      const group = document.createElement("span");
      group.className = "sch-legend-group";
      group.dataset.bar = bar.name;
      const name = document.createElement("b");
      name.textContent = bar.name + ":";
      group.appendChild(name);
      bar.categories.forEach((cat, k) => {
        const item = document.createElement("span");
        const swatch = document.createElement("i");
        swatch.style.background = bar.colors[k];
        item.appendChild(swatch);
        item.appendChild(document.createTextNode(cat));
        group.appendChild(item);
      });
      box.appendChild(group);
    });
  }

  ["sch-row-order", "sch-col-order", "sch-top-n", "sch-top-by"].forEach((id) =>
    $(id).addEventListener("change", () => { render(); search(); }));
  $("sch-search").addEventListener("input", search);
  $("sch-download-tsv").addEventListener("click", download);
  $("sch-png").addEventListener("click", () =>
    Plotly.downloadImage(gd, { format: "png", filename: D.filename, scale: 2 }));
  $("sch-svg").addEventListener("click", () =>
    Plotly.downloadImage(gd, { format: "svg", filename: D.filename }));
  labelRanking();
  legend();
  render();
})();
