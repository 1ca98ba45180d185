// Small SVG charts drawn by hand: the pace timeline and the score trend.
const NS = "http://www.w3.org/2000/svg";

function node(tag, attrs, text) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== undefined) n.textContent = text;
  return n;
}

function frame(svg, width, height, pad) {
  svg.replaceChildren();
  return { x0: pad.left, x1: width - pad.right, y0: height - pad.bottom, y1: pad.top };
}

// Whole numbers rounded as the server's sentences round them (half to even), so a card never
// says 179 wpm beside a sentence that says 178.
export function whole(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// Label size in the chart's own units so that, scaled to the screen, it is at least 11 px
// (a 600-unit chart on a 390 px phone would otherwise print 6 px text).
function labelSize(svg, width) {
  const shown = svg.getBoundingClientRect().width;
  return shown > 0 ? Math.max(11, (11 * width) / shown) : 11;
}

function mmss(s) {
  const t = Math.round(s);
  return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, "0")}`;
}

// One point per pace segment with speech, at its middle: the speaking rate (long pauses removed),
// which is the measure the shaded listener-friendly band judges.
export function paceChart(svg, all, band) {
  const [w, h] = [600, 220];
  const box = frame(svg, w, h, { left: 44, right: 12, top: 12, bottom: 28 });
  const timeline = all.filter((p) => p.speakingWpm != null);
  if (!timeline.length) {
    svg.append(node("text", { x: w / 2, y: h / 2, "text-anchor": "middle" }, "No speech to chart."));
    return;
  }
  const end = all[all.length - 1].segmentEnd || 1;
  const top = Math.max(band[1] + 40, ...timeline.map((p) => p.speakingWpm)) * 1.05;
  const x = (t) => box.x0 + ((box.x1 - box.x0) * t) / end;
  const y = (v) => box.y0 - ((box.y0 - box.y1) * v) / top;
  svg.append(node("rect", { x: box.x0, y: y(band[1]), width: box.x1 - box.x0,
    height: y(band[0]) - y(band[1]), fill: "#d9ead3", class: "band" }));
  const fs = labelSize(svg, w);
  for (const v of [0, band[0], band[1]]) {
    svg.append(node("text", { x: box.x0 - 6, y: y(v) + fs / 3, "text-anchor": "end", "font-size": fs }, v));
  }
  // the first and last time labels hug the ends, so neither is cut off at the edge
  for (const [t, anchor] of [[0, "start"], [end / 2, "middle"], [end, "end"]]) {
    svg.append(node("text", { x: x(t), y: h - 6, "text-anchor": anchor, "font-size": fs }, mmss(t)));
  }
  const pts = timeline.map((p) => [x((p.segmentStart + p.segmentEnd) / 2), y(p.speakingWpm), p]);
  svg.append(node("polyline", { points: pts.map(([a, b]) => `${a},${b}`).join(" "),
    fill: "none", stroke: "#1f5fbf", "stroke-width": 2 }));
  for (const [a, b, p] of pts) {
    const c = node("circle", { cx: a, cy: b, r: 5, fill: "#1f5fbf", class: "point",
      "data-wpm": p.speakingWpm, "data-start": p.segmentStart });
    c.append(node("title", {}, `${mmss(p.segmentStart)}–${mmss(p.segmentEnd)}: speaking rate ` +
      `${whole(p.speakingWpm)} wpm (overall ${whole(p.wpm)} wpm)`));
    svg.append(c);
  }
}

// Overall score of each interview in order, 0–100.
export function trendChart(svg, points) {
  const [w, h] = [600, 200];
  const box = frame(svg, w, h, { left: 52, right: 12, top: 12, bottom: 24 });
  if (!points.length) {
    svg.append(node("text", { x: w / 2, y: h / 2, "text-anchor": "middle" }, "No scored interviews yet."));
    return;
  }
  const n = points.length;
  const x = (i) => (n === 1 ? (box.x0 + box.x1) / 2 : box.x0 + ((box.x1 - box.x0) * i) / (n - 1));
  const y = (v) => box.y0 - ((box.y0 - box.y1) * v) / 100;
  const fs = labelSize(svg, w);
  for (const v of [0, 50, 100]) {
    svg.append(node("text", { x: box.x0 - 6, y: y(v) + fs / 3, "text-anchor": "end", "font-size": fs }, v));
  }
  svg.append(node("polyline", { points: points.map((p, i) => `${x(i)},${y(p.score)}`).join(" "),
    fill: "none", stroke: "#1f5fbf", "stroke-width": 2 }));
  points.forEach((p, i) => {
    const c = node("circle", { cx: x(i), cy: y(p.score), r: 5, fill: "#1f5fbf", class: "point" });
    c.append(node("title", {}, `${new Date(p.date).toLocaleDateString()}: ${p.score}`));
    svg.append(c);
  });
}

// One measure across interviews: its good band shaded, the user's goal dashed, one point per
// interview (oldest left). Labels stay at 11 px or more, so a phone can read them.
export function measureChart(svg, m) {
  const [w, h] = [300, 130];
  const box = frame(svg, w, h, { left: 40, right: 10, top: 10, bottom: 22 });
  const values = m.samples.map((s) => s.value);
  const marks = [...values];
  if (m.goal != null) marks.push(m.goal);
  if (m.good) for (const v of m.good) if (v != null) marks.push(v);
  let lo = Math.min(...marks);
  let hi = Math.max(...marks);
  if (hi - lo < 1e-9) [lo, hi] = [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.1;
  [lo, hi] = [Math.max(0, lo - pad), hi + pad];
  const n = values.length;
  const x = (i) => (n === 1 ? (box.x0 + box.x1) / 2 : box.x0 + ((box.x1 - box.x0) * i) / (n - 1));
  const y = (v) => box.y0 - ((box.y0 - box.y1) * (v - lo)) / (hi - lo);
  if (m.good) {
    const top = y(Math.min(hi, m.good[1] ?? hi));
    const bottom = y(Math.max(lo, m.good[0] ?? lo));
    svg.append(node("rect", { x: box.x0, y: top, width: box.x1 - box.x0, height: Math.max(0, bottom - top),
      class: "band" }));
  }
  if (m.goal != null) {
    svg.append(node("line", { x1: box.x0, x2: box.x1, y1: y(m.goal), y2: y(m.goal), class: "goal",
      stroke: "#7a4b00", "stroke-dasharray": "4 3" }));
  }
  const fs = labelSize(svg, w);
  const fmt = (v) => (hi - lo < 10 ? v.toFixed(1) : whole(v));
  for (const v of [lo, hi]) {
    svg.append(node("text", { x: box.x0 - 4, y: y(v) + fs / 3, "text-anchor": "end", "font-size": fs },
      fmt(v)));
  }
  svg.append(node("polyline", { points: values.map((v, i) => `${x(i)},${y(v)}`).join(" "),
    fill: "none", stroke: "#1f5fbf", "stroke-width": 2 }));
  m.samples.forEach((s, i) => {
    // a drill is drawn hollow: one habit practised, not a whole interview
    const drill = s.kind === "drill";
    const c = node("circle", { cx: x(i), cy: y(s.value), r: 4, fill: "#1f5fbf",
      class: drill ? "point drill" : "point", "data-value": s.value });
    c.append(node("title", {}, `${new Date(s.at).toLocaleDateString()}${drill ? " (drill)" : ""}: ${s.value}`));
    svg.append(c);
  });
}
