/**
 * Transactions: a topic's half messages in one state, from all its queues (a few at a time,
 * rows added as each queue answers), optionally of one producer group.
 */
import type { MessageQueue } from "../../../client/index.js";
import type { HalfMessageInfo } from "../../../client/admin.js";
import type { HalfState } from "../../../protocol/transaction.js";
import type { DashboardContext, View } from "../context.js";
import { clearError, errorBox, h, onSubmit, showError, table } from "../dom.js";
import { errorText, fmtTime, plural } from "../format.js";
import { forEachLimited, VIEW_CONCURRENCY } from "../pool.js";
import { queueLabel, routeQueues } from "../queues.js";

const STATES: readonly HalfState[] = ["PENDING", "COMMITTED", "ROLLED_BACK", "GIVEN_UP"];

export class TransactionsView implements View {
  readonly name = "transactions";
  readonly label = "Transactions";
  readonly section: HTMLElement;
  private readonly topic = h("input", { "data-testid": "tx-topic", list: "topic-list", placeholder: "topic", "aria-label": "topic", required: true });
  private readonly state = h("select", { "data-testid": "tx-state", "aria-label": "state" }, ...STATES.map((s) => h("option", null, s)));
  private readonly group = h("input", { "data-testid": "tx-group", placeholder: "producer group (optional)", "aria-label": "producer group" });
  private readonly form: HTMLFormElement;
  private readonly error = errorBox("tx-error");
  private readonly summary = h("div", { class: "summary muted", "data-testid": "tx-summary" });
  private readonly body = h("tbody");
  private seq = 0;

  constructor(private readonly ctx: DashboardContext) {
    this.form = h(
      "form",
      { "data-testid": "tx-form" },
      this.topic,
      this.state,
      this.group,
      h("button", { type: "submit", class: "primary", "data-testid": "tx-load" }, "Load"),
    );
    onSubmit(this.form, () => this.load());
    const headers = ["Transaction id", "Producer group", "Queue", "State", "Born", "Checks", "Next check"];
    this.section = h(
      "section",
      { "data-view": this.name, "data-testid": "view-transactions" },
      this.form,
      this.error,
      this.summary,
      table("tx-table", headers, this.body, ["Checks"]),
    );
  }

  /** Lists a topic's pending transactions (of one producer group, when given). */
  open(topic: string, producerGroup = ""): void {
    this.topic.value = topic;
    this.group.value = producerGroup;
    this.state.value = "PENDING";
    if (topic) void this.load();
    else this.topic.focus();
  }

  private async load(): Promise<void> {
    const seq = ++this.seq;
    clearError(this.error);
    const topic = this.topic.value.trim();
    const producerGroup = this.group.value.trim();
    const state = STATES.find((s) => s === this.state.value) ?? "PENDING";
    if (!topic) return showError(this.error, "name a topic");
    this.body.replaceChildren();
    delete this.summary.dataset.done;
    this.summary.textContent = "loading…";
    let queues: MessageQueue[];
    try {
      queues = routeQueues(topic, await this.ctx.admin.topicRoute(topic), "read");
    } catch (e) {
      if (seq === this.seq) {
        this.summary.textContent = "";
        showError(this.error, e);
      }
      return;
    }
    let answered = 0;
    let found = 0;
    const failures: string[] = [];
    const words = state.toLowerCase().replace("_", " ");
    const summarize = () => {
      const of = producerGroup ? ` of ${producerGroup}` : "";
      this.summary.textContent = `${plural(found, `${words} transaction`)}${of} · ${answered}/${queues.length} queues answered`;
    };
    summarize();
    await forEachLimited(queues, VIEW_CONCURRENCY, async (mq) => {
      let transactions: HalfMessageInfo[] = [];
      try {
        transactions = await this.ctx.admin.queueTransactions(mq, state, { limit: 1000 });
      } catch (e) {
        failures.push(`${queueLabel(mq)}: ${errorText(e)}`);
      }
      if (seq !== this.seq) return;
      answered++;
      for (const t of transactions) {
        if (producerGroup && t.producerGroup !== producerGroup) continue;
        found++;
        this.body.append(
          h(
            "tr",
            { "data-testid": "tx-row", "data-transaction-id": t.transactionId },
            h("td", { class: "mono" }, t.transactionId),
            h("td", { class: "mono" }, t.producerGroup),
            h("td", null, queueLabel(mq)),
            h("td", null, t.state),
            h("td", null, fmtTime(t.bornTimestamp)),
            h("td", { class: "num" }, String(t.checkTimes)),
            h("td", null, t.nextCheckAt ? fmtTime(t.nextCheckAt) : "—"),
          ),
        );
      }
      summarize();
      if (failures.length) showError(this.error, `${plural(failures.length, "queue")} failed:\n${failures.slice(0, 5).join("\n")}`);
    });
    if (seq === this.seq) this.summary.dataset.done = "true";
  }
}
