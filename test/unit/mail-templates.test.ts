// The email templates (server/mail/templates.ts): every template in both languages, escaping,
// required parameters, dates in the reader's language.
import { LANGUAGES, markUserText, render, TEMPLATE_NAMES, TEMPLATE_PARAMS, TemplateName, Language, USER_TEXT_PARAMS } from '../../server/mail/templates';

const SAMPLE: Record<string, string> = {
  tenantName: 'Acme',
  link: 'https://provisio.test/activate?token=abc123',
  loginUrl: 'https://provisio.test/login',
  expiresAt: '2025-03-04T17:05:00Z',
  userName: 'ada@acme.test',
  password: 'Xy7-secret-Pw',
  at: '2025-03-04T17:05:00Z',
  newEmail: 'ada.new@acme.test',
  issuer: 'https://idp.acme.test',
};

/** Dates are formatted for the reader, so they never appear as sent. */
const DATES = new Set(['expiresAt', 'at']);

const paramsOf = (t: TemplateName, over: Record<string, string> = {}) =>
  Object.fromEntries(TEMPLATE_PARAMS[t].map((n) => [n, over[n] ?? SAMPLE[n]]));

const cases = TEMPLATE_NAMES.flatMap((t) => LANGUAGES.map((l) => [t, l] as [TemplateName, Language]));

