/** The one confirmation dialog: destructive operations ask here before they run. */
import { h } from "./dom.js";

export class ConfirmDialog {
  readonly element: HTMLDialogElement;
  private readonly question = h("p", { "data-testid": "confirm-question" });
  private readonly yes = h("button", { type: "submit", value: "yes", class: "danger", "data-testid": "confirm-yes" });

  constructor() {
    this.element = h(
      "dialog",
      { "data-testid": "confirm-dialog" },
      h(
        "form",
        { method: "dialog" },
        this.question,
        h("div", { class: "bar" }, this.yes, h("button", { type: "submit", value: "no", "data-testid": "confirm-no" }, "Cancel")),
      ),
    );
  }

  /** Resolves true when the operator presses the action's button; false on Cancel or Escape. */
  ask(question: string, action: string): Promise<boolean> {
    this.question.textContent = question;
    this.yes.textContent = action;
    this.element.returnValue = "";
    this.element.showModal();
    return new Promise((resolve) => {
      this.element.addEventListener("close", () => resolve(this.element.returnValue === "yes"), { once: true });
    });
  }
}
