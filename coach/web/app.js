// The practice client: sign in, set up, interview over the WebSocket, results, history.
// It uses only the public API (docs/protocol.md and /openapi.json).
import { measureChart, paceChart, trendChart, whole } from "./charts.js";

const $ = (id) => document.getElementById(id);
const SCREENS = ["auth", "setup", "interview", "analyzing", "results", "history"];
const PACE_BAND = [120, 165];

const state = {
  token: sessionStorage.getItem("coach.token"),
  ws: null,
  sessionId: null,
  lastSeq: 0,
  ending: false,
  audio: null, // {context, stream, node}
  interviewId: null,
  fillerTimes: [],
  reconnects: 0,
  pollTimer: null,
};

// ---- plumbing -------------------------------------------------------------------------

const MIC_PROMPT = "Press “Test microphone” and say a few words.";

function show(name) {
  for (const s of SCREENS) $(`screen-${s}`).hidden = s !== name;
  if (name === "setup" && !state.audio) {
    // a new interview starts from an untested microphone, not the last one's "Listening"
    $("mic-status").textContent = MIC_PROMPT;
    $("mic-level").value = 0;
  }
  const signedIn = Boolean(state.token);
  $("nav-history").hidden = !signedIn;
  $("nav-new").hidden = !signedIn;
  $("sign-out").hidden = !signedIn;
  const heading = $(`screen-${name}`).querySelector("h2");
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
}

function notice(text, kind = "error") {
  const box = $("notice");
  box.textContent = text;
  box.className = kind === "info" ? "info" : "";
  box.hidden = !text;
}

async function api(path, { method = "GET", body } = {}) {
  const headers = {};
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && state.token) {
    signOut("Your session expired; please sign in again.");
    throw new Error("signed out");
  }
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try {
      message = (await response.json()).error.message;
    } catch (_) {
      /* not JSON */
    }
    throw new Error(message);
  }
  return response.status === 204 ? null : response.json();
}

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "onclick") node.addEventListener("click", v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

// ---- accounts -------------------------------------------------------------------------

async function authenticate(register) {
  const email = $("email").value.trim();
  const password = $("password").value;
  if (!email.includes("@")) return notice("Enter your email address.");
  if (password.length < 8) return notice("Passwords have at least 8 characters.");
  try {
    const out = await api(register ? "/api/auth/register" : "/api/auth/login", {
      method: "POST",
      body: { email, password },
    });
    state.token = out.token;
    sessionStorage.setItem("coach.token", out.token);
    notice("");
    show("setup");
  } catch (e) {
    notice(e.message);
  }
}

function signOut(message = "") {
  state.token = null;
  sessionStorage.removeItem("coach.token");
  // nothing typed stays on a shared screen after signing out
  $("auth-form").reset();
  stopAudio();
  if (state.ws) state.ws.close();
  notice(message, "info");
  show("auth");
}

// ---- microphone -----------------------------------------------------------------------

async function openMicrophone(onFrame, onLevel) {
  if (!navigator.mediaDevices || !window.AudioWorkletNode) {
    throw new Error("This browser cannot capture audio here (it needs HTTPS or localhost).");
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true },
    });
  } catch (e) {
    const denied = e && (e.name === "NotAllowedError" || e.name === "SecurityError");
    throw new Error(
      denied
        ? "Microphone access was denied. Allow the microphone for this site in your browser settings, then try again."
        : `No microphone could be opened (${e && e.name ? e.name : e}).`,
    );
  }
  const context = new AudioContext();
  await context.audioWorklet.addModule("capture.js");
  const source = context.createMediaStreamSource(stream);
  const node = new AudioWorkletNode(context, "pcm16-downsampler");
  node.port.onmessage = (event) => {
    if (onLevel) onLevel(event.data.level);
    if (onFrame) onFrame(event.data.pcm);
  };
  source.connect(node);
  return { context, stream, node };
}

function stopAudio() {
  clearInterval(state.pauseTimer);
  const a = state.audio;
  if (!a) return;
  a.node.port.onmessage = null;
  a.stream.getTracks().forEach((t) => t.stop());
  a.context.close();
  state.audio = null;
}