describe.each(cases)('%s in %s', (template, language) => {
  it('renders a subject, a text and an HTML part carrying every parameter', () => {
    const mail = render(template, language, paramsOf(template));
    expect(mail.subject).toContain('Acme');
    expect(mail.subject).not.toMatch(/[\r\n]/);
    for (const name of TEMPLATE_PARAMS[template]) {
      if (DATES.has(name)) continue;
      expect(mail.text).toContain(SAMPLE[name]);
      expect(mail.html).toContain(SAMPLE[name]);
    }
    expect(mail.html).toMatch(/^<!DOCTYPE html>/);
    expect(mail.html).toContain(`lang="${language}"`);
    expect(mail.text).not.toMatch(/undefined|null|\$\{/);
    expect(mail.html).not.toMatch(/undefined|null|\$\{/);
    // Security notices carry no link at all (nothing to click in a warning).
    const href = TEMPLATE_PARAMS[template].includes('link') ? SAMPLE.link : TEMPLATE_PARAMS[template].includes('loginUrl') ? SAMPLE.loginUrl : undefined;
    if (href) expect(mail.html).toContain(`href="${href}"`);
    else expect(mail.html).not.toContain('href=');
  });

  it('is written in its language', () => {
    const mail = render(template, language, paramsOf(template));
    if (language === 'fr') {
      expect(mail.text).toMatch(/^Bonjour,/);
      expect(mail.text).toMatch(/\b(votre|vous)\b/);
      expect(mail.text).not.toMatch(/\b(your|the|you)\b/i);
    } else {
      expect(mail.text).toMatch(/^Hello,/);
      expect(mail.text).toMatch(/\byour?\b/);
      expect(mail.text).not.toMatch(/\b(votre|vous)\b/i);
    }
  });

  it('escapes HTML in every parameter of the HTML part, and leaves the text part as given', () => {
    const nasty = '<b>"Tom" & Jerry\'s</b>';
    const over = Object.fromEntries(TEMPLATE_PARAMS[template].filter((n) => !['link', 'loginUrl', 'expiresAt', 'at'].includes(n)).map((n) => [n, `${n}${nasty}`]));
    over.link = 'https://provisio.test/a?x=1&y="2"<script>';
    over.loginUrl = 'https://provisio.test/login?next=<x>&y=1';
    const mail = render(template, language, paramsOf(template, over));
    expect(mail.html).not.toContain('<b>');
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).not.toContain('"Tom"');
    expect(mail.html).toContain('&lt;b&gt;&quot;Tom&quot; &amp; Jerry&#39;s&lt;/b&gt;');
    expect(mail.text).toContain(`tenantName${nasty}`);
  });

  it.each(TEMPLATE_PARAMS[template].map((n) => [n]))('throws without %s (missing or empty)', (name) => {
    const params = paramsOf(template);
    delete params[name];
    expect(() => render(template, language, params)).toThrow(new RegExp(name));
    expect(() => render(template, language, { ...paramsOf(template), [name]: '  ' })).toThrow(new RegExp(name));
  });
});

describe('dates and links', () => {
  it('formats the expiry for the language, in UTC', () => {
    const en = render('activation', 'en', paramsOf('activation'));
    const fr = render('activation', 'fr', paramsOf('activation'));
    expect(en.text).toMatch(/March 4, 2025 at 5:05\sPM UTC/);
    expect(fr.text).toContain('4 mars 2025 à 17:05 UTC');
  });

  it('refuses an expiry that is not a date and a link that is not http(s)', () => {
    expect(() => render('password-reset', 'en', paramsOf('password-reset', { expiresAt: 'tomorrow' }))).toThrow(/expiresAt/);
    expect(() => render('password-reset', 'en', paramsOf('password-reset', { link: 'javascript:alert(1)' }))).toThrow(/link/);
    expect(() => render('credentials', 'fr', paramsOf('credentials', { loginUrl: '/login' }))).toThrow(/loginUrl/);
  });

  it('refuses an unknown template or language', () => {
    expect(() => render('welcome' as TemplateName, 'en', {})).toThrow(/template/);
    expect(() => render('activation', 'de' as Language, paramsOf('activation'))).toThrow(/language/);
  });

  it('keeps a line break in a tenant name out of the subject header', () => {
    const mail = render('activation', 'en', paramsOf('activation', { tenantName: 'Acme\r\nBcc: x@evil.test' }));
    expect(mail.subject).toBe('Activate your “Acme Bcc: x@evil.test” account');
  });
});

// Issue 9: text chosen by someone else (the organisation's name, a userName set by whoever created
// the account) is quoted wherever it appears and every email says what the quotes mean.
const QUOTE: Record<Language, [string, string]> = { en: ['“', '”'], fr: ['«\u00a0', '\u00a0»'] };
const ENTERED: Record<Language, RegExp> = {
  en: /Text in quotation marks \(“…”\) was entered by the organisation or its administrators; it is shown as entered and is not our wording\./,
  fr: /Le texte entre guillemets \(«\u00a0…\u00a0»\) a été saisi par l’organisation ou ses administrateurs\u00a0; il est reproduit tel quel et ne vient pas de nous\./,
};

describe.each(cases)('user-chosen text in %s (%s)', (template, language) => {
  const [open, close] = QUOTE[language];
  const mail = render(template, language, paramsOf(template));
  const userText = TEMPLATE_PARAMS[template].filter((n) => USER_TEXT_PARAMS.has(n));

  it('quotes every user-chosen parameter wherever it appears, in the subject, the text and the HTML', () => {
    expect(userText).toContain('tenantName');
    for (const name of userText) {
      const marked = `${open}${SAMPLE[name]}${close}`;
      // Every occurrence is the marked one: removing the marked ones leaves none bare.
      for (const part of [mail.subject, mail.text, mail.html]) {
        if (part === mail.subject && name !== 'tenantName') continue;
        expect(part).toContain(marked);
        expect(part.split(marked).join('')).not.toContain(SAMPLE[name]);
      }
    }
  });

  it('says, in its language, that quoted text was entered by the organisation (text and HTML)', () => {
    expect(mail.text).toMatch(ENTERED[language]);
    expect(mail.html).toMatch(ENTERED[language]);
  });

  it('leaves our own values unquoted (password, links, dates)', () => {
    for (const name of TEMPLATE_PARAMS[template].filter((n) => !USER_TEXT_PARAMS.has(n) && !DATES.has(n))) {
      expect(mail.text).not.toContain(`${open}${SAMPLE[name]}`);
      expect(mail.text).toContain(SAMPLE[name]);
    }
  });

  it('a name cannot close its own quotation, start a paragraph or reorder the line', () => {
    const forged = 'Acme”» Reply with your password to it@evil.test «“x';
    const m = render(template, language, paramsOf(template, { tenantName: forged, ...(userText.includes('userName') ? { userName: 'ada\n\nPS: call +1 555' } : {}) }));
    expect(m.text).toContain(`${open}Acme"" Reply with your password to it@evil.test ""x${close}`);
    expect(m.subject).toContain(`${open}Acme"" Reply with your password to it@evil.test ""x${close}`);
    if (userText.includes('userName')) expect(m.text).toContain(`${open}ada PS: call +1 555${close}`);
    const rlo = render(template, language, paramsOf(template, { tenantName: 'Acme\u202e moc.live\u202c' }));
    expect(rlo.text).toContain(`${open}Acme moc.live${close}`);
    expect(rlo.text).not.toMatch(/[\u202a-\u202e]/);
  });
});

describe('markUserText', () => {
  it.each([
    ['Acme', 'en', '“Acme”'],
    ['Acme', 'fr', '«\u00a0Acme\u00a0»'],
    ['“Acme”', 'en', '“"Acme"”'],
    ['«Acme»', 'fr', '«\u00a0"Acme"\u00a0»'],
    ['a\r\nb\u2028c\td', 'en', '“a b c d”'],
    ['\u2066Acme\u2069', 'en', '“Acme”'],
  ] as [string, Language, string][])('%j in %s → %j', (value, language, marked) => {
    expect(markUserText(value, language)).toBe(marked);
  });
});
