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
  for (const v of [0, band[0], band[1]]) {
    svg.append(node("text", { x: box.x0 - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 11 }, v));
  }
  for (const t of [0, end / 2, end]) {
    svg.append(node("text", { x: x(t), y: h - 8, "text-anchor": "middle", "font-size": 11 }, mmss(t)));
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
  const box = frame(svg, w, h, { left: 36, right: 12, top: 12, bottom: 24 });
  if (!points.length) {
    svg.append(node("text", { x: w / 2, y: h / 2, "text-anchor": "middle" }, "No scored interviews yet."));
    return;
  }
  const n = points.length;
  const x = (i) => (n === 1 ? (box.x0 + box.x1) / 2 : box.x0 + ((box.x1 - box.x0) * i) / (n - 1));
  const y = (v) => box.y0 - ((box.y0 - box.y1) * v) / 100;
  for (const v of [0, 50, 100]) {
    svg.append(node("text", { x: box.x0 - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 11 }, v));
  }
  svg.append(node("polyline", { points: points.map((p, i) => `${x(i)},${y(p.score)}`).join(" "),
    fill: "none", stroke: "#1f5fbf", "stroke-width": 2 }));
  points.forEach((p, i) => {
    const c = node("circle", { cx: x(i), cy: y(p.score), r: 5, fill: "#1f5fbf", class: "point" });
    c.append(node("title", {}, `${new Date(p.date).toLocaleDateString()}: ${p.score}`));
    svg.append(c);
  });
}