async function micTest() {
  notice("");
  stopAudio();
  try {
    state.audio = await openMicrophone(null, (level) => {
      $("mic-level").value = Math.min(1, level * 3);
    });
    $("mic-status").textContent = "Listening: the bar moves when you speak.";
  } catch (e) {
    $("mic-status").textContent = e.message;
    notice(e.message);
  }
}

// ---- the interview --------------------------------------------------------------------

// A browser cannot set headers on a WebSocket, so it opens each socket with a single-use ticket
// from an authenticated POST: the sign-in token itself never appears in a URL.
async function wsUrl() {
  const { ticket } = await api("/api/auth/ws-ticket", { method: "POST" });
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/?ticket=${encodeURIComponent(ticket)}`;
}

function speak(text) {
  if (!("speechSynthesis" in window)) return;
  speechSynthesis.cancel();
  speechSynthesis.speak(new SpeechSynthesisUtterance(text));
}

async function startInterview(event) {
  event.preventDefault();
  const plan = {
    role: $("role").value.trim() || "general",
    seniority: $("seniority").value,
    questions: Number($("questions").value) || 3,
  };
  if ($("minutes").value) plan.minutes = Number($("minutes").value);
  await begin({ plan }, null);
}

const HABIT_TITLES = { fillers: "Filler words", pace: "Speaking pace", pauses: "Long pauses" };

// A drill: one prompt, one habit, a time limit; the server ends it and sends hints on that habit.
async function startDrill(event) {
  event.preventDefault();
  const drill = { habit: $("drill-habit").value, seconds: Number($("drill-seconds").value) };
  await begin({ drill }, drill);
}

async function begin(extra, drill) {
  notice("");
  $("analyzing-status").textContent = ANALYZING;
  stopAudio();
  try {
    state.audio = await openMicrophone((pcm) => sendAudio(pcm), null);
  } catch (e) {
    notice(e.message);
    return;
  }
  $("final-text").textContent = "";
  $("interim-text").textContent = "";
  $("question").textContent = "Connecting…";
  $("nudge").hidden = true;
  state.sessionId = null;
  state.lastSeq = 0;
  state.ending = false;
  state.reconnects = 0;
  state.metricsNudge = "";
  state.speaking = null;
  state.silentSince = null;
  clearInterval(state.pauseTimer);
  $("stat-speaking").textContent = "—";
  state.interviewDone = false;
  state.drill = drill;
  state.serverNudge = null;
  $("end").disabled = false;
  $("end").textContent = drill ? "End drill" : "End interview";
  $("next").hidden = Boolean(drill);
  $("question-count").textContent = "";
  $("interview-title").textContent = drill ? `Drill: ${HABIT_TITLES[drill.habit]}` : "Interview";
  $("turn-rule").textContent = drill
    ? `One question. The drill ends by itself after ${clock(drill.seconds)}; hints here are about ${HABIT_TITLES[drill.habit].toLowerCase()} only.`
    : "Answer out loud. I'll move on after a few seconds of silence, or when you press “Next question”.";
  $("stat-time").textContent = drill ? `${clock(drill.seconds)} left` : "0:00";
  show("interview");
  connect({ action: "start", audio: { encoding: "linear16", sampleRate: 16000 }, ...extra });
}

function sendAudio(pcm) {
  const ws = state.ws;
  if (ws && ws.readyState === WebSocket.OPEN && state.sessionId && !state.ending) ws.send(pcm);
}

async function connect(first) {
  let url;
  try {
    url = await wsUrl();
  } catch (e) {
    if (!state.sessionId) {
      notice("Could not reach the server. Check your connection and try again.");
      stopAudio();
      return show("setup");
    }
    // a reconnect that could not get a ticket tries again like a dropped socket
    state.reconnects += 1;
    return setTimeout(() => connect(first), 1000 * Math.min(state.reconnects, 5));
  }
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  state.ws = ws;
  ws.onopen = () => ws.send(JSON.stringify(first));
  ws.onmessage = (message) => onEvent(JSON.parse(message.data));
  ws.onclose = (close) => {
    if (state.ws !== ws) return;
    if (close.code === 4401) return signOut("Please sign in again.");
    if (state.interviewDone) return;
    if (!state.sessionId) {
      notice("Could not reach the server. Check your connection and try again.");
      stopAudio();
      return show("setup");
    }
    // the network dropped: the server keeps the session for a minute; take it back
    state.reconnects += 1;
    if (state.reconnects > 10) {
      notice("The connection was lost. Your interview was saved; see History.");
      stopAudio();
      return;
    }
    notice("Connection lost — reconnecting…", "info");
    setTimeout(
      () => connect({ action: "resume", sessionId: state.sessionId, lastSeq: state.lastSeq }),
      Math.min(5000, 500 * state.reconnects),
    );
  };
}

function onEvent(event) {
  if (typeof event.seq === "number") state.lastSeq = Math.max(state.lastSeq, event.seq);
  switch (event.type) {
    case "ready":
      state.sessionId = event.sessionId;
      if (event.resumed) {
        state.reconnects = 0;
        notice("Reconnected.", "info");
        setTimeout(() => notice(""), 2000);
      }
      if (event.drill) state.drill = event.drill;
      if (state.ending && event.state === "live") state.ws.send(JSON.stringify({ action: "complete" }));
      break;
    case "nudge":
      onNudge(event);
      break;
    case "transcript":
      if (event.isFinal) {
        $("final-text").textContent += ($("final-text").textContent ? " " : "") + event.text;
        $("interim-text").textContent = "";
      } else {
        $("interim-text").textContent = event.text;
      }
      break;
    case "metrics":
      onMetrics(event);
      break;
    case "speech":
      onSpeech(event);
      break;
    case "question":
      $("question").textContent = event.text;
      if (event.kind === "question") {
        // each question gets its own transcript on screen; the stored one keeps them all
        $("final-text").textContent = "";
        $("interim-text").textContent = "";
      }
      if (event.number && event.of && !event.closing && !state.drill) {
        $("question-count").textContent = `· question ${event.number} of ${event.of}`;
      }
      $("next").hidden = Boolean(event.closing || state.drill);
      if (event.kind !== "nudge") $("nudge").hidden = true;
      speak(event.text);
      if (event.closing) $("end").textContent = "Finish and see results";
      break;
    case "final_pass":
      onFinalPass(event);
      break;
    case "session_complete":
      state.interviewId = event.interviewId;
      state.interviewDone = true;
      stopAudio();
      show("analyzing");
      pollAnalysis();
      break;
    case "analysis_complete":
      if (event.interviewId === state.interviewId) openResults(event.interviewId);
      break;
    case "error":
      if (event.code === "unknown_session") {
        notice("That interview ended while you were away; it was saved. See History.");
        stopAudio();
        state.interviewDone = true;
      } else if (event.code !== "internal_error") {
        notice(event.message);
      }
      break;
    default:
      break;
  }
}

// Rules (docs/protocol.md): the pace shows once the server measures it on enough speech
// (`speakingWpm` not null) and is the rate over the last 30 s of speech, so it holds still while
// words are being decoded; the fillers nudge shows while 3 or more fillers fall in the last 30 s
// (`recentFillers`) and clears by itself after that long without them.
function onMetrics(m) {
  $("stat-time").textContent = state.drill
    ? `${clock(Math.max(0, state.drill.seconds - m.elapsed))} left`
    : clock(m.elapsed);
  const measured = m.speakingWpm !== null && m.speakingWpm !== undefined;
  $("stat-wpm").textContent = measured ? `${whole(m.wpm)} wpm` : "— wpm";
  $("stat-fillers").textContent = `${m.fillers} filler${m.fillers === 1 ? "" : "s"}`;
  let nudge = "";
  if (measured && m.words >= 40 && m.wpm > PACE_BAND[1] + 10) {
    nudge = "You're speeding up — take a breath.";
  } else if ((m.recentFillers ?? 0) >= FILLER_BURST) {
    nudge = "Several fillers just now — a silent pause works better.";
  }
  state.metricsNudge = nudge;
  showNudge();
}

const FILLER_BURST = 3;
// a silence this long is a long pause in the report: the live view says so as it happens
const LONG_PAUSE_SECONDS = 3;

// A drill's hints come from the server, tuned to its habit (docs/protocol.md, `nudge`); each
// stays up a few seconds and replaces the general ones while it does.
const SERVER_NUDGE_MS = 5000;

function onNudge(event) {
  state.serverNudge = { text: event.message, tone: event.tone, until: performance.now() + SERVER_NUDGE_MS };
  clearTimeout(state.nudgeTimer);
  state.nudgeTimer = setTimeout(showNudge, SERVER_NUDGE_MS + 50);
  showNudge();
}

function showNudge() {
  const server = state.serverNudge;
  if (server && performance.now() < server.until) {
    $("nudge").textContent = server.text;
    $("nudge").className = server.tone === "good" ? "good" : "";
    $("nudge").hidden = false;
    return;
  }
  $("nudge").className = "";
  if (state.drill) {
    $("nudge").hidden = true;
    return;
  }
  const silent = state.speaking === false && state.silentSince !== null;
  const paused = silent ? (performance.now() - state.silentSince) / 1000 : 0;
  const nudge =
    state.metricsNudge ||
    (paused >= LONG_PAUSE_SECONDS ? `Long pause (${Math.floor(paused)} s) — carry on when you're ready.` : "");
  $("nudge").textContent = nudge;
  $("nudge").hidden = !nudge;
}

