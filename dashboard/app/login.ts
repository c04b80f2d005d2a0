/**
 * The sign-in page's script (bundled and inlined into GET /dashboard/login): signs a request
 * to POST /auth/session with the client's own signer (WebCrypto; the secret never leaves the
 * page) and the server answers with the session cookie.
 *
 * The sign-in link npm start prints carries a key in the fragment. Anyone can make such a
 * link (with their own key), so it signs in by itself only when the browser has no session:
 * over a session of another account it asks first, and over one of the same account it just
 * opens the dashboard.
 */
import { Admin } from "../../client/admin.js";
import { isMQError } from "../../protocol/errors.js";

const DASHBOARD = "/dashboard";
const REQUEST_TIMEOUT_MS = 30_000;

/** An element of the sign-in page's markup (dashboard/login-page.ts), checked to be of its type. */
function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`the sign-in page has no ${type.name} #${id}`);
  return el;
}

const form = byId("login", HTMLFormElement);
const accessKey = byId("ak", HTMLInputElement);
const secretKey = byId("sk", HTMLInputElement);
const error = byId("err", HTMLSpanElement);

form.addEventListener("submit", (event) => {
  event.preventDefault();
  void signIn();
});

async function signIn(): Promise<void> {
  error.textContent = "";
  const admin = new Admin({
    endpoint: location.origin,
    credentials: { accessKey: accessKey.value, secretKey: secretKey.value },
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
  });
  try {
    await admin.createSession();
    location.replace(DASHBOARD);
  } catch (e) {
    error.textContent = isMQError(e) ? e.code : String(e);
  }
}

/** The account this browser's session cookie signs in as, or null. */
async function currentAccount(): Promise<string | null> {
  try {
    return (await new Admin({ endpoint: location.origin, credentials: null, requestTimeoutMs: REQUEST_TIMEOUT_MS }).session()).accessKey;
  } catch {
    return null;
  }
}

// The fragment never reaches the server: fill the form from it and forget it at once.
const fragment = new URLSearchParams(location.hash.slice(1));
const offered = fragment.get("ak");
const secret = fragment.get("sk");
history.replaceState(null, "", location.pathname + location.search);
if (offered && secret) {
  accessKey.value = offered;
  secretKey.value = secret;
  const current = await currentAccount();
  if (current === null) form.requestSubmit();
  else if (current === offered) location.replace(DASHBOARD);
  else {
    byId("current", HTMLElement).textContent = current;
    byId("current2", HTMLElement).textContent = current;
    byId("offered", HTMLElement).textContent = offered;
    byId("offered2", HTMLElement).textContent = offered;
    byId("switch", HTMLDivElement).hidden = false;
    byId("switch-yes", HTMLButtonElement).addEventListener("click", () => {
      byId("switch", HTMLDivElement).hidden = true;
      form.requestSubmit();
    });
    byId("switch-no", HTMLButtonElement).addEventListener("click", () => {
      accessKey.value = "";
      secretKey.value = "";
      location.replace(DASHBOARD);
    });
  }
}
document.body.dataset.ready = "true";
