// The transactional emails, in English and French, as plain text and HTML (docs/emails.md).
// Pure: no I/O, no clock. The outbox renders a message once, when it is enqueued, and stores the
// result sealed, so a resend after a crash carries exactly the same link (mail/outbox.ts).
//
// Every parameter is HTML-escaped in the HTML part (a tenant name like `<b>Acme & Co</b>` must
// not become markup), links must be http(s) URLs (no `javascript:` href), and a missing
// parameter throws instead of sending "undefined" to a person. test/unit/mail-templates.test.ts
// proves each of these for every template and language.
//
// Text someone else chose — the organisation's name, a userName set by whoever created the
// account — reaches people who did not choose it (the generated-credentials email goes to an
// administrator's address; every email carries the organisation's name). So it is marked
// (issue 9): always in quotation marks (“…” in English, « … » in French) that it cannot forge
// (quotation marks of that kind inside it become plain '"'), on one line (line breaks become
// spaces, bidirectional controls are dropped, so it cannot fake a paragraph or reorder what
// surrounds it), and every email ends by saying that quoted text was entered by the organisation
// and is not our wording.

export type Language = 'en' | 'fr';
export const LANGUAGES: readonly Language[] = ['en', 'fr'];

export type TemplateName =
  | 'activation'
  | 'credentials'
  | 'temporary-password'
  | 'password-reset'
  | 'verify-email'
  // Security notices (issue 10): to the notification email when set, else the sign-in email.
  | 'password-changed'
  | 'email-changed'
  | 'account-deactivated'
  | 'identity-linked';

/** The parameters each template needs; all are strings, all are required. */
export const TEMPLATE_PARAMS: Readonly<Record<TemplateName, readonly string[]>> = {
  activation: ['tenantName', 'link', 'expiresAt'],
  credentials: ['tenantName', 'userName', 'password', 'loginUrl'],
  'temporary-password': ['tenantName', 'userName', 'password', 'loginUrl'],
  'password-reset': ['tenantName', 'link', 'expiresAt'],
  'verify-email': ['tenantName', 'link', 'expiresAt'],
  'password-changed': ['tenantName', 'at'],
  'email-changed': ['tenantName', 'newEmail', 'at'],
  'account-deactivated': ['tenantName', 'at'],
  'identity-linked': ['tenantName', 'issuer', 'at'],
};

export const TEMPLATE_NAMES = Object.keys(TEMPLATE_PARAMS) as TemplateName[];

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** Parameters whose text the organisation or its people chose: quoted and marked (above). */
export const USER_TEXT_PARAMS: ReadonlySet<string> = new Set(['tenantName', 'userName', 'newEmail', 'issuer']);
/** Parameters that are put in an href, checked to be absolute http(s) URLs. */
const URL_PARAMS = new Set(['link', 'loginUrl']);
/** Parameters that are dates (ISO 8601), formatted for the language in UTC. */
const DATE_PARAMS = new Set(['expiresAt', 'at']);

/** A body is a list of blocks; text and HTML are both made from it, so they never drift apart. */
type Block =
  | { kind: 'p'; text: string }
  | { kind: 'button'; label: string; url: string }
  | { kind: 'fields'; rows: [label: string, value: string][] }
  | { kind: 'small'; text: string };

interface Definition {
  subject: (p: Record<string, string>) => string;
  body: (p: Record<string, string>) => Block[];
}

// French typography puts a no-break space before ":" (and the like); written out as \u00a0.
const NB = '\u00a0';

const COPY: Record<Language, { hello: string; colon: string; fallback: string; automated: string; open: string; close: string; entered: string }> = {
  en: {
    colon: ': ',
    hello: 'Hello,',
    fallback: 'If the button does not work, copy this address into your browser:',
    automated: 'This email was sent automatically; replies are not read.',
    open: '“',
    close: '”',
    entered: 'Text in quotation marks (“…”) was entered by the organisation or its administrators; it is shown as entered and is not our wording.',
  },
  fr: {
    colon: `${NB}: `,
    hello: 'Bonjour,',
    fallback: `Si le bouton ne fonctionne pas, copiez cette adresse dans votre navigateur${NB}:`,
    automated: `Ce message a été envoyé automatiquement${NB}; les réponses ne sont pas lues.`,
    open: `«${NB}`,
    close: `${NB}»`,
    entered: `Le texte entre guillemets («${NB}…${NB}») a été saisi par l’organisation ou ses administrateurs${NB}; il est reproduit tel quel et ne vient pas de nous.`,
  },
};

// The quotation marks that open and close marked text, in either language; inside marked text
// they become '"' so that it cannot close its own quotation early.
const MARKS = /[“”«»„‟〝〞＂]/g;
// Bidirectional controls (RLO, LRI, …): they could make the text after the closing mark look
// as if it were inside, or the reverse.
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// Line breaks and other control characters: marked text stays on one line.
const CONTROL = /[\p{Cc}\u2028\u2029]+/gu;