// Voice activity from the server, within a few hundred ms of the microphone: speaking or not,
// and how long the current pause has lasted.
function onSpeech(event) {
  state.speaking = event.speaking;
  state.silentSince = event.speaking ? null : performance.now();
  $("stat-speaking").textContent = event.speaking ? "speaking" : "pause";
  clearInterval(state.pauseTimer);
  if (!event.speaking) state.pauseTimer = setInterval(showNudge, 500);
  showNudge();
}

const ANALYZING = "Measuring your pace, fillers and pauses and writing your coaching.";

// The server transcribes the whole recording again at full accuracy before it stores the
// interview; say so, since it can take a while on a long answer.
function onFinalPass(event) {
  stopAudio();
  show("analyzing");
  const status = $("analyzing-status");
  if (event.state === "running") {
    const minutes = Math.max(1, Math.round((event.audioSeconds || 0) / 60));
    status.textContent =
      `Transcribing your ${minutes}-minute recording again at full accuracy, so every word and filler counts…`;
  } else if (event.state === "failed") {
    status.textContent = `Using the live transcript. ${ANALYZING}`;
  } else {
    status.textContent = ANALYZING;
  }
}

// The candidate is done with this answer: the interviewer moves on without waiting out the
// silence (the `next` action, so the mobile app has the same control).
function nextQuestion() {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) {
    state.ws.send(JSON.stringify({ action: "next" }));
  }
}

