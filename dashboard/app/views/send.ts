/**
 * Send a test message: round-robin over the topic's writable queues (each send to one queue,
 * through the project's Producer), with a history of what was sent and a link to look it up.
 * A topic that does not exist is an error here, never auto-created.
 */
import type { Message, SendResult } from "../../../client/index.js";
import { MQError } from "../../../protocol/errors.js";
import type { DashboardContext, View } from "../context.js";
import { clearError, errorBox, h, onSubmit, showError } from "../dom.js";
import { queueLabel, RoundRobin, routeQueues } from "../queues.js";

export class SendView implements View {
  readonly name = "send";
  readonly label = "Send";
  readonly section: HTMLElement;
  private readonly topic = h("input", { "data-testid": "send-topic", list: "topic-list", placeholder: "topic", "aria-label": "topic", required: true });
  private readonly tags = h("input", { "data-testid": "send-tags", placeholder: "tags (optional)", "aria-label": "tags" });
  private readonly keys = h("input", { "data-testid": "send-keys", placeholder: "keys, space separated (optional)", "aria-label": "keys", size: 30 });
  private readonly body = h("textarea", { "data-testid": "send-body", placeholder: "message body (UTF-8 text)", "aria-label": "body" });
  private readonly submit = h("button", { type: "submit", class: "primary", "data-testid": "send-submit" }, "Send");
  private readonly error = errorBox("send-error");
  private readonly result = h("dl", { class: "kv", "data-testid": "send-result", hidden: true });
  private readonly history = h("ol", { "data-testid": "send-history", reversed: true });
  private readonly roundRobin = new RoundRobin();

  constructor(private readonly ctx: DashboardContext) {
    const form = h("form", { "data-testid": "send-form" }, this.topic, this.tags, this.keys, this.body, this.submit);
    onSubmit(form, () => this.send());
    this.section = h(
      "section",
      { "data-view": this.name, "data-testid": "view-send" },
      form,
      h("div", { class: "muted" }, "Queues are chosen round-robin over the topic's writable queues."),
      this.error,
      this.result,
      this.history,
    );
  }

  prefillTopic(topic: string): void {
    this.topic.value = topic;
  }

  private async send(): Promise<void> {
    clearError(this.error);
    const topic = this.topic.value.trim();
    const body = this.body.value;
    if (!topic) return showError(this.error, "name a topic");
    if (!body) return showError(this.error, "the body may not be empty");
    this.submit.disabled = true;
    try {
      const queues = routeQueues(topic, await this.ctx.admin.topicRoute(topic), "write");
      const mq = this.roundRobin.pick(topic, queues);
      if (!mq) throw new MQError("TOPIC_NOT_EXIST", `topic "${topic}" has no writable queues`);
      const message: Message = { topic, body };
      const tags = this.tags.value.trim();
      if (tags) message.tags = tags;
      const keys = this.keys.value.split(/[\s,]+/).filter(Boolean);
      if (keys.length) message.keys = keys;
      this.show(await this.ctx.producer.send(message, { messageQueue: mq }));
    } catch (e) {
      showError(this.error, e);
    } finally {
      this.submit.disabled = false;
    }
  }

  private show(r: SendResult): void {
    const queue = queueLabel(r.messageQueue);
    const row = (name: string, value: string) => [h("dt", null, name), h("dd", { class: "mono", "data-col": name }, value)];
    this.result.replaceChildren(
      ...row("sendStatus", r.sendStatus),
      ...row("msgId", r.msgId),
      ...row("offsetMsgId", r.offsetMsgId),
      ...row("queue", `${r.messageQueue.topic} / ${queue}`),
      ...row("queueOffset", String(r.queueOffset)),
    );
    this.result.dataset.offsetMsgId = r.offsetMsgId;
    this.result.hidden = false;
    this.history.prepend(
      h(
        "li",
        { "data-testid": "send-history-item", "data-queue": queue, "data-offset-msg-id": r.offsetMsgId },
        h("span", { class: "ok" }, r.sendStatus),
        ` ${r.messageQueue.topic} ${queue} @${r.queueOffset} `,
        h("button", { class: "link", type: "button", onclick: () => this.ctx.go.findByOffsetMsgId(r.offsetMsgId) }, "view"),
      ),
    );
  }
}
