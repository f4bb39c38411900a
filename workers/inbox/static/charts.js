"use strict";
// Inline SVG charts built node by node (no innerHTML, no library, no network).
const SVG_NS = "http://www.w3.org/2000/svg";
const URGENCY_COLORS = { critical: "#b3261e", high: "#d66a00", normal: "#2360c4", low: "#5d6b7e" };

function svgEl(name, attrs, text) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function budgetChart(rows) {
  const width = 420, rowH = 34, left = 110, barW = width - left - 10;
  const svg = svgEl("svg", { width, height: Math.max(rowH, rows.length * rowH + 6),
    role: "img", "aria-label": t("budgetChart"), "data-testid": "budget-chart" });
  rows.forEach((row, i) => {
    const y = i * rowH + 4, budget = row.budget_minutes_per_day || 1;
    const share = Math.min(row.used_today / budget, 1);
    svg.append(svgEl("text", { x: 0, y: y + 12 }, row.name));
    svg.append(svgEl("rect", { x: left, y, width: barW, height: 14, fill: "#e3e7ee" }));
    svg.append(svgEl("rect", { x: left, y, width: barW * share, height: 14,
      fill: row.used_today > budget ? "#b3261e" : "#2360c4", "data-employee": row.employee_id }));
    const label = `${fmt(row.used_today)}/${fmt(budget)} min ${t("today")} · ` +
      `${fmt(row.used_week)} min ${t("week")}`;
    svg.append(svgEl("text", { x: left, y: y + 27 }, label));
  });
  return svg;
}

function slaChart(points) {
  const width = 420, height = 190, left = 36, bottom = 22, top = 8, right = 70;
  const svg = svgEl("svg", { width, height, role: "img", "aria-label": t("slaChart"),
    "data-testid": "sla-chart" });
  const days = [...new Set(points.map((p) => p.day))].sort();
  if (!days.length) {
    svg.append(svgEl("text", { x: left, y: height / 2 }, t("noData")));
    return svg;
  }
  const plotW = width - left - right, plotH = height - top - bottom;
  const x = (day) => left + (days.length === 1 ? plotW / 2 : days.indexOf(day) * plotW / (days.length - 1));
  const y = (share) => top + plotH * (1 - share);
  for (const share of [0, 0.5, 1]) {
    svg.append(svgEl("line", { x1: left, x2: left + plotW, y1: y(share), y2: y(share), stroke: "#d5dae2" }));
    svg.append(svgEl("text", { x: 0, y: y(share) + 4 }, `${share * 100}%`));
  }
  svg.append(svgEl("text", { x: left, y: height - 4 }, days[0]));
  if (days.length > 1) svg.append(svgEl("text", { x: left + plotW - 60, y: height - 4 }, days.at(-1)));
  Object.keys(URGENCY_COLORS).forEach((urgency, i) => {
    const mine = points.filter((p) => p.urgency === urgency);
    if (!mine.length) return;
    const color = URGENCY_COLORS[urgency];
    const coords = mine.map((p) => `${x(p.day)},${y(p.attainment)}`).join(" ");
    svg.append(svgEl("polyline", { points: coords, fill: "none", stroke: color, "stroke-width": 2 }));
    for (const p of mine) {
      const dot = svgEl("circle", { cx: x(p.day), cy: y(p.attainment), r: 3, fill: color });
      dot.append(svgEl("title", {}, `${urgency} ${p.day}: ${p.met}/${p.total}`));
      svg.append(dot);
    }
    svg.append(svgEl("text", { x: width - right + 8, y: top + 12 + i * 14, fill: color }, urgency));
  });
  return svg;
}

function fmt(n) {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
