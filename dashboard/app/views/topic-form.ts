/**
 * Create or update a topic (RocketMQ Dashboard's topic dialog, mqadmin updateTopic): read and
 * write queues per broker, permission, and the brokers that hold it. Opened empty from the
 * topic list's "New topic", or filled in from a row's "edit".
 */
import type { TopicConfig } from "../../../client/index.js";
import { Limits } from "../../../protocol/limits.js";
import type { DashboardContext } from "../context.js";
import { clearError, errorBox, h, onSubmit, showError } from "../dom.js";
import { byKey } from "../format.js";

const PERMS = [
  { value: 6, label: "read and write" },
  { value: 4, label: "read only" },
  { value: 2, label: "write only" },
] as const;

export class TopicForm {
  readonly element: HTMLFormElement;
  private readonly name = h("input", { "data-testid": "topic-form-name", placeholder: "topic", "aria-label": "topic", required: true });
  private readonly readQueues = queueInput("topic-form-read", "read queues per broker");
  private readonly writeQueues = queueInput("topic-form-write", "write queues per broker");
  private readonly perm = h(
    "select",
    { "data-testid": "topic-form-perm", "aria-label": "permission" },
    ...PERMS.map((p) => h("option", { value: p.value }, p.label)),
  );
  private readonly brokers = h("span", { class: "choices", "data-testid": "topic-form-brokers" });
  private readonly error = errorBox("topic-form-error");
  private readonly title = h("legend", null);

  constructor(
    private readonly ctx: DashboardContext,
    /** Called with the stored configuration after a save. */
    private readonly saved: (config: TopicConfig) => void,
  ) {
    this.element = h(
      "form",
      { "data-testid": "topic-form", hidden: true },
      h(
        "fieldset",
        null,
        this.title,
        this.name,
        h("label", null, "read ", this.readQueues),
        h("label", null, "write ", this.writeQueues),
        this.perm,
        h("span", { class: "muted" }, "brokers:"),
        this.brokers,
        h("button", { type: "submit", class: "primary", "data-testid": "topic-form-submit" }, "Save"),
        h("button", { type: "button", "data-testid": "topic-form-cancel", onclick: () => this.close() }, "Cancel"),
      ),
      this.error,
    );
    onSubmit(this.element, () => this.save());
  }

  /** Opens the form for a new topic, or to update `config`. */
  async open(config?: TopicConfig): Promise<void> {
    clearError(this.error);
    this.title.textContent = config ? `Update topic ${config.topic}` : "New topic";
    this.name.value = config?.topic ?? "";
    this.name.readOnly = config !== undefined;
    const first = config?.queues[0];
    this.readQueues.value = String(first?.readQueueNums ?? 4);
    this.writeQueues.value = String(first?.writeQueueNums ?? 4);
    this.perm.value = String((first?.perm ?? 6) & 6);
    this.element.dataset.mode = config ? "update" : "create";
    this.brokers.replaceChildren();
    this.element.hidden = false;
    (config ? this.readQueues : this.name).focus();
    let names: string[];
    try {
      names = (await this.ctx.admin.clusterInfo()).brokers
        .filter((b) => b.alive)
        .sort(byKey((b) => b.brokerName))
        .map((b) => b.brokerName);
    } catch (e) {
      showError(this.error, e);
      return;
    }
    const holding = new Set(config?.queues.map((q) => q.brokerName) ?? names);
    for (const broker of new Set([...names, ...holding])) {
      const box = h("input", { type: "checkbox", value: broker, "data-testid": "topic-form-broker", "data-broker": broker });
      box.checked = holding.has(broker);
      this.brokers.append(h("label", null, box, ` ${broker}`));
    }
    this.element.dataset.ready = "true";
  }

  close(): void {
    this.element.hidden = true;
    delete this.element.dataset.ready;
  }

  private async save(): Promise<void> {
    clearError(this.error);
    const topic = this.name.value.trim();
    const brokers = [...this.brokers.querySelectorAll("input")].filter((b) => b.checked).map((b) => b.value);
    if (!topic) return showError(this.error, "name the topic");
    if (brokers.length === 0) return showError(this.error, "choose at least one broker");
    try {
      const config = await this.ctx.admin.updateTopic(topic, {
        readQueueNums: Number(this.readQueues.value),
        writeQueueNums: Number(this.writeQueues.value),
        perm: PERMS.find((p) => String(p.value) === this.perm.value)?.value ?? 6,
        brokers,
      });
      this.close();
      this.saved(config);
    } catch (e) {
      showError(this.error, e);
    }
  }
}

function queueInput(testId: string, label: string): HTMLInputElement {
  return h("input", { type: "number", min: 1, max: Limits.maxQueueNums, required: true, class: "narrow", "data-testid": testId, "aria-label": label });
}
