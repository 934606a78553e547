// The front door's HTML escapes every value in one place (front-door/pages.ts).
import { accountPage, escapeHtml, html, loginEmailPage, messagePage } from '../../server/front-door/pages';

describe('escaping', () => {
  it.each([
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['"><img src=x onerror=1>', '&quot;&gt;&lt;img src=x onerror=1&gt;'],
    ["O'Brien & Co", 'O&#39;Brien &amp; Co'],
    [undefined, ''],
  ])('escapeHtml(%j)', (input, out) => {
    expect(escapeHtml(input)).toBe(out);
  });

  it('html`` escapes values, lists, but not nested html``', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p>${inner}${['<a>', html`<br>`]}</p>`.value).toBe('<p><b>&lt;i&gt;</b>&lt;a&gt;<br></p>');
  });

  it('pages never echo input unescaped', () => {
    const evil = '"><script>x</script>';
    for (const page of [
      loginEmailPage('tok', evil, evil),
      messagePage(evil, evil, { href: evil, text: evil }),
      accountPage({ csrf: evil, userName: evil, displayName: evil, tenantName: evil, admin: true, language: evil, services: [evil], accounts: [{ id: evil, name: evil, current: true }, { id: 'b', name: 'b', current: false }] }),
    ]) {
      expect(page).not.toContain('<script>');
      expect(page).toContain('&lt;script&gt;');
    }
  });

  it('every form carries the CSRF field', () => {
    expect(loginEmailPage('the-token')).toContain('<input type="hidden" name="_csrf" value="the-token">');
  });
});