/** Text chosen by someone else, quoted for the language (USER_TEXT_PARAMS). */
export function markUserText(value: string, language: Language): string {
  const copy = COPY[language];
  const clean = value.replace(BIDI, '').replace(CONTROL, ' ').replace(MARKS, '"').trim();
  return `${copy.open}${clean}${copy.close}`;
}

const TEMPLATES: Record<TemplateName, Record<Language, Definition>> = {
  activation: {
    en: {
      subject: (p) => `Activate your ${p.tenantName} account`,
      body: (p) => [
        { kind: 'p', text: `An account has been created for you at ${p.tenantName}. To activate it and choose your password, open this link:` },
        { kind: 'button', label: 'Activate my account', url: p.link },
        { kind: 'p', text: `The link can be used once and expires on ${p.expiresAt}.` },
        { kind: 'small', text: 'If you were not expecting this email, you can ignore it.' },
      ],
    },
    fr: {
      subject: (p) => `Activez votre compte ${p.tenantName}`,
      body: (p) => [
        { kind: 'p', text: `Un compte a été créé pour vous chez ${p.tenantName}. Pour l’activer et choisir votre mot de passe, ouvrez ce lien${NB}:` },
        { kind: 'button', label: 'Activer mon compte', url: p.link },
        { kind: 'p', text: `Ce lien ne peut servir qu’une fois et expire le ${p.expiresAt}.` },
        { kind: 'small', text: 'Si vous n’attendiez pas ce message, vous pouvez l’ignorer.' },
      ],
    },
  },
  credentials: {
    en: {
      subject: (p) => `Your sign-in details for ${p.tenantName}`,
      body: (p) => [
        { kind: 'p', text: `An account has been created for you at ${p.tenantName}. Here are your sign-in details:` },
        { kind: 'fields', rows: [['User name', p.userName], ['Password', p.password]] },
        { kind: 'button', label: 'Sign in', url: p.loginUrl },
        { kind: 'small', text: 'Keep this password to yourself and delete this email once you have signed in.' },
      ],
    },
    fr: {
      subject: (p) => `Vos identifiants de connexion pour ${p.tenantName}`,
      body: (p) => [
        { kind: 'p', text: `Un compte a été créé pour vous chez ${p.tenantName}. Voici vos identifiants de connexion${NB}:` },
        { kind: 'fields', rows: [['Identifiant', p.userName], ['Mot de passe', p.password]] },
        { kind: 'button', label: 'Se connecter', url: p.loginUrl },
        { kind: 'small', text: 'Ne communiquez ce mot de passe à personne et supprimez ce message une fois connecté.' },
      ],
    },
  },
  'temporary-password': {
    en: {
      subject: (p) => `Your ${p.tenantName} password has been reset`,
      body: (p) => [
        { kind: 'p', text: `An administrator of ${p.tenantName} has reset your password. Sign in with this temporary password:` },
        { kind: 'fields', rows: [['User name', p.userName], ['Temporary password', p.password]] },
        { kind: 'button', label: 'Sign in', url: p.loginUrl },
        { kind: 'p', text: 'You will be asked to choose a new password when you sign in.' },
        { kind: 'small', text: 'If you did not ask for this, contact your administrator.' },
      ],
    },
    fr: {
      subject: (p) => `Votre mot de passe ${p.tenantName} a été réinitialisé`,
      body: (p) => [
        { kind: 'p', text: `Un administrateur de l’organisation ${p.tenantName} a réinitialisé votre mot de passe. Connectez-vous avec ce mot de passe temporaire${NB}:` },
        { kind: 'fields', rows: [['Identifiant', p.userName], ['Mot de passe temporaire', p.password]] },
        { kind: 'button', label: 'Se connecter', url: p.loginUrl },
        { kind: 'p', text: 'Vous devrez choisir un nouveau mot de passe lors de votre connexion.' },
        { kind: 'small', text: 'Si vous n’êtes pas à l’origine de cette demande, contactez votre administrateur.' },
      ],
    },
  },
  'password-reset': {
    en: {
      subject: (p) => `Reset your ${p.tenantName} password`,
      body: (p) => [
        { kind: 'p', text: `We received a request to reset the password of your ${p.tenantName} account. To choose a new password, open this link:` },
        { kind: 'button', label: 'Choose a new password', url: p.link },
        { kind: 'p', text: `The link can be used once and expires on ${p.expiresAt}.` },
        { kind: 'small', text: 'If you did not ask for this, ignore this email: your password has not changed.' },
      ],
    },
    fr: {
      subject: (p) => `Réinitialisez votre mot de passe ${p.tenantName}`,
      body: (p) => [
        { kind: 'p', text: `Nous avons reçu une demande de réinitialisation du mot de passe de votre compte ${p.tenantName}. Pour choisir un nouveau mot de passe, ouvrez ce lien${NB}:` },
        { kind: 'button', label: 'Choisir un nouveau mot de passe', url: p.link },
        { kind: 'p', text: `Ce lien ne peut servir qu’une fois et expire le ${p.expiresAt}.` },
        { kind: 'small', text: `Si vous n’êtes pas à l’origine de cette demande, ignorez ce message${NB}: votre mot de passe n’a pas changé.` },
      ],
    },
  },
  'verify-email': {
    en: {
      subject: (p) => `Confirm your email address for ${p.tenantName}`,
      body: (p) => [
        { kind: 'p', text: `This address is now the sign-in email of your ${p.tenantName} account. To confirm that it is yours, open this link:` },
        { kind: 'button', label: 'Confirm my email address', url: p.link },
        { kind: 'p', text: `The link can be used once and expires on ${p.expiresAt}.` },
        { kind: 'small', text: 'If you were not expecting this email, contact your administrator.' },
      ],
    },
    fr: {
      subject: (p) => `Confirmez votre adresse e-mail pour ${p.tenantName}`,
      body: (p) => [
        { kind: 'p', text: `Cette adresse est désormais l’e-mail de connexion de votre compte ${p.tenantName}. Pour confirmer qu’elle est bien la vôtre, ouvrez ce lien${NB}:` },
        { kind: 'button', label: 'Confirmer mon adresse', url: p.link },
        { kind: 'p', text: `Ce lien ne peut servir qu’une fois et expire le ${p.expiresAt}.` },
        { kind: 'small', text: 'Si vous n’attendiez pas ce message, contactez votre administrateur.' },
      ],
    },
  },  // A security notice says what happened and when, and what to do if it was not you.
  'password-changed': {
    en: {
      subject: (p) => `Your ${p.tenantName} password was changed`,
      body: (p) => [
        { kind: 'p', text: `The password of your ${p.tenantName} account was changed on ${p.at}.` },
        { kind: 'small', text: 'If you did not do this, contact your administrator at once.' },
      ],
    },
    fr: {
      subject: (p) => `Votre mot de passe ${p.tenantName} a été modifié`,
      body: (p) => [
        { kind: 'p', text: `Le mot de passe de votre compte ${p.tenantName} a été modifié le ${p.at}.` },
        { kind: 'small', text: 'Si vous n’êtes pas à l’origine de ce changement, contactez sans attendre votre administrateur.' },
      ],
    },
  },
  'email-changed': {
    en: {
      subject: (p) => `The sign-in email of your ${p.tenantName} account changed`,
      body: (p) => [
        { kind: 'p', text: `On ${p.at}, the sign-in email of your ${p.tenantName} account became ${p.newEmail}.` },
        { kind: 'small', text: 'If you did not expect this, contact your administrator at once.' },
      ],
    },
    fr: {
      subject: (p) => `L’e-mail de connexion de votre compte ${p.tenantName} a changé`,
      body: (p) => [
        { kind: 'p', text: `Le ${p.at}, l’e-mail de connexion de votre compte ${p.tenantName} est devenu ${p.newEmail}.` },
        { kind: 'small', text: 'Si vous ne vous y attendiez pas, contactez sans attendre votre administrateur.' },
      ],
    },
  },
  'account-deactivated': {
    en: {
      subject: (p) => `Your ${p.tenantName} account was switched off`,
      body: (p) => [
        { kind: 'p', text: `Your ${p.tenantName} account was switched off on ${p.at}: you can no longer sign in, and your open sessions have ended.` },
        { kind: 'small', text: 'If you think this is a mistake, contact your administrator.' },
      ],
    },
    fr: {
      subject: (p) => `Votre compte ${p.tenantName} a été désactivé`,
      body: (p) => [
        { kind: 'p', text: `Votre compte ${p.tenantName} a été désactivé le ${p.at}${NB}: vous ne pouvez plus vous connecter et vos sessions ouvertes ont pris fin.` },
        { kind: 'small', text: 'Si vous pensez qu’il s’agit d’une erreur, contactez votre administrateur.' },
      ],
    },
  },
  'identity-linked': {
    en: {
      subject: (p) => `A sign-in was linked to your ${p.tenantName} account`,
      body: (p) => [
        { kind: 'p', text: `On ${p.at}, an account at your organisation's identity provider ${p.issuer} was linked to your ${p.tenantName} account: it can sign you in from now on.` },
        { kind: 'small', text: 'If you did not do this, contact your administrator at once.' },
      ],
    },
    fr: {
      subject: (p) => `Une connexion a été liée à votre compte ${p.tenantName}`,
      body: (p) => [
        { kind: 'p', text: `Le ${p.at}, un compte du fournisseur d’identité de votre organisation ${p.issuer} a été lié à votre compte ${p.tenantName}${NB}: il peut désormais vous connecter.` },
        { kind: 'small', text: 'Si vous n’êtes pas à l’origine de ce lien, contactez sans attendre votre administrateur.' },
      ],
    },
  },
};


