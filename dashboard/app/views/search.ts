/**
 * Message search: by offsetMsgId, by topic and msgId, or by topic and key within a store-time
 * range; a found message shows in full (properties and body).
 */
import type { MessageExt } from "../../../client/index.js";
import type { DashboardContext, View } from "../context.js";
import { clearError, errorBox, h, noteRow, onSubmit, showError, table } from "../dom.js";
import { bodyPreview, decodeBody, fmtTime, localTimeMs, plural } from "../format.js";
import { queueLabel } from "../queues.js";

export class SearchView implements View {
  readonly name = "search";
  readonly label = "Message search";
  readonly section: HTMLElement;
  private readonly offsetId = h("input", {
    "data-testid": "search-offset-id",
    placeholder: "offsetMsgId",
    "aria-label": "offsetMsgId",
    size: 40,
    required: true,
  });
  private readonly offsetForm: HTMLFormElement;
  private readonly msgIdTopic = h("input", {
    "data-testid": "search-msgid-topic",
    list: "topic-list",
    placeholder: "topic",
    "aria-label": "topic",
    required: true,
  });
  private readonly msgId = h("input", { "data-testid": "search-msgid-id", placeholder: "msgId", "aria-label": "msgId", size: 36, required: true });
  private readonly keyTopic = h("input", {
    "data-testid": "search-key-topic",
    list: "topic-list",
    placeholder: "topic",
    "aria-label": "topic",
    required: true,
  });
  private readonly key = h("input", { "data-testid": "search-key", placeholder: "key", "aria-label": "key", required: true });
  private readonly keyBegin = h("input", { "data-testid": "search-key-begin", type: "datetime-local", step: 1 });
  private readonly keyEnd = h("input", { "data-testid": "search-key-end", type: "datetime-local", step: 1 });
  private readonly keyMax = h("input", { "data-testid": "search-key-max", type: "number", min: 1, max: 1000, value: 32, class: "narrow" });
  private readonly error = errorBox("search-error");
  private readonly summary = h("div", { class: "summary muted", "data-testid": "search-summary" });
  private readonly body = h("tbody");
  private readonly detail = h("pre", { "data-testid": "message-detail", hidden: true });
  private seq = 0;

  constructor(private readonly ctx: DashboardContext) {
    const find = (testId: string) => h("button", { type: "submit", class: "primary", "data-testid": testId }, "Find");
    this.offsetForm = h(
      "form",
      { "data-testid": "search-offset-form" },
      h("fieldset", null, h("legend", null, "by offsetMsgId"), this.offsetId, find("search-offset-submit")),
    );
    const msgIdForm = h(
      "form",
      { "data-testid": "search-msgid-form" },
      h("fieldset", null, h("legend", null, "by topic and msgId"), this.msgIdTopic, this.msgId, find("search-msgid-submit")),
    );
    const keyForm = h(
      "form",
      { "data-testid": "search-key-form" },
      h(
        "fieldset",
        null,
        h("legend", null, "by topic and key"),
        this.keyTopic,
        this.key,
        h("label", null, "from ", this.keyBegin),
        h("label", null, "to ", this.keyEnd),
        h("label", null, "max ", this.keyMax),
        find("search-key-submit"),
      ),
    );
    const admin = ctx.admin;
    onSubmit(this.offsetForm, () => this.run("by offsetMsgId", async () => [await admin.viewMessage(this.offsetId.value.trim())]));
    onSubmit(msgIdForm, () => this.run("by msgId", async () => [await admin.viewMessageById(this.msgIdTopic.value.trim(), this.msgId.value.trim())]));
    onSubmit(keyForm, () => {
      const range: { beginMs?: number; endMs?: number; maxNum: number } = { maxNum: Math.max(1, Number(this.keyMax.value) || 32) };
      const begin = localTimeMs(this.keyBegin.value);
      const end = localTimeMs(this.keyEnd.value);
      if (begin !== null) range.beginMs = begin;
      if (end !== null) range.endMs = end;
      return this.run("by key", () => admin.queryMessage(this.keyTopic.value.trim(), this.key.value.trim(), range));
    });
    const headers = ["Topic", "Queue", "Offset", "msgId", "offsetMsgId", "Tags", "Keys", "Stored", "Body"];
    this.section = h(
      "section",
      { "data-view": this.name, "data-testid": "view-search" },
      this.offsetForm,
      msgIdForm,
      keyForm,
      this.error,
      this.summary,
      table("search-table", headers, this.body, ["Offset"]),
      this.detail,
    );
  }

  /** Fills the key search's topic (and the msgId search's), as the topic list's "search" does. */
  prefillTopic(topic: string): void {
    this.keyTopic.value = topic;
    this.msgIdTopic.value = topic;
  }

  /** Looks a message up by offsetMsgId, as the Send view's "view" does. */
  findByOffsetMsgId(offsetMsgId: string): void {
    this.offsetId.value = offsetMsgId;
    this.offsetForm.requestSubmit();
  }

  private async run(kind: string, request: () => Promise<MessageExt[]>): Promise<void> {
    const seq = ++this.seq;
    clearError(this.error);
    this.summary.textContent = "searching…";
    this.detail.hidden = true;
    let messages: MessageExt[];
    try {
      messages = await request();
    } catch (e) {
      if (seq !== this.seq) return;
      this.summary.textContent = "";
      this.body.replaceChildren();
      return showError(this.error, e);
    }
    if (seq !== this.seq) return;
    this.summary.textContent = `${plural(messages.length, "message")} (${kind})`;
    const rows = messages.map((m) =>
      h(
        "tr",
        { "data-testid": "search-row", "data-offset-msg-id": m.offsetMsgId, "data-msg-id": m.msgId, class: "clickable", onclick: () => this.show(m) },
        h("td", { class: "mono" }, m.topic),
        h("td", null, queueLabel(m)),
        h("td", { class: "num" }, String(m.queueOffset)),
        h("td", { class: "mono" }, m.msgId),
        h("td", { class: "mono" }, m.offsetMsgId),
        h("td", null, m.tags),
        h("td", { class: "mono" }, m.keys.join(" ")),
        h("td", null, fmtTime(m.storeTimestamp)),
        h("td", { "data-col": "body" }, bodyPreview(m.body, 120)),
      ),
    );
    this.body.replaceChildren(...(rows.length ? rows : [noteRow(9, "nothing found")]));
    if (messages.length === 1) this.show(messages[0]!);
  }

  private show(m: MessageExt): void {
    const d = decodeBody(m.body);
    const { body: _body, ...meta } = m;
    this.detail.textContent =
      `${JSON.stringify(meta, null, 2)}\n\nbody (${d.size} bytes${d.text === null ? ", not UTF-8; base64" : ", UTF-8"}):\n` +
      (d.text === null ? d.base64 : d.text);
    this.detail.hidden = false;
  }
}
