// Tenant settings (issue 11, "Settings (credentials email, default activation mode, privacy
// policy version, language, group-kind rules)"; the tenant's own privacy policy link or text) over GET/PATCH /settings. Only what changed is
// sent, so the audit entry (settings.update) names what the admin changed. Group-kind rules are
// rows of kind / match / value; a row left empty is dropped, and two empty rows are always offered
// so rules can be added without scripts. Tenant-wide only (docs/admin-api.md, "Settings").
// Whom to contact (supportContact: a name, and an email and/or phone) is three fields sent as one
// object, or null when all three are emptied. test/api/console-admin-pages.test.ts, "Settings";
// test/api/support-contact.test.ts.
import type { Request, Response } from 'express';
import { formValue, formValues, type ConsoleKit, type ConsolePage } from '../kit';
import { fieldProblems, refused } from './admin-forms';

const FIELDS = ['credentialsEmail', 'activationMode', 'privacyPolicyVersion', 'privacyPolicyUrl', 'privacyPolicyText', 'language', 'groupKindRules', 'supportContact'] as const;
/** The API's field names of supportContact → the form's fields. */
const SUPPORT_FIELDS: Record<string, string> = { supportContact: 'supportContactName', 'supportContact.name': 'supportContactName', 'supportContact.email': 'supportContactEmail', 'supportContact.phone': 'supportContactPhone' };
const BLANK_ROWS = 2;

interface Rule {
  kind: string;
  match: 'prefix' | 'pattern';
  value: string;
}
interface Values {
  credentialsEmail: string;
  activationMode: string;
  privacyPolicyVersion: string;
  privacyPolicyUrl: string;
  privacyPolicyText: string;
  language: string;
  supportContactName: string;
  supportContactEmail: string;
  supportContactPhone: string;
  rules: Rule[];
}

const fromApi = (s: Record<string, any>): Values => ({
  credentialsEmail: s.credentialsEmail ?? '',
  activationMode: s.activationMode,
  privacyPolicyVersion: s.privacyPolicyVersion ?? '',
  privacyPolicyUrl: s.privacyPolicyUrl ?? '',
  privacyPolicyText: s.privacyPolicyText ?? '',
  language: s.language,
  supportContactName: s.supportContact?.name ?? '',
  supportContactEmail: s.supportContact?.email ?? '',
  supportContactPhone: s.supportContact?.phone ?? '',
  rules: (s.groupKindRules ?? []).map((r: Record<string, string>) => ({ kind: r.kind, match: 'prefix' in r ? 'prefix' : 'pattern', value: r.prefix ?? r.pattern })),
});

function fromForm(req: Request): Values {
  const kinds = formValues(req, 'ruleKind');
  const matches = formValues(req, 'ruleMatch');
  const vals = formValues(req, 'ruleValue');
  const rules: Rule[] = [];
  vals.forEach((value, i) => {
    if (value.trim() === '') return;
    rules.push({ kind: kinds[i] ?? 'group', match: matches[i] === 'pattern' ? 'pattern' : 'prefix', value });
  });
  return {
    credentialsEmail: formValue(req, 'credentialsEmail').trim(),
    activationMode: formValue(req, 'activationMode'),
    privacyPolicyVersion: formValue(req, 'privacyPolicyVersion').trim(),
    privacyPolicyUrl: formValue(req, 'privacyPolicyUrl').trim(),
    // Line endings as browsers send them (CRLF) are kept as typed; only surrounding space goes.
    privacyPolicyText: formValue(req, 'privacyPolicyText').trim(),
    language: formValue(req, 'language'),
    supportContactName: formValue(req, 'supportContactName').trim(),
    supportContactEmail: formValue(req, 'supportContactEmail').trim(),
    supportContactPhone: formValue(req, 'supportContactPhone').trim(),
    rules,
  };
}

const rulesJson = (rules: Rule[]) => rules.map((r) => ({ kind: r.kind, [r.match]: r.value }));

function page(kit: ConsoleKit, req: Request, res: Response, values: Values, errors: Record<string, string> = {}, message?: string, status = 200) {
  const c = kit.ctx(res);
  const rows = [...values.rules, ...Array.from({ length: BLANK_ROWS }, () => ({ kind: 'subAccount', match: 'prefix' as const, value: '' }))];
  kit.render(req, res, 'console/settings/index', { title: c.t('settings:title'), values, rows, errors, message }, status);
}

export const settingsPage: ConsolePage = {
  nav: { path: '/settings', label: 'nav.settings', order: 110, tenantWideOnly: true },
  routes(router, kit) {
    router.get(
      '/settings',
      kit.wrap(async (req, res) => {
        const answer = await kit.api(req).get('/settings');
        if (!answer.ok) return refused(kit, req, res, answer);
        page(kit, req, res, fromApi(answer.body));
      }),
    );

    router.post(
      '/settings',
      kit.wrap(async (req, res) => {
        const api = kit.api(req);
        const current = await api.get('/settings');
        if (!current.ok) return refused(kit, req, res, current);
        const was = fromApi(current.body);
        const now = fromForm(req);
        const change: Record<string, unknown> = {};
        if (now.credentialsEmail !== was.credentialsEmail) change.credentialsEmail = now.credentialsEmail || null;
        if (now.activationMode !== was.activationMode) change.activationMode = now.activationMode;
        if (now.privacyPolicyVersion !== was.privacyPolicyVersion) change.privacyPolicyVersion = now.privacyPolicyVersion || null;
        if (now.privacyPolicyUrl !== was.privacyPolicyUrl) change.privacyPolicyUrl = now.privacyPolicyUrl || null;
        if (now.privacyPolicyText !== was.privacyPolicyText.trim()) change.privacyPolicyText = now.privacyPolicyText || null;
        if (now.language !== was.language) change.language = now.language;
        const support = ['supportContactName', 'supportContactEmail', 'supportContactPhone'] as const;
        if (support.some((k) => now[k] !== was[k])) {
          // All three emptied: unset (the pages name the organisation again).
          change.supportContact = support.every((k) => now[k] === '') ? null : { name: now.supportContactName, email: now.supportContactEmail || null, phone: now.supportContactPhone || null };
        }
        if (JSON.stringify(rulesJson(now.rules)) !== JSON.stringify(rulesJson(was.rules))) change.groupKindRules = rulesJson(now.rules);
        if (!Object.keys(change).length) return kit.done(res, '/settings', 'settings.unchanged');
        const answer = await api.send('PATCH', '/settings', change);
        if (!answer.ok) {
          if (answer.status !== 400) return refused(kit, req, res, answer);
          const p = fieldProblems(kit, res, answer, FIELDS);
          const fields = Object.fromEntries(Object.entries(p.fields).map(([k, v]) => [SUPPORT_FIELDS[k] ?? k, v]));
          return page(kit, req, res, now, fields, p.message, 400);
        }
        kit.done(res, '/settings', 'settings.saved');
      }),
    );
  },
};
