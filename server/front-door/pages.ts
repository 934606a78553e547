// The front door's HTML: small server-rendered pages without scripts (so the Content Security
// Policy can forbid them all). Every value is escaped here, in one place. Each form carries its
// CSRF token in a hidden field (front-door/router.ts checks it on every POST).

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (v: unknown) => String(v ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** Marks already-built HTML so html`` does not escape it again. */
class Safe {
  constructor(readonly value: string) {}
  toString() {
    return this.value;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Safe {
  let out = strings[0];
  values.forEach((v, i) => {
    const text = Array.isArray(v) ? v.map((x) => (x instanceof Safe ? x.value : escapeHtml(x))).join('') : v instanceof Safe ? v.value : escapeHtml(v);
    out += text + strings[i + 1];
  });
  return new Safe(out);
}

const STYLE = `body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;color:#1c2430}
main{max-width:28rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.1)}
main.wide{max-width:52rem}h1{font-size:1.4rem;margin-top:0}label{display:block;margin:1rem 0 .3rem;font-weight:600}
input[type=email],input[type=password],input[type=text],select{width:100%;box-sizing:border-box;padding:.6rem;border:1px solid #b8c0cc;border-radius:4px;font-size:1rem}
button{margin-top:1.2rem;padding:.6rem 1.2rem;font-size:1rem;border:0;border-radius:4px;background:#2553a0;color:#fff;cursor:pointer}
.error{background:#fdecea;color:#8a1c12;padding:.7rem;border-radius:4px}.note{background:#eef4fc;padding:.7rem;border-radius:4px}
.suggest{display:inline-block;margin-top:.3rem;font-family:monospace;background:#f0f0f0;padding:.2rem .4rem;word-break:break-all}
label.check{font-weight:normal;display:flex;gap:.5rem;align-items:flex-start}label.check input{margin-top:.2rem}table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem;border-bottom:1px solid #e3e6ea}th{white-space:nowrap}td{overflow-wrap:anywhere}
nav{margin-bottom:1rem}nav form{display:inline}nav button{margin:0;padding:.3rem .8rem;font-size:.9rem}`;

export function layout(title: string, body: Safe, opts: { wide?: boolean } = {}): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} · Provisio</title><style>${STYLE}</style></head>
<body><main${opts.wide ? ' class="wide"' : ''}>${body.value}</main></body></html>`;
}

const messageBox = (message?: string) => (message ? html`<p class="error" role="alert">${message}</p>` : html``);
const csrfField = (csrf: string) => html`<input type="hidden" name="_csrf" value="${csrf}">`;

export function loginEmailPage(csrf: string, message?: string, email = ''): string {
  return layout(
    'Sign in',
    html`<h1>Sign in</h1>${messageBox(message)}
<form method="post" action="/login">${csrfField(csrf)}
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="${email}" autofocus>
<button type="submit">Continue</button></form>
<p><a href="/forgot-password">Forgot your password?</a></p>`,
  );
}

export function loginPasswordPage(csrf: string, email: string, message?: string): string {
  return layout(
    'Sign in',
    html`<h1>Sign in</h1>${messageBox(message)}
<form method="post" action="/login/password">${csrfField(csrf)}
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="${email}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button></form>
<p><a href="/forgot-password">Forgot your password?</a> · <a href="/login">Use another email</a></p>`,
  );
}

const passwordFields = (suggestion: string, minLength: number) => html`
<label for="password">New password</label><input id="password" name="password" type="password" autocomplete="new-password" required minlength="${minLength}">
<p>At least ${minLength} characters; not a common password and not your email. A strong one we generated for you:<br><span class="suggest">${suggestion}</span></p>`;

export function activationPage(p: { csrf: string; token: string; email: string; suggestion: string; minLength: number; privacyUrl: string; privacyVersion: string; message?: string }): string {
  return layout(
    'Activate your account',
    html`<h1>Activate your account</h1>${messageBox(p.message)}
<p>You are activating the account <strong>${p.email}</strong>. Choose a password, accept the privacy policy, and you are in.</p>
<form method="post" action="/activate">${csrfField(p.csrf)}<input type="hidden" name="token" value="${p.token}">
${passwordFields(p.suggestion, p.minLength)}
<label class="check"><input type="checkbox" name="acceptPrivacy" value="yes" required> <span>I accept the <a href="${p.privacyUrl}">privacy policy</a> (version ${p.privacyVersion})</span></label>
<button type="submit">Activate</button></form>`,
  );
}

export function resetPage(p: { csrf: string; token: string; suggestion: string; minLength: number; message?: string }): string {
  return layout(
    'Choose a new password',
    html`<h1>Choose a new password</h1>${messageBox(p.message)}
<form method="post" action="/reset-password">${csrfField(p.csrf)}<input type="hidden" name="token" value="${p.token}">
${passwordFields(p.suggestion, p.minLength)}<button type="submit">Save the password</button></form>`,
  );
}

export function forgotPage(csrf: string, message?: string): string {
  return layout(
    'Forgot your password',
    html`<h1>Forgot your password</h1>${messageBox(message)}
<form method="post" action="/forgot-password">${csrfField(csrf)}
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required autofocus>
<button type="submit">Send me a reset link</button></form><p><a href="/login">Back to sign in</a></p>`,
  );
}

export function changePasswordPage(p: { csrf: string; forced: boolean; suggestion: string; minLength: number; message?: string }): string {
  return layout(
    'Change your password',
    html`<h1>Change your password</h1>${messageBox(p.message)}
${p.forced ? html`<p class="note">You signed in with a temporary password. Choose your own to continue.</p>` : html``}
<form method="post" action="/account/password">${csrfField(p.csrf)}
${p.forced ? html`` : html`<label for="current">Current password</label><input id="current" name="current" type="password" autocomplete="current-password" required>`}
${passwordFields(p.suggestion, p.minLength)}<button type="submit">Change the password</button></form>`,
  );
}

export function privacyPage(p: { csrf: string; url: string; version: string; message?: string }): string {
  return layout(
    'Privacy policy',
    html`<h1>Privacy policy</h1>${messageBox(p.message)}
<p>Before you continue, please read and accept the <a href="${p.url}">privacy policy</a> (version ${p.version}).</p>
<form method="post" action="/accept-privacy">${csrfField(p.csrf)}
<label class="check"><input type="checkbox" name="acceptPrivacy" value="yes" required> <span>I accept the privacy policy</span></label>
<button type="submit">Continue</button></form>`,
  );
}

export function messagePage(title: string, message: string, link?: { href: string; text: string }): string {
  return layout(title, html`<h1>${title}</h1><p>${message}</p>${link ? html`<p><a href="${link.href}">${link.text}</a></p>` : html``}`);
}

export interface AccountView {
  csrf: string;
  userName: string;
  displayName?: string;
  email?: string;
  tenantName: string;
  admin: boolean;
  language: string;
  services: string[];
  accounts: { id: string; name: string; current: boolean }[];
  message?: string;
}

const nav = (csrf: string, admin: boolean) => html`<nav>${admin ? html`<a href="/console">Console</a> · ` : html``}<a href="/account">Account</a> · <a href="/account/password">Password</a> · <a href="/account/identities">Organisation sign-in</a> ·
<form method="post" action="/logout">${csrfField(csrf)}<button type="submit">Sign out</button></form></nav>`;

export function accountPage(v: AccountView): string {
  const switcher = v.accounts.length > 1
    ? html`<h2>Accounts</h2><form method="post" action="/account/switch">${csrfField(v.csrf)}
<select name="accountId" aria-label="Account">${v.accounts.map((a) => html`<option value="${a.id}"${a.current ? html` selected` : html``}>${a.name}</option>`)}</select>
<button type="submit">Switch</button></form>`
    : html``;
  return layout(
    'Your account',
    html`${nav(v.csrf, v.admin)}<h1>Your account</h1>${v.message ? html`<p class="note">${v.message}</p>` : html``}
<table><tr><th>Name</th><td>${v.displayName ?? ''}</td></tr><tr><th>Sign-in email</th><td>${v.email ?? v.userName}</td></tr>
<tr><th>Organisation</th><td>${v.tenantName}</td></tr><tr><th>Language</th><td>${v.language}</td></tr></table>
<h2>Assigned services</h2>${v.services.length ? html`<ul>${v.services.map((s) => html`<li>${s}</li>`)}</ul>` : html`<p>None yet.</p>`}
${switcher}`,
    { wide: true },
  );
}

/** One SSO connection as the person's sign-in settings show it (front-door/identity-routes.ts). */
export interface IdentityView {
  connectionId: string;
  issuer: string;
  /** 'self': linked by the person; 'first-sign-in': linked automatically; undefined: not linked. */
  linkedBy?: 'self' | 'first-sign-in';
  /** The person's email domain is one of the connection's: linking is possible. */
  canLink: boolean;
}

export function identitiesPage(v: { csrf: string; admin: boolean; primaryAdmin: boolean; identities: IdentityView[]; message?: string }): string {
  const state = (i: IdentityView) =>
    i.linkedBy === 'self' ? 'Linked by you' : i.linkedBy === 'first-sign-in' ? (v.primaryAdmin ? 'Linked automatically: not used for you until you link it yourself' : 'Linked at your first sign-in') : 'Not linked';
  const rows = v.identities.map(
    (i) => html`<tr><td>${i.issuer}</td><td>${state(i)}</td><td>
${i.canLink && i.linkedBy !== 'self' ? html`<form method="post" action="/account/identities/${i.connectionId}/link">${csrfField(v.csrf)}<button type="submit">Link my account</button></form>` : html``}
${i.linkedBy ? html`<form method="post" action="/account/identities/${i.connectionId}/unlink">${csrfField(v.csrf)}<button type="submit">Unlink</button></form>` : html``}</td></tr>`,
  );
  return layout(
    'Organisation sign-in',
    html`${nav(v.csrf, v.admin)}<h1>Sign in with your organisation</h1>${v.message ? html`<p class="note">${v.message}</p>` : html``}
${v.primaryAdmin ? html`<p>As the primary admin, you are signed in through your organisation's identity provider only with an account you link here yourself. Your password keeps working.</p>` : html``}
${v.identities.length ? html`<table><tr><th>Identity provider</th><th>State</th><th></th></tr>${rows}</table>` : html`<p>Your organisation has no identity provider for your email address.</p>`}`,
    { wide: true },
  );
}