function endInterview() {
  if (state.ending) return;
  state.ending = true;
  $("end").disabled = true;
  if (state.ws && state.ws.readyState === WebSocket.OPEN) {
    state.ws.send(JSON.stringify({ action: "complete" }));
  }
}

function pollAnalysis() {
  clearTimeout(state.pollTimer);
  const id = state.interviewId;
  // the socket says when the analysis is stored; polling covers a socket that dropped
  state.pollTimer = setTimeout(async () => {
    if (state.interviewId !== id || $("screen-analyzing").hidden) return;
    try {
      const interview = await api(`/api/interviews/${id}`);
      if (interview.status !== "processing") return openResults(id, interview);
    } catch (_) {
      /* try again */
    }
    pollAnalysis();
  }, 3000);
}

// ---- results --------------------------------------------------------------------------

async function openResults(id, interview) {
  clearTimeout(state.pollTimer);
  if (state.ws) {
    state.interviewDone = true;
    state.ws.close();
    state.ws = null;
  }
  $("end").disabled = false;
  $("end").textContent = "End interview";
  try {
    interview = interview || (await api(`/api/interviews/${id}`));
  } catch (e) {
    return notice(e.message);
  }
  state.interviewId = id;
  // shown first, so the charts are drawn at the size they are seen at
  show("results");
  renderResults(interview);
  location.hash = `#interview/${id}`;
}

// Every moment plays from the same lead-in before it (aiAnalysis.seekLeadIn), so the listener
// hears what led up to it; the moment itself is the one shown everywhere.
let seekLeadIn = 1.5;

function seek(seconds) {
  const player = $("player");
  player.currentTime = Math.max(0, seconds - seekLeadIn);
  player.dataset.sought = String(seconds);
  player.focus();
  if (player.src) player.play().catch(() => {});
}

const FUNCTION_WORDS = new Set(("a about after all also an and any are as at be because been before but " +
  "by can could did do does for from had has have he her him his how i if in into is it its just me more " +
  "most my no not of on one or our out so some than that the their them then there these they this " +
  "those to up us was we were what when where which while who why will with would you your").split(" "));

