/**
 * The dashboard's sign-in page: the only page served without credentials. It signs a request
 * to POST /auth/session in the browser (WebCrypto, the same scheme as the client), so the
 * secret never leaves the page, and the server answers with a session cookie.
 *
 * The sign-in link npm start prints carries a key in the fragment. Anyone can make such a
 * link (with their own key), so it signs in by itself only when the browser has no session:
 * over a session of another account it asks first, and over one of the same account it just
 * opens the dashboard.
 */
export function loginPage(nonce: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>flaremq sign in</title>
<style nonce="${nonce}">body{font:14px system-ui,sans-serif;margin:4em auto;max-width:28em}label{display:block;margin:.8em 0}input{width:100%;padding:.4em}#switch{border:1px solid #c90;padding:.8em;margin:1em 0}#switch[hidden]{display:none}</style></head>
<body><h1>flaremq</h1>
<div id="switch" data-testid="switch-session" hidden><p>This browser is signed in as <b id="current" data-testid="current-account"></b>.
The link signs in as <b id="offered" data-testid="offered-account"></b> instead.</p>
<button type="button" id="switch-yes" data-testid="switch-session-confirm">Sign in as <span id="offered2"></span></button>
<button type="button" id="switch-no" data-testid="switch-session-keep">Stay signed in as <span id="current2"></span></button></div>
<form id="login"><label>Access key <input id="ak" data-testid="access-key" autocomplete="username" required></label>
<label>Secret key <input id="sk" data-testid="secret-key" type="password" autocomplete="current-password" required></label>
<button type="submit" data-testid="sign-in">Sign in</button> <span id="err" data-testid="login-error"></span></form>
<script type="module" nonce="${nonce}">
const enc = new TextEncoder();
const $ = (id) => document.getElementById(id);
const b64u = (b) => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
const unb64u = (t) => Uint8Array.from(atob(t.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((t.length + 3) % 4)), (c) => c.charCodeAt(0));
const hmac = async (key, msg) => crypto.subtle.sign("HMAC", await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]), enc.encode(msg));
const hex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
const form = $("login");
form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const ak = $("ak").value, sk = $("sk").value;
  const signingKey = b64u(await hmac(enc.encode(sk), "flaremq-v1"));
  const date = String(Date.now()), nonce = b64u(crypto.getRandomValues(new Uint8Array(12)));
  const sha = hex(await crypto.subtle.digest("SHA-256", new Uint8Array()));
  const canonical = ["POST", "/auth/session", "", sha, date, nonce].join("\\n");
  const signature = b64u(await hmac(unb64u(signingKey), canonical));
  const res = await fetch("/auth/session", { method: "POST", headers: { "x-mq-access-key": ak, "x-mq-date": date, "x-mq-nonce": nonce, "x-mq-content-sha256": sha, "x-mq-signature": signature } });
  if (res.ok) location.replace("/dashboard");
  else $("err").textContent = (await res.json()).code;
});
/** The account this browser's session cookie signs in as, or null. */
async function currentAccount() {
  try {
    const res = await fetch("/auth/session");
    const body = res.ok ? await res.json() : null;
    return body && typeof body.accessKey === "string" ? body.accessKey : null;
  } catch {
    return null;
  }
}
// The fragment never reaches the server: fill the form from it and forget it at once.
const fragment = new URLSearchParams(location.hash.slice(1));
const offered = fragment.get("ak"), secret = fragment.get("sk");
history.replaceState(null, "", location.pathname + location.search);
if (offered && secret) {
  $("ak").value = offered;
  $("sk").value = secret;
  const current = await currentAccount();
  if (current === null) form.requestSubmit();
  else if (current === offered) location.replace("/dashboard");
  else {
    $("current").textContent = $("current2").textContent = current;
    $("offered").textContent = $("offered2").textContent = offered;
    $("switch").hidden = false;
    $("switch-yes").addEventListener("click", () => { $("switch").hidden = true; form.requestSubmit(); });
    $("switch-no").addEventListener("click", () => { $("ak").value = ""; $("sk").value = ""; location.replace("/dashboard"); });
  }
}
document.body.dataset.ready = "true";
</script></body></html>`;
}
