// The reader's page: a conversation with the documents, every answer sentence one click from its passage and
// every footnote one click from what it cites (and its source's quotation checks).
//
// Rules kept throughout: text from the server or the reader is only ever inserted as text (h() below builds
// every node; nothing is parsed as HTML); every request goes to this server; fields the API adds later
// (document, page, reason) are used when present and not required.
"use strict";

(() => {
  const STORE_KEY = "qa-service.conversation.v1";
  const FILTER_KEY = "qa-service.documents.v1";
  // Kept under the server's defaults (50 messages of at most 1,000 characters each): follow-ups are resolved
  // from the earlier *user* turns, so older turns and long answers can be trimmed without changing answers.
  const HISTORY_TURNS = 20;
  const ANSWER_ECHO_CHARS = 600;
  const KEPT_TURNS = 100; // turns kept in localStorage

  const $ = (id) => document.getElementById(id);

  // ------------------------------------------------------------------ DOM building (text only, never HTML)

  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") el.className = value;
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    return add(el, children);
  }

  function add(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      el.append(c instanceof Node ? c : String(c)); // a string becomes a text node
    }
    return el;
  }

  const safeUrl = (u) => (typeof u === "string" && /^https?:\/\//i.test(u) ? u : null);
  const outLink = (url, label) => {
    const href = safeUrl(url);
    return href ? h("a", { href, target: "_blank", rel: "noopener noreferrer" }, label || url) : label || url;
  };

  // A reference's text with its URLs as links (the URL text itself is the link's text).
  function linkified(text) {
    const parts = [];
    const re = /https?:\/\/[^\s<>"]+[^\s<>".,;:)\]]/g;
    let last = 0;
    for (const m of String(text || "").matchAll(re)) {
      parts.push(text.slice(last, m.index), outLink(m[0]));
      last = m.index + m[0].length;
    }
    parts.push(String(text || "").slice(last));
    return parts;
  }

  // At most n characters, cut at a word boundary when one is near.
  const clip = (s, n) => {
    s = String(s || "").replace(/\s+/g, " ").trim();
    if (s.length <= n) return s;
    const cut = s.slice(0, n - 1);
    const space = cut.lastIndexOf(" ");
    return (space > n * 0.6 ? cut.slice(0, space) : cut).replace(/[\s,;:.]+$/, "") + "…";
  };
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

  // ------------------------------------------------------------------ state

  const state = {
    turns: [], // {id, q, documents, status: "pending" | "done" | "error", res, error, partial}
    docs: [], // GET /documents (empty when the server has no such endpoint)
    docsById: new Map(),
    primary: "",
    filter: [], // document ids the reader chose; empty = all
    notes: new Map(), // document -> Promise<references>
    busy: false,
    nextId: 1,
  };

  const papers = () => state.docs.filter((d) => (d.kind || "paper") === "paper");
  const docOf = (x) => (x && (x.document || x.footnote_document)) || state.primary || "";
  const notesDocOf = (p) => (p && (p.footnote_document || p.document)) || state.primary || "";

  function docTitle(id) {
    const d = state.docsById.get(id);
    if (d) return d.title || d.id;
    return id || "the paper";
  }
  function docShort(id) {
    return clip(docTitle(id), 28);
  }

  function shortTitle(ref) {
    const t = ref.title || ref.author || String(ref.text || "").replace(/https?:\/\/\S+/g, "");
    return clip(t.replace(/^[“"']+|[”"',.]+$/g, ""), 44);
  }

  // ------------------------------------------------------------------ HTTP

  class ApiError extends Error {}

  const NETWORK =
    "Could not reach the server: the connection failed. Your conversation is kept; try again when the connection is back.";
  const STATUS_WORDS = {
    400: "bad request",
    404: "not found",
    408: "timed out",
    413: "too long",
    422: "not accepted",
    429: "too many requests",
    500: "the server failed",
    502: "bad gateway",
    503: "the service is not ready",
    504: "the answer took too long",
  };

  function formatDetail(d) {
    if (typeof d === "string") return d;
    if (Array.isArray(d)) {
      return d
        .map((e) => {
          if (!e || typeof e !== "object" || !e.msg) return JSON.stringify(e);
          const where = (e.loc || []).filter((x) => x !== "body").join(".");
          return where ? `${where}: ${e.msg}` : e.msg;
        })
        .join("; ");
    }
    return d === undefined || d === null ? "" : JSON.stringify(d);
  }

  async function describeError(r) {
    let detail = "";
    try {
      detail = formatDetail((await r.clone().json()).detail);
    } catch {
      detail = ""; // not JSON (a proxy's page, an empty body): the status says enough
    }
    const words = STATUS_WORDS[r.status] || (r.status >= 500 ? "the server failed" : "the request failed");
    return `Server error ${r.status} (${words})${detail ? `: ${detail}` : "."}`;
  }

  // A server started with API keys answers 401: ask the reader for a key once, keep it in this browser, and
  // send it as `Authorization: Bearer <key>` from then on.
  const KEY_STORE = "qa-service.api-key";

  function withKey(options) {
    const key = localStorage.getItem(KEY_STORE);
    if (!key) return options;
    const o = Object.assign({}, options || {});
    o.headers = Object.assign({}, o.headers || {}, { Authorization: `Bearer ${key}` });
    return o;
  }

  async function request(path, options, asked) {
    const sent = localStorage.getItem(KEY_STORE);
    let r;
    try {
      r = await fetch(path, withKey(options));
    } catch {
      throw new ApiError(NETWORK);
    }
    if (r.status === 401 && !asked) {
      // requests sent together (the page's first ones) are refused together: the first to come back asks, the
      // others go again with the key it was given rather than asking again
      const now = localStorage.getItem(KEY_STORE);
      if (now && now !== sent) return request(path, options, true);
      const key = window.prompt("This server needs an API key. Enter it to continue:");
      if (key && key.trim()) {
        localStorage.setItem(KEY_STORE, key.trim());
        return request(path, options, true);
      }
    }
    if (r.status === 401) localStorage.removeItem(KEY_STORE);
    if (!r.ok) throw new ApiError(await describeError(r));
    return r;
  }

  async function getJSON(path) {
    const r = await request(path);
    try {
      return await r.json();
    } catch {
      throw new ApiError("The server's reply could not be read. Try again.");
    }
  }

  function parseEvent(block) {
    let event = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (!line || line.startsWith(":")) continue;
      const i = line.indexOf(":");
      const field = i < 0 ? line : line.slice(0, i);
      let value = i < 0 ? "" : line.slice(i + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (!data.length) return null;
    try {
      return { event, data: JSON.parse(data.join("\n")) };
    } catch {
      return null;
    }
  }

  // POST /chat as Server-Sent Events: `delta` events carry the answer as it is written, `final` the whole
  // response (the same object as without streaming).
  async function chat(messages, documents, onDelta) {
    const body = { messages, stream: true };
    if (documents && documents.length) body.documents = documents;
    const r = await request("/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify(body),
    });
    if (!(r.headers.get("content-type") || "").includes("text/event-stream")) {
      try {
        return await r.json();
      } catch {
        throw new ApiError("The server's reply could not be read. Try again.");
      }
    }
    let final = null;
    try {
      await readEvents(r, (ev) => {
        if (ev.event === "final") final = ev.data;
        else if (ev.event === "error") throw new ApiError(`Server error: ${formatDetail(ev.data.detail) || "the answer failed"}`);
        else if (ev.event === "delta" && typeof ev.data.text === "string") onDelta(ev.data.text);
      });
    } catch (e) {
      if (e instanceof ApiError) throw e;
      throw new ApiError("The connection broke while the answer was arriving. Your conversation is kept; try again.");
    }
    if (!final) throw new ApiError("The answer stopped before it was complete. Your conversation is kept; try again.");
    return final;
  }

  // A response of Server-Sent Events, read to its end: onEvent({event, data}) for each event with JSON data.
  // (fetch rather than EventSource: it sends the API key, and EventSource cannot.)
  async function readEvents(r, onEvent) {
    const reader = r.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
      buffer = buffer.replace(/\r\n/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const ev = parseEvent(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
        if (ev) onEvent(ev);
      }
      if (done) break;
    }
  }

  const citationPath = (doc, n) =>
    doc && state.docsById.has(doc)
      ? `/documents/${encodeURIComponent(doc)}/citations/${encodeURIComponent(n)}`
      : `/citations/${encodeURIComponent(n)}`;
  const footnotesPath = (doc) =>
    doc && state.docsById.has(doc) ? `/documents/${encodeURIComponent(doc)}/footnotes` : "/footnotes";

  function references(doc) {
    const key = doc || "";
    if (!state.notes.has(key)) {
      const p = getJSON(footnotesPath(doc)).catch((e) => {
        state.notes.delete(key);
        throw e;
      });
      state.notes.set(key, p);
    }
    return state.notes.get(key);
  }

  // ------------------------------------------------------------------ storage

  function save() {
    const turns = state.turns.slice(-KEPT_TURNS).map(({ partial, ...t }) => t);
    for (let keep = turns.length; keep >= 0; keep = keep ? Math.floor(keep / 2) : -1) {
      try {
        localStorage.setItem(STORE_KEY, JSON.stringify({ version: 1, turns: turns.slice(turns.length - keep) }));
        return;
      } catch {
        // quota exceeded (or storage disabled): keep fewer turns
      }
    }
  }

  function load() {
    let stored;
    try {
      stored = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
    } catch {
      stored = null;
    }
    const turns = stored && Array.isArray(stored.turns) ? stored.turns : [];
    state.turns = turns
      .filter((t) => t && typeof t.q === "string" && ["pending", "done", "error"].includes(t.status))
      .filter((t) => t.status !== "done" || (t.res && typeof t.res === "object"))
      .map((t, i) => ({
        ...t,
        id: i + 1,
        ...(t.status === "pending"
          ? { status: "error", error: "This question was interrupted when the page was reloaded. Try again." }
          : {}),
      }));
    state.nextId = state.turns.length + 1;
    try {
      const f = JSON.parse(localStorage.getItem(FILTER_KEY) || "[]");
      state.filter = Array.isArray(f) ? f.filter((x) => typeof x === "string") : [];
    } catch {
      state.filter = [];
    }
  }

  // ------------------------------------------------------------------ the conversation

  function earlierMessages(before) {
    const msgs = [];
    const done = state.turns.slice(0, before).filter((t) => t.status === "done");
    for (const t of done.slice(-HISTORY_TURNS)) {
      const answer = clip(t.res.answer, ANSWER_ECHO_CHARS) || "…";
      msgs.push({ role: "user", content: t.q }, { role: "assistant", content: answer });
    }
    return msgs;
  }

  function linkFor(turn) {
    const params = new URLSearchParams();
    params.set("q", (turn.res && turn.res.standalone_question) || turn.q);
    if (turn.documents && turn.documents.length) params.set("documents", turn.documents.join(","));
    return `?${params}`;
  }

  function setBusy(busy) {
    state.busy = busy;
    $("send").disabled = busy;
    $("send").textContent = busy ? "Answering…" : "Ask";
  }

  async function ask(question) {
    const turn = { id: state.nextId++, q: question, documents: activeFilter(), status: "pending", partial: "" };
    state.turns.push(turn);
    save();
    $("empty").hidden = true;
    $("thread").append(renderTurn(turn));
    turnElement(turn).scrollIntoView({ block: "nearest" });
    await run(turn);
  }

  async function run(turn) {
    setBusy(true);
    const index = state.turns.indexOf(turn);
    const messages = [...earlierMessages(index), { role: "user", content: turn.q }];
    const partial = turnElement(turn).querySelector(".partial");
    try {
      turn.res = await chat(messages, turn.documents, (text) => {
        turn.partial += text;
        if (partial) partial.textContent = turn.partial;
      });
      turn.status = "done";
      delete turn.error;
    } catch (e) {
      turn.status = "error";
      turn.error = e instanceof ApiError ? e.message : `Something went wrong: ${e && e.message ? e.message : e}`;
    }
    turn.partial = "";
    save();
    redrawTurn(turn);
    setBusy(false);
  }

  function retry(turn) {
    if (state.busy) return;
    turn.status = "pending";
    turn.partial = "";
    redrawTurn(turn);
    run(turn);
  }

  function newConversation() {
    state.turns = [];
    save();
    renderThread();
    closePanel();
    $("question").focus();
  }

  const turnElement = (turn) => document.getElementById(`turn-${turn.id}`);
  function redrawTurn(turn) {
    const el = turnElement(turn);
    if (el) el.replaceWith(renderTurn(turn));
  }
  function renderThread() {
    $("thread").replaceChildren(...state.turns.map(safeTurn));
    $("empty").hidden = state.turns.length > 0;
  }

  // A turn stored by an older page (or edited by hand) that cannot be drawn must not take the thread with it.
  function safeTurn(turn) {
    try {
      return renderTurn(turn);
    } catch {
      return renderTurn({ ...turn, status: "error", error: "This stored answer could not be shown; ask again." });
    }
  }

  function renderTurn(turn) {
    const filterNote = turn.documents && turn.documents.length
      ? h("span", { class: "scope" }, `from ${turn.documents.map(docShort).join(", ")}`)
      : null;
    return h(
      "article",
      { class: `turn ${turn.status}`, id: `turn-${turn.id}` },
      h(
        "div",
        { class: "q" },
        h("p", { class: "q-text" }, turn.q),
        h(
          "div",
          { class: "q-meta" },
          filterNote,
          h("a", { class: "permalink", href: linkFor(turn), title: "A link that asks this question again" }, "Link"),
        ),
      ),
      h("div", { class: "a" }, renderAnswer(turn)),
    );
  }

  function renderAnswer(turn) {
    if (turn.status === "pending") {
      return h("p", { class: "partial", "aria-busy": "true" }, turn.partial || "Searching the documents…");
    }
    if (turn.status === "error") {
      return h(
        "div",
        { class: "error", role: "alert" },
        h("p", {}, turn.error || "Something went wrong."),
        h("button", { type: "button", class: "tool", onclick: () => retry(turn) }, "Try again"),
      );
    }
    const res = turn.res;
    if (res.abstained) return renderAbstention(turn);
    return [renderSentences(turn), renderChips(turn)];
  }

  function markerButton(turn, n) {
    const p = (turn.res.passages || [])[n - 1];
    const where = p ? [p.section, docTitle(docOf(p))].filter(Boolean).join(" · ") : "";
    return h(
      "button",
      {
        type: "button",
        class: "marker",
        "aria-label": `passage ${n}`,
        title: `Passage ${n}${where ? `: ${where}` : ""}`,
        onclick: (ev) => openAnswerPassage(turn, n - 1, ev.currentTarget),
      },
      String(n),
    );
  }

  function renderSentences(turn) {
    const res = turn.res;
    const p = h("p", { class: "answer" });
    if (Array.isArray(res.citations) && res.citations.length) {
      for (const c of res.citations) {
        // a sentence shown only for context: dimmed, and its footnotes are not among the answer's
        const attrs = c.context ? { class: "sent context", title: "Shown for context" } : { class: "sent" };
        add(p, [h("span", attrs, c.text), " ", markerButton(turn, c.marker), " "]);
      }
      return p;
    }
    // No sentence list: the answer text with its [n] markers.
    const text = String(res.answer || "");
    let last = 0;
    for (const m of text.matchAll(/\[(\d+)\]/g)) {
      add(p, [text.slice(last, m.index), markerButton(turn, Number(m[1]))]);
      last = m.index + m[0].length;
    }
    return add(p, [text.slice(last)]);
  }

  function renderChips(turn) {
    const notes = turn.res.footnotes || [];
    if (!notes.length) return h("p", { class: "chips none" }, "No footnote of the paper covers these sentences.");
    return h(
      "div",
      { class: "chips" },
      h("span", { class: "chips-label" }, notes.length === 1 ? "Footnote" : "Footnotes"),
      notes.map((f) => chip(turn, f)),
    );
  }

  let tipCount = 0;
  function chip(turn, f, opts = {}) {
    const doc = f.document || opts.doc || state.primary;
    const tipId = `tip-${++tipCount}`;
    return h(
      "span",
      { class: "chip-wrap" },
      h(
        "button",
        {
          type: "button",
          class: "chip",
          "aria-describedby": tipId,
          onclick: (ev) => openCitation(doc, f.number, turn, ev.currentTarget),
        },
        h("span", { class: "chip-n" }, String(f.number)),
        h("span", { class: "chip-t" }, shortTitle(f)),
        h("span", { class: "chip-d" }, docShort(doc)),
      ),
      h("span", { class: "tip", role: "tooltip", id: tipId }, f.text || ""),
    );
  }

  function renderAbstention(turn) {
    const res = turn.res;
    const reason = res.reason || String(res.answer || "").trim() || "The documents do not answer this.";
    const passages = res.passages || [];
    return h(
      "div",
      { class: "abstain" },
      h("p", { class: "reason" }, h("strong", {}, "Not answered. "), reason),
      passages.length
        ? [
            h(
              "h3",
              { class: "near-title" },
              "Nearest passages: what the documents say closest to the question (not an answer)",
            ),
            h(
              "ol",
              { class: "near" },
              passages.map((p, i) =>
                h(
                  "li",
                  {},
                  h(
                    "button",
                    { type: "button", class: "link", onclick: (ev) => openAnswerPassage(turn, i, ev.currentTarget) },
                    passageLabel(p),
                  ),
                  h("p", { class: "snippet" }, clip(p.text, 240)),
                ),
              ),
            ),
          ]
        : null,
    );
  }

  function passageLabel(p) {
    const doc = papers().length > 1 || !p.section ? docTitle(docOf(p)) : "";
    return [p.section || "", p.page ? `p. ${p.page}` : "", doc].filter(Boolean).join(" · ");
  }

  // ------------------------------------------------------------------ the side panel

  const panelStack = []; // views: functions that (re)build the panel, newest last
  let panelOpener = null;
  // On a phone the panel covers the page: what is under it is taken out of the tab order while it is open.
  const narrow = window.matchMedia("(max-width: 760px)");
  const coverPage = (on) => {
    for (const id of ["top", "conversation"]) $(id).inert = on;
  };
  narrow.addEventListener("change", () => coverPage(narrow.matches && !$("panel").hidden));

  async function showView(view, opener, replace = false) {
    if (opener) panelOpener = opener;
    if (replace) panelStack.length = 0;
    panelStack.push(view);
    await draw(view);
  }

  async function draw(view) {
    const panel = $("panel");
    panel.hidden = false;
    document.body.classList.add("panel-open");
    coverPage(narrow.matches);
    $("panel-back").hidden = panelStack.length < 2;
    $("panel-title").textContent = "Loading…";
    $("panel-body").replaceChildren(h("p", { class: "meta", "aria-busy": "true" }, "Loading…"));
    $("panel-title").focus({ preventScroll: true });
    let built;
    try {
      built = await view();
    } catch (e) {
      built = {
        title: "Could not load",
        body: h("p", { class: "error", role: "alert" }, e instanceof ApiError ? e.message : String(e)),
      };
    }
    if (panelStack[panelStack.length - 1] !== view) return; // another view opened meanwhile
    $("panel-title").textContent = built.title;
    $("panel-body").replaceChildren(...[built.body].flat());
    panel.scrollTop = 0;
    if (built.after) built.after();
  }

  function back() {
    if (panelStack.length < 2) return;
    panelStack.pop();
    draw(panelStack[panelStack.length - 1]);
  }

  function closePanel() {
    panelStack.length = 0;
    $("panel").hidden = true;
    document.body.classList.remove("panel-open");
    coverPage(false);
    if (panelOpener && document.contains(panelOpener)) panelOpener.focus();
    panelOpener = null;
  }

  const section = (title, ...children) => h("section", { class: "block" }, h("h3", {}, title), children);
  const facts = (pairs) =>
    h(
      "dl",
      { class: "facts" },
      pairs.filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
    );

  function usedIn(turn, passageId) {
    if (!turn || !turn.res || turn.res.abstained) return new Set();
    return new Set((turn.res.citations || []).filter((c) => c.passage_id === passageId).map((c) => c.sentence_id));
  }

  function openAnswerPassage(turn, index, opener) {
    const p = (turn.res.passages || [])[index];
    if (!p) return;
    showView(() => passageView(p.id, { turn, used: usedIn(turn, p.id), fallback: p }), opener, true);
  }

  // A passage: its sentences, the ones the answer uses as <mark>; where it is; its footnotes; "open in paper".
  async function passageView(id, { turn = null, used = new Set(), fallback = null, highlight = "" } = {}) {
    let p;
    try {
      p = await getJSON(`/passages/${encodeURIComponent(id)}`);
    } catch (e) {
      if (!fallback) throw e;
      p = { ...fallback, sentences: [{ id: "", text: fallback.text, footnotes: [] }] };
    }
    const doc = docOf(p);
    const notesDoc = notesDocOf(p);
    const sourceOf = /^footnote:(\d+)$/.exec(p.source || "");
    const text = h("blockquote", { class: "passage" });
    const sentences = p.sentences && p.sentences.length ? p.sentences : [{ id: "", text: p.text, footnotes: [] }];
    for (const s of sentences) {
      const body = used.has(s.id) ? h("mark", {}, s.text) : h("span", {}, s.text);
      add(text, [body]);
      if (!sourceOf) for (const n of s.footnotes || []) add(text, [noteMarker(notesDoc, n, turn)]);
      add(text, [" "]);
    }
    if (highlight) markText(text, highlight);
    const usedCount = sentences.filter((s) => used.has(s.id)).length;
    const note = usedCount
      ? h("p", { class: "meta" }, `Highlighted: ${plural(usedCount, "sentence", "sentences")} the answer uses.`)
      : null;
    const isSource = sourceOf || (state.docsById.get(doc) || {}).kind === "source";
    const body = [
      facts([
        ["Document", docTitle(doc)],
        ["Section", p.section],
        ["Page", p.page],
        ["Source of", sourceOf ? `footnote ${sourceOf[1]} of ${docTitle(notesDoc)}` : null],
      ]),
      text,
      note,
      h(
        "p",
        {},
        h(
          "button",
          {
            type: "button",
            class: "tool",
            onclick: () => showView(() => contextView(p, { turn, used, highlight })),
          },
          isSource ? "Open in source" : "Open in paper",
        ),
      ),
    ];
    const numbers = sourceOf ? [] : p.footnotes || [];
    if (numbers.length) {
      let refs = [];
      try {
        refs = await references(notesDoc);
      } catch {
        refs = [];
      }
      const byNumber = new Map(refs.map((r) => [r.number, r]));
      body.push(
        section(
          `Footnotes of this passage (${numbers.length})`,
          h(
            "div",
            { class: "chips" },
            numbers.map((n) => chip(turn, byNumber.get(n) || { number: n, text: `Footnote ${n}` }, { doc: notesDoc })),
          ),
        ),
      );
    }
    return { title: p.section || docTitle(doc), body };
  }

  function noteMarker(doc, n, turn) {
    return h(
      "button",
      {
        type: "button",
        class: "note-marker",
        "aria-label": `footnote ${n}`,
        title: `Footnote ${n}`,
        onclick: (ev) => openCitation(doc, n, turn, ev.currentTarget),
      },
      String(n),
    );
  }

  // The passage's paragraph among its neighbours, the answer's sentences marked and scrolled into view.
  async function contextView(p, { turn = null, used = new Set(), highlight = "" } = {}) {
    const ctx = await getJSON(`/passages/${encodeURIComponent(p.id)}/context`);
    const own = new Set((p.sentences || []).map((s) => s.id));
    const marked = used.size ? used : own; // a passage the answer did not use: mark the passage itself
    const doc = ctx.document || docOf(p);
    const notesDoc = ctx.footnote_document || notesDocOf(p);
    const isSource = (state.docsById.get(doc) || {}).kind === "source" || /^footnote:/.test(p.source || "");
    const out = [h("p", { class: "meta" }, `${docTitle(doc)}: the paragraphs around the passage.`)];
    let lastHeading = null;
    for (const para of ctx.paragraphs || []) {
      const heading = [para.section, para.page ? `p. ${para.page}` : ""].filter(Boolean).join(" · ");
      if (heading && heading !== lastHeading) out.push(h("h3", { class: "ctx-section" }, heading));
      lastHeading = heading;
      const el = h("p", { class: `ctx-para${para.current ? " current" : ""}` });
      const sentences = para.sentences && para.sentences.length ? para.sentences : [{ id: "", text: para.text }];
      for (const s of sentences) {
        add(el, [marked.has(s.id) ? h("mark", {}, s.text) : s.text]);
        if (!isSource) for (const n of s.footnotes || []) add(el, [noteMarker(notesDoc, n, turn)]);
        add(el, [" "]);
      }
      if (highlight && para.current) markText(el, highlight);
      out.push(el);
    }
    const body = h("div", { class: "context" }, out);
    return {
      title: isSource ? "In the source" : "In the paper",
      body,
      after: () => {
        // Scroll the panel (only the panel, not the page) so the marked sentence sits in its middle.
        const target = body.querySelector("mark") || body.querySelector(".current");
        const panel = $("panel");
        if (!target) return;
        const t = target.getBoundingClientRect();
        const p = panel.getBoundingClientRect();
        panel.scrollTop += t.top - p.top - Math.max(0, (panel.clientHeight - t.height) / 2);
      },
    };
  }

  // Wrap the first occurrence of `needle` (whitespace-insensitive) inside `root`'s text nodes in <mark>.
  function markText(root, needle) {
    const want = needle.replace(/\s+/g, " ").trim();
    if (!want) return false;
    for (const node of [...textNodes(root)]) {
      const flat = node.data.replace(/\s+/g, " ");
      const at = flat.indexOf(want);
      if (at < 0 || flat.length !== node.data.length) continue;
      const hit = node.splitText(at);
      hit.splitText(want.length);
      hit.replaceWith(h("mark", {}, hit.data));
      return true;
    }
    return false;
  }
  function* textNodes(root) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) yield walker.currentNode;
  }

  function openCitation(doc, n, turn, opener) {
    showView(() => citationView(doc, n, turn), opener, !$("panel").contains(opener));
  }

  const QUOTE_STATUS = { verbatim: "verbatim", approximate: "approximate", not_found: "not found" };
  const SOURCE_STATUS = {
    fetched: "fetched",
    not_fetched: "not fetched yet",
    not_online: "not online",
    failed: "fetch failed",
    same_source: "same source as another footnote",
  };

  // A footnote: the reference, the sentences that cite it, and its source's checks when present.
  async function citationView(doc, n, turn) {
    const c = await getJSON(citationPath(doc, n));
    const used = new Set(turn && turn.res && !turn.res.abstained ? (turn.res.citations || []).map((x) => x.sentence_id) : []);
    const body = [
      h("p", { class: "meta" }, docTitle(c.document || doc)),
      h("p", { class: "reference" }, linkified(c.text)),
      c.url ? h("p", {}, outLink(c.url, "Open the cited source ↗")) : null,
    ];
    const cited = c.cited_by || [];
    body.push(
      section(
        `Sentences citing it (${cited.length})`,
        cited.length
          ? h(
              "ul",
              { class: "citing" },
              cited.map((s) =>
                h(
                  "li",
                  { class: s.carries ? "carries" : "covered" },
                  h("span", { class: "badge" }, s.carries ? "carries the marker" : "covered by it"),
                  " ",
                  used.has(s.id) ? h("mark", {}, s.text) : h("span", {}, s.text),
                  s.section ? h("span", { class: "meta" }, ` · ${s.section}`) : null,
                ),
              ),
            )
          : h("p", { class: "meta" }, "No sentence of the body carries this footnote."),
        cited.some((s) => used.has(s.id)) ? h("p", { class: "meta" }, "Highlighted: what the answer uses.") : null,
      ),
    );
    body.push(sourceSection(c, turn));
    return { title: `Footnote ${c.number || n}`, body };
  }

  function sourceSection(c, turn) {
    const src = c.source;
    if (!src) return section("Source", h("p", { class: "meta" }, "No information about the cited source."));
    const status = SOURCE_STATUS[src.status] || src.status || "unknown";
    const out = [
      facts([
        ["Status", status],
        ["Why", src.status === "fetched" ? null : src.reason],
        ["Same as", src.same_as ? `footnote ${src.same_as}` : null],
        ["Fetched from", fetchedFrom(src)],
        ["Pages", src.pages || null],
        ["Fetched", src.fetched_at ? String(src.fetched_at).slice(0, 10) : null],
      ]),
      src.note ? h("p", { class: "meta" }, src.note) : null,
    ];
    const passages = src.passages || [];
    const quotes = src.quotes || [];
    if (quotes.length) {
      out.push(
        h("h4", {}, `Quotations checked against the source (${quotes.length})`),
        h(
          "ol",
          { class: "quotes" },
          quotes.map((q) =>
            h(
              "li",
              { class: `quote ${q.status}` },
              h("q", {}, q.quote),
              " ",
              h("span", { class: `badge ${q.status}` }, QUOTE_STATUS[q.status] || q.status),
              q.status === "approximate" && q.similarity ? h("span", { class: "meta" }, ` ${Math.round(q.similarity)}% alike`) : null,
              q.page ? h("span", { class: "meta" }, ` · p. ${q.page}`) : null,
              q.found ? h("blockquote", { class: "found" }, inContext(q.found, passages, q.page)) : null,
            ),
          ),
        ),
      );
    }
    if (passages.length) {
      const bySentence = new Map();
      for (const p of passages) {
        if (!bySentence.has(p.for_sentence)) bySentence.set(p.for_sentence, []);
        bySentence.get(p.for_sentence).push(p);
      }
      const text = new Map((c.cited_by || []).map((s) => [s.id, s.text]));
      out.push(
        h("h4", {}, "Supporting passages of the source"),
        [...bySentence].map(([sid, ps]) =>
          h(
            "div",
            { class: "support" },
            text.get(sid) ? h("p", { class: "meta" }, "For: ", h("q", {}, clip(text.get(sid), 160))) : null,
            h(
              "ol",
              {},
              ps.map((p) =>
                h(
                  "li",
                  {},
                  h(
                    "button",
                    {
                      type: "button",
                      class: "link",
                      onclick: () => showView(() => passageView(p.id, { turn })),
                    },
                    p.page ? `p. ${p.page}` : "passage",
                  ),
                  typeof p.score === "number" ? h("span", { class: "meta" }, ` · similarity ${p.score.toFixed(2)}`) : null,
                  h("p", { class: "snippet" }, clip(p.text, 320)),
                ),
              ),
            ),
          ),
        ),
      );
    }
    return section("The cited source", out);
  }

  // Where the source's text came from: the address fetched, or a file added by hand (its server path is not shown).
  function fetchedFrom(src) {
    if (src.status !== "fetched") return null;
    if (safeUrl(src.final_url)) return outLink(src.final_url);
    const byHand = "a file added by hand";
    return safeUrl(src.url) ? [outLink(src.url), ` (${byHand})`] : byHand;
  }

  // The source text a quotation matched, marked, inside the supporting passage that holds it when there is one.
  function inContext(found, passages, page) {
    const want = found.replace(/\s+/g, " ").trim();
    const holder = passages
      .map((p) => ({ p, flat: String(p.text || "").replace(/\s+/g, " ") }))
      .find(({ p, flat }) => flat.includes(want) && (!page || !p.page || p.page === page));
    if (!holder) return h("mark", {}, found);
    const at = holder.flat.indexOf(want);
    const before = holder.flat.slice(0, at);
    const after = holder.flat.slice(at + want.length);
    return [
      before.length > 160 ? "…" + before.slice(-160) : before,
      h("mark", {}, holder.flat.slice(at, at + want.length)),
      after.length > 160 ? after.slice(0, 160) + "…" : after,
    ];
  }

  // All footnotes of one document, each opening its citation.
  async function footnotesView(doc) {
    const refs = await references(doc);
    const many = papers().length > 1;
    const picker = many
      ? h(
          "p",
          {},
          h("label", { for: "notes-doc" }, "Document "),
          h(
            "select",
            {
              id: "notes-doc",
              onchange: (ev) => showView(() => footnotesView(ev.target.value), null, true),
            },
            papers().map((d) => h("option", { value: d.id, selected: d.id === doc }, d.title || d.id)),
          ),
        )
      : null;
    return {
      title: `Footnotes (${refs.length})`,
      body: [
        picker,
        h(
          "ol",
          { class: "all-notes" },
          refs.map((r) =>
            h(
              "li",
              {},
              h(
                "button",
                {
                  type: "button",
                  class: "link",
                  onclick: (ev) => showView(() => citationView(r.document || doc, r.number, null), ev.currentTarget),
                },
                `${r.number}. ${shortTitle(r)}`,
              ),
              h("p", { class: "snippet" }, r.text),
            ),
          ),
        ),
      ],
    };
  }

  // ------------------------------------------------------------------ documents and the filter

  async function loadDocuments() {
    try {
      const docs = await getJSON("/documents");
      state.docs = Array.isArray(docs) ? docs : [];
    } catch {
      state.docs = []; // an older server: one document, no filter
    }
    state.docsById = new Map(state.docs.map((d) => [d.id, d]));
    const primary = state.docs.find((d) => d.primary) || papers()[0];
    state.primary = primary ? primary.id : "";
    state.filter = state.filter.filter((id) => state.docsById.has(id));
    if (primary) {
      $("doc-title").textContent = papers().length > 1 ? "Questions about the documents" : primary.title || primary.id;
      $("doc-sub").textContent =
        papers().length > 1
          ? papers().map((d) => d.title || d.id).join(" · ")
          : [primary.subtitle, primary.author, primary.date].filter(Boolean).join(" · ");
      document.title = `${papers().length > 1 ? "Documents" : primary.title || primary.id} · qa-service`;
    }
    renderFilter();
  }

  function activeFilter() {
    const all = papers().map((d) => d.id);
    const chosen = state.filter.filter((id) => all.includes(id));
    return chosen.length && chosen.length < all.length ? chosen : [];
  }

  function renderFilter() {
    const list = papers();
    $("filter").hidden = list.length < 2;
    if (list.length < 2) {
      $("filter-docs").replaceChildren(); // a removed paper leaves no choice behind
      return;
    }
    const chosen = new Set(activeFilter());
    $("filter-docs").replaceChildren(
      ...list.map((d) =>
        h(
          "label",
          { class: "doc-choice", title: [d.title, d.subtitle, d.author].filter(Boolean).join(" · ") },
          h("input", {
            type: "checkbox",
            value: d.id,
            checked: !chosen.size || chosen.has(d.id),
            onchange: onFilterChange,
          }),
          " ",
          clip(d.title || d.id, 40),
        ),
      ),
    );
  }

  function onFilterChange() {
    const boxes = [...$("filter-docs").querySelectorAll("input[type=checkbox]")];
    const checked = boxes.filter((b) => b.checked).map((b) => b.value);
    state.filter = checked.length === boxes.length ? [] : checked;
    if (!checked.length) {
      state.filter = []; // nothing chosen reads as everything: say so by checking all again
      boxes.forEach((b) => (b.checked = true));
    }
    try {
      localStorage.setItem(FILTER_KEY, JSON.stringify(state.filter));
    } catch {
      // storage disabled: the filter holds for this visit
    }
  }

  // ------------------------------------------------------------------ papers: add, remove, fetch sources
  //
  // Each change is a job on the server (POST /documents, DELETE /documents/{id}, POST .../sources/fetch answer
  // 202 with its id); the page follows it through GET /jobs/{id}/events and shows its progress in #jobs,
  // outside the panel, so that closing the panel or reloading the page loses nothing (running jobs are
  // picked up again from GET /jobs). Once a job is done, the documents (and the filter) are read again.

  const JOB_VERB = { add: "Adding", remove: "Removing", fetch: "Fetching the sources of" };
  const JOB_PAST = { add: "Added", remove: "Removed", fetch: "Fetched the sources of" };
  const JOB_DONE = {
    add: "is published: ask about it.",
    remove: "is removed: answers no longer use it.",
    fetch: "has its sources fetched and published.",
  };
  const SOURCE_WORDS = { ok: "fetched", failed: "failed", skipped: "not fetched", pending: "waiting" };
  const jobs = new Map(); // id -> {job, steps: Map(stage -> line), el}
  let changes = { accepts: false, detail: "" };

  // The stages a job reached (job.steps: the server keeps them, so nothing is missed by a stream that skipped
  // a version or a page opened late), in words; the others (starting, parsing, writing) are not shown.
  function stepLine(step) {
    const p = step.progress || {};
    if (step.stage === "parsed") return "Parsed";
    if (step.stage === "embedding") return p.total ? `Embedded ${p.done} of ${p.total} texts` : "Nothing new to embed";
    if (step.stage === "published") return "Published";
    if (step.stage === "removing") return "Removed from the corpus";
    if (step.stage === "fetching") return `Sources: ${step.message}`;
    return null;
  }

  function trackJob(job) {
    let t = jobs.get(job.id);
    if (!t) {
      t = { job, el: null };
      jobs.set(job.id, t);
      follow(job.id);
    }
    updateJob(t, job);
  }

  function updateJob(t, job) {
    t.job = job;
    const el = renderJob(t);
    if (t.el && t.el.isConnected) t.el.replaceWith(el);
    else $("jobs").append(el);
    t.el = el;
  }

  function renderJob(t) {
    const job = t.job;
    const title = job.title || job.document;
    const finished = job.state === "done" || job.state === "failed";
    const p = job.progress || {};
    const steps = (job.steps || []).map(stepLine).filter(Boolean);
    const bar = finished
      ? null
      : h("progress", p.total ? { max: p.total, value: p.done, "aria-label": `${title}: progress` } : { "aria-label": `${title}: progress` });
    const status =
      job.state === "done"
        ? `“${title}” ${JOB_DONE[job.kind] || "is done."}`
        : job.state === "failed"
          ? `Failed: ${job.error || "the job failed"}`
          : job.state === "queued"
            ? "Waiting for the jobs before it…"
            : job.message || job.stage;
    return h(
      "div",
      { class: `job ${job.state}`, id: `job-${job.id}`, "data-kind": job.kind },
      h("p", { class: "job-title" }, `${(job.state === "done" ? JOB_PAST : JOB_VERB)[job.kind] || "Changing"} “${title}”`),
      bar,
      h("p", { class: "job-status", role: job.state === "failed" ? "alert" : null }, status),
      steps.length ? h("ol", { class: "job-steps" }, steps.map((x) => h("li", {}, x))) : null,
      job.sources && job.sources.length
        ? h(
            "ol",
            { class: "job-sources" },
            job.sources.map((x) =>
              h(
                "li",
                { class: `source ${x.status}` },
                `Footnote ${x.number}: ${SOURCE_WORDS[x.status] || x.status}`,
                x.status === "ok" ? ` (${[String(x.kind || "").toUpperCase(), x.pages ? plural(x.pages, "page", "pages") : ""].filter(Boolean).join(", ")})` : "",
                x.reason && x.status !== "ok" ? ` — ${x.reason}` : "",
              ),
            ),
          )
        : null,
      finished ? h("button", { type: "button", class: "tool", onclick: () => dismissJob(job.id) }, "Dismiss") : null,
    );
  }

  function dismissJob(id) {
    const t = jobs.get(id);
    if (t && t.el) t.el.remove();
    jobs.delete(id);
    $("question").focus();
  }

  // Follow a job's event stream to its end; if the stream breaks (the network, a restart), ask once where it is.
  async function follow(id) {
    let last = null;
    try {
      const r = await request(`/jobs/${encodeURIComponent(id)}/events`, { headers: { Accept: "text/event-stream" } });
      await readEvents(r, (ev) => {
        if (ev.event === "job" && ev.data && ev.data.id === id) {
          last = ev.data;
          updateJob(jobs.get(id), ev.data);
        }
      });
    } catch {
      last = null;
    }
    if (!last || (last.state !== "done" && last.state !== "failed")) {
      try {
        last = await getJSON(`/jobs/${encodeURIComponent(id)}`);
        updateJob(jobs.get(id), last);
      } catch (e) {
        const t = jobs.get(id);
        updateJob(t, { ...t.job, state: "failed", error: e instanceof ApiError ? e.message : String(e) });
        return;
      }
      if (last.state !== "done" && last.state !== "failed") return follow(id);
    }
    if (last.state === "done") {
      await loadDocuments();
      renderThread();
      refreshPapersView();
    }
  }

  async function loadJobs() {
    try {
      const list = await getJSON("/jobs");
      changes = { accepts: !!list.accepts_changes, detail: list.detail || "" };
      for (const job of list.jobs || []) if (job.state === "queued" || job.state === "running") trackJob(job);
    } catch {
      changes = { accepts: false, detail: "This server does not say whether it accepts papers." };
    }
  }

  // Send a change; on 202 follow its job. `what`: {kind, title} until the job says more.
  async function startJob(path, init, what, errorBox) {
    if (errorBox) errorBox.replaceChildren();
    try {
      const r = await request(path, init);
      const started = await r.json();
      trackJob({ id: started.job, document: started.document, state: "queued", stage: "queued", ...what });
      return true;
    } catch (e) {
      const msg = e instanceof ApiError ? e.message : `Something went wrong: ${e && e.message ? e.message : e}`;
      if (errorBox) errorBox.replaceChildren(h("p", { class: "error", role: "alert" }, msg));
      return false;
    }
  }

  async function uploadPaper(file, form, errorBox) {
    if (!file) return;
    const data = new FormData();
    data.append("file", file, file.name);
    for (const input of form.querySelectorAll("input[name]")) if (input.value.trim()) data.append(input.name, input.value.trim());
    if (await startJob("/documents", { method: "POST", body: data }, { kind: "add", title: file.name }, errorBox)) form.reset();
  }

  function addPaperSection() {
    if (!changes.accepts) {
      return section("Add a paper", h("p", { class: "meta" }, changes.detail || "This server does not accept papers."));
    }
    const errorBox = h("div", { class: "add-error" });
    const form = h(
      "form",
      { class: "add-form", onsubmit: (ev) => ev.preventDefault() },
      h(
        "details",
        {},
        h("summary", {}, "Id and title page (optional)"),
        [
          ["id", "Id"],
          ["title", "Title"],
          ["author", "Author"],
          ["date", "Date"],
        ].map(([name, label]) =>
          h("label", { class: "field" }, h("span", {}, label), h("input", { name, type: "text", autocomplete: "off" })),
        ),
      ),
    );
    const input = h("input", {
      type: "file",
      id: "paper-file",
      class: "visually-hidden",
      accept: ".pdf,.txt,.md,.markdown,.text",
      onchange: (ev) => uploadPaper(ev.target.files[0], form, errorBox).then(() => (ev.target.value = "")),
    });
    const zone = h(
      "div",
      {
        id: "dropzone",
        class: "dropzone",
        ondragover: (ev) => {
          ev.preventDefault();
          zone.classList.add("over");
        },
        ondragleave: () => zone.classList.remove("over"),
        ondrop: (ev) => {
          ev.preventDefault();
          zone.classList.remove("over");
          const files = ev.dataTransfer ? [...ev.dataTransfer.files] : [];
          if (files.length !== 1) {
            errorBox.replaceChildren(h("p", { class: "error", role: "alert" }, "Drop one file at a time."));
            return;
          }
          uploadPaper(files[0], form, errorBox);
        },
      },
      h("p", {}, "Drop a PDF, .txt or .md file here, or "),
      h("label", { class: "tool", for: "paper-file" }, "Choose a file…"),
      input,
    );
    return section(
      "Add a paper",
      form,
      zone,
      h("p", { class: "meta" }, "It is checked, stored and indexed; its progress shows above the conversation."),
      errorBox,
    );
  }

  function paperItem(d, errorBox) {
    const title = d.title || d.id;
    const actions = h("div", { class: "paper-actions" });
    const confirmRemove = () => {
      actions.replaceChildren(
        h(
          "div",
          { class: "confirm", role: "group", "aria-label": `Remove ${title}?` },
          h("p", {}, `Remove “${title}” and its fetched sources? A build without them is published.`),
          h("button", { type: "button", class: "tool danger", onclick: () => startJob(`/documents/${encodeURIComponent(d.id)}`, { method: "DELETE" }, { kind: "remove", title }, errorBox).then(() => actions.replaceChildren(...buttons())) }, "Remove it"),
          " ",
          h("button", { type: "button", class: "tool", onclick: () => actions.replaceChildren(...buttons()) }, "Keep it"),
        ),
      );
      actions.querySelector("button").focus();
    };
    const buttons = () =>
      changes.accepts
        ? [
            h("button", { type: "button", class: "tool", "aria-label": `Fetch the sources of ${title}`, onclick: () => startJob(`/documents/${encodeURIComponent(d.id)}/sources/fetch`, { method: "POST" }, { kind: "fetch", title }, errorBox) }, "Fetch its sources"),
            " ",
            h("button", { type: "button", class: "tool", "aria-label": `Remove ${title}`, onclick: confirmRemove }, "Remove…"),
          ]
        : [];
    actions.replaceChildren(...buttons());
    const sources = state.docs.filter((x) => x.kind === "source" && x.cites_document === d.id).length;
    return h(
      "li",
      { class: "paper", "data-id": d.id },
      h("p", { class: "paper-title" }, title),
      h(
        "p",
        { class: "meta" },
        [d.id, d.primary ? "primary" : "", plural(d.passages || 0, "passage", "passages"), plural(d.footnotes || 0, "footnote", "footnotes"), sources ? plural(sources, "fetched source", "fetched sources") : ""]
          .filter(Boolean)
          .join(" · "),
      ),
      actions,
    );
  }

  async function papersView() {
    await Promise.all([loadJobs(), loadDocuments()]);
    const errorBox = h("div", { class: "paper-error" });
    return {
      title: "Papers",
      body: [
        addPaperSection(),
        section(`Papers in the index (${papers().length})`, h("ul", { class: "paper-list" }, papers().map((d) => paperItem(d, errorBox))), errorBox),
      ],
    };
  }

  function refreshPapersView() {
    const top = panelStack[panelStack.length - 1];
    if (top === papersView && !$("panel").hidden) draw(papersView);
  }

  // ------------------------------------------------------------------ start

  function submit(ev) {
    if (ev) ev.preventDefault();
    const box = $("question");
    const q = box.value.trim();
    if (!q || state.busy) return;
    box.value = "";
    ask(q);
  }

  async function start() {
    load();
    renderThread();
    $("ask").addEventListener("submit", submit);
    $("question").addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        submit();
      }
    });
    $("new-btn").addEventListener("click", newConversation);
    $("footnotes-btn").addEventListener("click", (ev) =>
      showView(() => footnotesView(state.primary), ev.currentTarget, true),
    );
    $("papers-btn").addEventListener("click", (ev) => showView(papersView, ev.currentTarget, true));
    $("panel-close").addEventListener("click", closePanel);
    $("panel-back").addEventListener("click", back);
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && !$("panel").hidden) closePanel();
    });

    await loadDocuments();
    renderThread(); // document titles are known now
    loadJobs(); // jobs still running (a reload, another tab) are shown and followed again

    // ?q=... asks that question in a new conversation (the link under each question); ?cite=N[&doc=D] opens
    // footnote N. The parameters are then dropped so that a reload does not ask again.
    const params = new URLSearchParams(location.search);
    const q = (params.get("q") || "").trim();
    const cite = Number(params.get("cite"));
    if (q || cite) dropParams();
    if (cite >= 1) openCitation(params.get("doc") || state.primary, cite, null, null);
    if (q) {
      state.turns = [];
      renderThread();
      const docs = (params.get("documents") || "").split(",").filter((id) => state.docsById.has(id));
      if (docs.length) {
        state.filter = docs;
        renderFilter();
      }
      await ask(q);
    }
  }

  function dropParams() {
    try {
      window.history.replaceState(null, "", location.pathname);
    } catch {
      // not allowed (file:// and the like): harmless
    }
  }

  document.addEventListener("DOMContentLoaded", start);
})();
