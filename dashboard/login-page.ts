/**
 * The dashboard's sign-in page: the only page served without credentials. Its markup is here;
 * its script is dashboard/app/login.ts, bundled (dashboard/generated/scripts.js) and inlined
 * with the response's CSP nonce, since the page cannot load a script that needs a session.
 */
import { loginScript } from "./generated/scripts.js";

/** The bundle as the body of an inline <script>: a `</script` inside it would end the element. */
const inlineLoginScript = loginScript.replace(/<\/(script)/gi, "<\\/$1");

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
<script type="module" nonce="${nonce}">${inlineLoginScript}</script></body></html>`;
}