export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** "March 4, 2025 at 5:05 PM UTC" / "4 mars 2025 à 17:05 UTC": the reader's language, in UTC. */
export function formatDate(iso: string, language: Language): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new Error(`Mail parameter expiresAt is not a date: ${iso}`);
  return `${dateFormat(language).format(date)} UTC`;
}

// Building an Intl.DateTimeFormat costs ~40 µs, a third of rendering an email: each language's
// formatter is made once (immutable, so sharing it is safe). Measured for POST /Users, which
// queues an activation email per user (docs/performance.md).
const DATE_FORMATS = new Map<Language, Intl.DateTimeFormat>();
function dateFormat(language: Language): Intl.DateTimeFormat {
  let f = DATE_FORMATS.get(language);
  if (!f) DATE_FORMATS.set(language, (f = new Intl.DateTimeFormat(language, { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' })));
  return f;
}

function prepare(template: TemplateName, language: Language, params: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of TEMPLATE_PARAMS[template]) {
    const value = params[name];
    if (typeof value !== 'string' || value.trim() === '') throw new Error(`Mail template ${template} needs the parameter ${name}`);
    if (URL_PARAMS.has(name) && !/^https?:\/\/[^\s]+$/i.test(value)) throw new Error(`Mail parameter ${name} of ${template} must be an http(s) URL`);
    out[name] = DATE_PARAMS.has(name) ? formatDate(value, language) : USER_TEXT_PARAMS.has(name) ? markUserText(value, language) : value;
  }
  return out;
}

function toText(language: Language, blocks: Block[]): string {
  const copy = COPY[language];
  const parts = [copy.hello];
  for (const b of blocks) {
    if (b.kind === 'p' || b.kind === 'small') parts.push(b.text);
    else if (b.kind === 'button') parts.push(b.url);
    else parts.push(b.rows.map(([label, value]) => `${label}${copy.colon}${value}`).join('\n'));
  }
  return parts.join('\n\n') + '\n';
}

function toHtml(language: Language, subject: string, blocks: Block[]): string {
  const copy = COPY[language];
  const e = escapeHtml;
  const body: string[] = [`<p>${e(copy.hello)}</p>`];
  for (const b of blocks) {
    if (b.kind === 'p') body.push(`<p>${e(b.text)}</p>`);
    else if (b.kind === 'small') body.push(`<p style="color:#555;font-size:13px">${e(b.text)}</p>`);
    else if (b.kind === 'fields') {
      const rows = b.rows.map(([label, value]) => `<tr><td style="padding:2px 12px 2px 0">${e(label)}</td><td style="font-family:monospace">${e(value)}</td></tr>`);
      body.push(`<table role="presentation" style="border-collapse:collapse">${rows.join('')}</table>`);
    } else {
      body.push(
        `<p><a href="${e(b.url)}" style="display:inline-block;padding:10px 18px;background:#1a56db;color:#fff;text-decoration:none;border-radius:4px">${e(b.label)}</a></p>`,
        `<p style="color:#555;font-size:13px">${e(copy.fallback)}<br><a href="${e(b.url)}">${e(b.url)}</a></p>`,
      );
    }
  }
  body.push(`<p style="color:#888;font-size:12px">${e(copy.automated)}</p>`);
  return (
    `<!DOCTYPE html>\n<html lang="${language}"><head><meta charset="utf-8"><title>${e(subject)}</title></head>\n` +
    `<body style="font-family:Arial,Helvetica,sans-serif;line-height:1.5;color:#222;max-width:600px">\n${body.join('\n')}\n</body></html>\n`
  );
}

/**
 * Renders one email. Throws on an unknown template or language, a missing or empty parameter, a
 * link that is not an http(s) URL, or an expiry that is not a date.
 */
export function render(template: TemplateName, language: Language, params: Record<string, string>): RenderedMail {
  if (!Object.hasOwn(TEMPLATES, template)) throw new Error(`Unknown mail template: ${template}`);
  if (!LANGUAGES.includes(language)) throw new Error(`Unknown mail language: ${language}`);
  const def = TEMPLATES[template][language];
  const p = prepare(template, language, params);
  // A header cannot hold a line break; a tenant name with one must not start a new header.
  const subject = def.subject(p).replace(/[\r\n]+/g, ' ').trim();
  const blocks = def.body(p);
  if (TEMPLATE_PARAMS[template].some((n) => USER_TEXT_PARAMS.has(n))) blocks.push({ kind: 'small', text: COPY[language].entered });
  return { subject, text: toText(language, blocks), html: toHtml(language, subject, blocks) };
}