function seekButton(label, seconds, text) {
  return el("button", { type: "button", class: "seek", dataset: { t: String(seconds) },
    onclick: () => seek(seconds), "aria-label": `${text} at ${clock(seconds)}: play from here` },
    label);
}

async function loadRecording(interview) {
  const player = $("player");
  if (player.dataset.url) URL.revokeObjectURL(player.dataset.url);
  player.removeAttribute("src");
  player.hidden = !interview.recordingUrl;
  if (!interview.recordingUrl) return;
  try {
    const response = await fetch(interview.recordingUrl, {
      headers: { Authorization: `Bearer ${state.token}` },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const url = URL.createObjectURL(await response.blob());
    player.dataset.url = url;
    player.src = url;
  } catch (e) {
    player.hidden = true;
    notice(`The recording could not be loaded (${e.message}).`);
  }
}

function renderDrill(iv) {
  const r = iv.drillResult;
  $("drill-result").hidden = !iv.drill;
  if (!iv.drill) return;
  $("drill-result-title").textContent = `Drill · ${HABIT_TITLES[iv.drill.habit]} · “${iv.drill.prompt}”`;
  $("drill-result-score").textContent = r ? `${r.score}/100` : "—";
  $("drill-result-text").textContent = r
    ? r.text
    : iv.status === "processing" ? "Scoring…" : "Nothing was said, so there is nothing to score.";
}

function renderResults(iv) {
  const a = iv.aiAnalysis;
  renderDrill(iv);
  $("results-title").textContent = iv.drill ? "Your drill" : "Your results";
  $("failed").hidden = iv.status !== "failed";
  if (iv.status === "failed") $("failed-text").textContent = `The analysis failed: ${iv.error || "unknown error"}.`;
  $("score-overall").textContent = a ? a.overallScore : "—";
  $("score-confidence").textContent = a ? a.confidenceScore : "—";
  if (a && a.seekLeadIn != null) seekLeadIn = a.seekLeadIn;
  $("score-pace").textContent = `${whole(iv.speakingPace ?? iv.averagePace)} wpm`;
  $("score-pace-overall").textContent = `overall ${whole(iv.averagePace)} wpm with silences`;
  const strengths = (a && a.strengths) || [];
  // an honest empty list: no measure reached its good band this time
  $("strengths").replaceChildren(...(strengths.length
    ? strengths.map((t) => el("li", {}, t))
    : [el("li", { class: "hint" }, "Nothing reached its good range this time; the points below are where to start.")]));
  $("weaknesses").replaceChildren(...((a && a.weaknesses) || []).map((t) => el("li", {}, t)));
  $("hedges").replaceChildren(
    ...(iv.hedges || []).map((h) =>
      el("li", {}, seekButton(`“${h.word}” ${clock(h.timestamp)}`, h.timestamp, `Hedge “${h.word}”`))),
    ...(iv.repetitions || []).map((r) =>
      el("li", {}, seekButton(`“${r.word}” ×${r.count} ${clock(r.timestamp)}`, r.timestamp, `Repeated “${r.word}”`))),
  );
  const content = (a && a.content) || [];
  $("content-section").hidden = !content.length;
  $("content-list").replaceChildren(...content.map(renderContent));
  $("score-fillers").textContent = String(iv.fillers.length);
  $("summary").textContent = a ? a.summary : "";
  $("pace-analysis").textContent = a ? a.paceAnalysis : "";
  $("filler-analysis").textContent = a ? a.fillerAnalysis : "";
  loadRecording(iv);

  $("fillers").replaceChildren(
    ...iv.fillers.map((f) =>
      el("li", {}, seekButton(`“${f.word}” ${clock(f.timestamp)}`, f.timestamp, `Filler “${f.word}”`)),
    ),
  );
  $("improvements").replaceChildren(
    ...(a ? a.improvements : []).map((imp) =>
      el("li", {}, el("strong", {}, imp.title), " ",
        seekButton(clock(imp.timestamp), imp.timestamp, imp.title), el("p", {}, imp.description)),
    ),
  );
  $("highlights").replaceChildren(...(a ? a.highlights : []).map((h) => el("li", {}, h)));
  $("pauses").replaceChildren(
    ...iv.pauses.map((p) =>
      el("li", {}, seekButton(clock(p.timestamp), p.timestamp, "Pause"), ` ${p.duration.toFixed(1)} s of silence`),
    ),
  );
  if (!iv.pauses.length) $("pauses").append(el("li", {}, "No long pauses."));

  const questions = iv.questions || [];
  $("questions-section").hidden = !questions.length;
  const feedback = new Map(((a && a.questions) || []).map((q) => [q.question, q]));
  $("questions-list").replaceChildren(
    ...questions.map((q, i) => {
      const f = feedback.get(q.text);
      return el("article", {},
        el("h4", {}, `${i + 1}. ${q.text}`),
        el("p", {}, q.answerStart == null ? "Not answered." :
          `Answered after ${(q.responseLatency ?? 0).toFixed(1)} s, for ${clock(q.answerEnd - q.answerStart)}. `),
        ...(q.answerStart == null ? [] : [seekButton("Play answer", q.answerStart, "Answer")]),
        ...(f ? [el("p", {}, `Score ${f.score}: ${f.feedback}`)] : []));
    }),
  );

  renderTimeline(iv);
  paceChart($("pace-chart"), iv.paceTimeline, PACE_BAND);
}

function renderContent(c) {
  const rows = [el("h4", {}, `“${c.question}”`)];
  if (c.star) {
    rows.push(el("p", { class: "star" }, `STAR: ${c.star.present.join(", ") || "none"} present` +
      (c.star.missing.length ? `; missing ${c.star.missing.join(", ")}` : "")));
  }
  const facts = [`${Math.round(c.lengthSeconds)} s long (guide ${c.lengthGuide[0]}–${c.lengthGuide[1]} s)`];
  if (c.relevance != null) facts.push(`relevance ${c.relevance.toFixed(2)}`);
  if (c.iCount + c.weCount) facts.push(`“I” ${c.iCount}, “we” ${c.weCount}`);
  rows.push(el("p", {}, facts.join(" · ")));
  rows.push(el("ul", {}, ...c.findings.filter((f) => f.text).map((f) =>
    el("li", { class: f.verdict }, (f.verdict === "strength" ? "✓ " : "✗ ") + f.text))));
  return el("article", {}, ...rows);
}

function renderTimeline(iv) {
  const fillerAt = new Set();
  const words = iv.words;
  for (const f of iv.fillers) {
    // mark the words a filler covers (one for "um", two for "you know")
    const n = f.word.split(" ").length;
    const i = words.findIndex((w) => Math.abs(w.start - f.timestamp) < 0.01);
    for (let k = 0; i >= 0 && k < n; k++) fillerAt.add(i + k);
  }
  const nodes = [];
  words.forEach((w, i) => {
    // the same rule as the report: function words need a lower probability to count as unsure
    const unsure = w.confidence < (FUNCTION_WORDS.has(w.word) ? 0.2 : 0.4);
    const cls = fillerAt.has(i) ? "word filler" : unsure ? "word misheard" : "word";
    const span = el("span", { class: cls, title: unsure ? `${clock(w.start)} · possibly misheard` : clock(w.start),
      dataset: { t: String(w.start) } }, w.punctuatedWord || w.word);
    span.addEventListener("click", () => seek(w.start));
    nodes.push(span, " ");
  });
  $("timeline").replaceChildren(...nodes);
}

async function retryAnalysis() {
  try {
    await api(`/api/interviews/${state.interviewId}/retry`, { method: "POST" });
    show("analyzing");
    pollAnalysis();
  } catch (e) {
    notice(e.message);
  }
}

// ---- history --------------------------------------------------------------------------

async function openHistory() {
  notice("");
  let page;
  try {
    page = await api("/api/interviews?limit=100");
  } catch (e) {
    return notice(e.message);
  }
  const items = page.items;
  $("history-empty").hidden = items.length > 0;
  $("history-list").replaceChildren(
    ...items.map((iv) => {
      const when = new Date(iv.createdAt).toLocaleString();
      const score = iv.aiAnalysis ? `score ${iv.aiAnalysis.overallScore}` : iv.status;
      const what = iv.drill
        ? `drill on ${HABIT_TITLES[iv.drill.habit].toLowerCase()}${iv.drillResult ? ` (${iv.drillResult.score}/100)` : ""}`
        : score;
      return el("li", {}, el("button", { type: "button", class: "link",
        onclick: () => openResults(iv.id, iv) }, `${when} — ${what}, ${whole(iv.averagePace)} wpm, ${iv.fillers.length} fillers`));
    }),
  );
  const scored = items.filter((iv) => iv.aiAnalysis).reverse();
  show("history");
  trendChart($("trend-chart"), scored.map((iv) => ({ date: iv.createdAt, score: iv.aiAnalysis.overallScore })));
  await showProgress();
}

function signed(x) {
  return `${x > 0 ? "+" : x < 0 ? "−" : "±"}${Math.abs(x).toFixed(1)}`;
}

// The measures as the analyses judged them, so this page never disagrees with a report.
async function showProgress() {
  let p;
  try {
    p = await api("/api/me/progress?last=5");
  } catch (e) {
    return notice(e.message);
  }
  $("goal-fillers").value = p.goals.fillers_per_minute ?? "";
  $("goal-overall").value = p.goals.overall ?? "";
  const cards = p.measures.map((m) => {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 300 130");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", `${m.label} in each interview`);
    svg.classList.add("measure-chart");
    measureChart(svg, m);
    const facts = [`now ${m.latest.toFixed(1)} ${m.unit}`.trim()];
    if (m.change !== null) {
      const word = m.improved === true ? "better" : m.improved === false ? "worse" : "no change";
      facts.push(`${signed(m.change)} since last (${word})`);
    }
    if (m.goal !== null) {
      const sign = m.better === "lower" ? "≤" : "≥";
      facts.push(`goal ${sign} ${m.goal}: ${m.goalMet ? "met ✓" : "not yet"}`);
    }
    return el("div", { class: "card measure", "data-measure": m.measure },
      el("p", { class: "label" }, m.label), svg, el("p", { class: "facts" }, facts.join(" · ")));
  });
  $("progress").replaceChildren(...cards);
}

async function saveGoals(event) {
  event.preventDefault();
  const goals = {};
  if ($("goal-fillers").value !== "") goals.fillers_per_minute = Number($("goal-fillers").value);
  if ($("goal-overall").value !== "") goals.overall = Number($("goal-overall").value);
  try {
    await api("/api/me/goals", { method: "PUT", body: { goals } });
    notice("Goals saved.", "info");
    await showProgress();
  } catch (e) {
    notice(e.message);
  }
}

// Everything stored about the user, as a file (a fetch, since the token is not in a URL)
async function downloadExport() {
  try {
    const data = await api("/api/me/export");
    const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
    const link = el("a", { href: URL.createObjectURL(blob), download: "coach-export.json" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  } catch (e) {
    notice(e.message);
  }
}

// ---- wiring ---------------------------------------------------------------------------

function main() {
  $("auth-form").addEventListener("submit", (e) => {
    e.preventDefault();
    authenticate(false);
  });
  $("sign-up").addEventListener("click", () => authenticate(true));
  $("sign-out").addEventListener("click", () => signOut());
  $("nav-history").addEventListener("click", openHistory);
  $("goals-form").addEventListener("submit", saveGoals);
  $("export").addEventListener("click", downloadExport);
  $("nav-new").addEventListener("click", () => {
    notice("");
    show("setup");
  });
  $("home").addEventListener("click", (e) => {
    e.preventDefault();
    show(state.token ? "setup" : "auth");
  });
  $("mic-test").addEventListener("click", micTest);
  $("setup-form").addEventListener("submit", startInterview);
  $("drill-form").addEventListener("submit", startDrill);
  $("end").addEventListener("click", endInterview);
  $("next").addEventListener("click", nextQuestion);
  $("retry").addEventListener("click", retryAnalysis);
  $("toggle-transcript").addEventListener("click", () => {
    const box = $("transcript");
    box.hidden = !box.hidden;
    $("toggle-transcript").setAttribute("aria-pressed", String(!box.hidden));
    $("toggle-transcript").textContent = box.hidden ? "Show transcript" : "Hide transcript";
  });
  const match = location.hash.match(/^#interview\/(\w+)$/);
  if (state.token && match) openResults(match[1]);
  else show(state.token ? "setup" : "auth");
}

main();
