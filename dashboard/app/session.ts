/**
 * The header's account and sign-out: shows which account the session cookie signs in as, and
 * signs out (the server clears the cookie) back to the sign-in page. Hidden on a local server
 * without accounts, which has no sessions.
 */
import type { Admin } from "../../client/index.js";
import { h } from "./dom.js";
import { errorText } from "./format.js";

export const SIGN_IN_PAGE = "/dashboard/login";

export class SessionControl {
  readonly element: HTMLSpanElement;
  private readonly account = h("span", { "data-testid": "session-account" });
  private readonly signOut = h("button", { type: "button", "data-testid": "sign-out" }, "Sign out");
  private readonly error = h("span", { class: "row-error", "data-testid": "sign-out-error" });

  constructor(private readonly admin: Admin) {
    this.element = h("span", { class: "session", "data-testid": "session", hidden: true }, "signed in as ", this.account, " ", this.signOut, " ", this.error);
    this.signOut.addEventListener("click", () => void this.leave());
  }

  async load(): Promise<void> {
    try {
      const { accessKey } = await this.admin.session();
      this.account.textContent = accessKey;
      this.element.hidden = false;
      this.element.dataset.state = "signed-in";
    } catch {
      this.element.hidden = true; // no accounts, no session
      this.element.dataset.state = "none";
    }
  }

  private async leave(): Promise<void> {
    this.signOut.disabled = true;
    this.error.textContent = "";
    try {
      await this.admin.deleteSession();
      location.replace(SIGN_IN_PAGE);
    } catch (e) {
      this.signOut.disabled = false;
      this.error.textContent = errorText(e);
    }
  }
}
