// Signing into the console over supertest (test/support/browser.ts): the primary admin activated
// through the link in the mail the server kept (no SMTP sink needed), or anyone with a password.
import { Browser, browser, linkToken } from './browser';
import type { Harness, TestTenant } from './harness';
import { keptMail } from './web';

export const GOOD_PASSWORD = 'correct-horse-battery-staple-42';

/** Activates a pending person by their kept activation email; returns their signed-in browser. */
export async function activatedBrowser(h: Harness, email: string, password = GOOD_PASSWORD): Promise<Browser> {
  await h.deps.later.idle();
  const token = linkToken((await keptMail(h, email, 'activation')).text, '/activate');
  const b = browser(h.app);
  await b.get(`/activate?token=${token}`);
  const res = await b.post('/activate', { token, password, acceptPrivacy: 'yes' });
  if (res.status !== 303) throw new Error(`activation of ${email} failed: ${res.status} ${res.text.slice(0, 300)}`);
  return b;
}

/** The tenant's primary admin, activated and signed in. */
export const primaryAdmin = (h: Harness, t: TestTenant) => activatedBrowser(h, t.adminEmail);

/** A fresh browser signed in with a password (someone activated before). */
export async function signedIn(h: Harness, email: string, password = GOOD_PASSWORD): Promise<Browser> {
  const b = browser(h.app);
  const res = await b.signIn(email, password);
  if (res.status !== 303) throw new Error(`sign-in of ${email} failed: ${res.status} ${res.text.slice(0, 300)}`);
  return b;
}
