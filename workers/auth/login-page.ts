/**
 * The dashboard's sign-in page: the only page served without credentials. It signs a request
 * to POST /auth/session in the browser (WebCrypto, the same scheme as the client), so the
 * secret never leaves the page, and the server answers with a session cookie.
 */
export function loginPage(): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>flaremq sign in</title>
<style>body{font:14px system-ui,sans-serif;margin:4em auto;max-width:28em}label{display:block;margin:.8em 0}input{width:100%;padding:.4em}</style></head>
<body><h1>flaremq</h1>
<form id="login"><label>Access key <input id="ak" data-testid="access-key" autocomplete="username" required></label>
<label>Secret key <input id="sk" data-testid="secret-key" type="password" autocomplete="current-password" required></label>
<button type="submit" data-testid="sign-in">Sign in</button> <span id="err" data-testid="login-error"></span></form>
<script type="module">
const enc = new TextEncoder();
const b64u = (b) => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
const unb64u = (t) => Uint8Array.from(atob(t.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((t.length + 3) % 4)), (c) => c.charCodeAt(0));
const hmac = async (key, msg) => crypto.subtle.sign("HMAC", await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]), enc.encode(msg));
const hex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
const form = document.getElementById("login");
form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const ak = document.getElementById("ak").value, sk = document.getElementById("sk").value;
  const signingKey = b64u(await hmac(enc.encode(sk), "flaremq-v1"));
  const date = String(Date.now()), nonce = b64u(crypto.getRandomValues(new Uint8Array(12)));
  const sha = hex(await crypto.subtle.digest("SHA-256", new Uint8Array()));
  const canonical = ["POST", "/auth/session", "", sha, date, nonce].join("\\n");
  const signature = b64u(await hmac(unb64u(signingKey), canonical));
  const res = await fetch("/auth/session", { method: "POST", headers: { "x-mq-access-key": ak, "x-mq-date": date, "x-mq-nonce": nonce, "x-mq-content-sha256": sha, "x-mq-signature": signature } });
  if (res.ok) location.replace("/dashboard");
  else document.getElementById("err").textContent = (await res.json()).code;
});
// npm start prints a sign-in link carrying the dev key in the fragment, which never reaches the
// server: fill the form from it, forget it, and sign in.
const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.get("ak") && fragment.get("sk")) {
  document.getElementById("ak").value = fragment.get("ak");
  document.getElementById("sk").value = fragment.get("sk");
  history.replaceState(null, "", location.pathname);
  form.requestSubmit();
}
</script></body></html>`;
}
