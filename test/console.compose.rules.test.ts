/**
 * Issue 11: the Compose page checks a body in the browser with the templates' rules
 * (web/src/pages/compose/templates.ts) so that every problem shows at once before sending. Here
 * its verdict is held against the node's own (modules/templates bodyProblems), field by field, for
 * every template the catalog offers: the same fields are wrong on both sides.
 */
import { describe, expect, it } from 'vitest';
import { templatesFor } from '../src/modules/messaging/messaging.offer.js';
import { bodyProblems } from '../src/modules/templates/templates.service.js';
import { isIndicator as nodeIsIndicator } from '../src/modules/templates/templates.values.js';
import { NODE_ADMIN } from '../src/modules/users/users.types.js';
import { fieldsOf, isIndicator, problemsOf, type RawValues, type TemplatesView } from '../web/src/pages/compose/templates.js';

const catalog = templatesFor(NODE_ADMIN) as unknown as TemplatesView;

function verdicts(kind: string, raw: RawValues, text = ''): { browser: string[]; node: string[] } {
  const t = catalog.templates.find((x) => x.kind === kind)!;
  const body = { template: t.id, fields: fieldsOf(t, raw), ...(text === '' ? {} : { text, lang: 'en' }) };
  return { browser: Object.keys(problemsOf(t, raw, text)).sort(), node: bodyProblems(kind, body).map((p) => p.field).sort() };
}

describe('the browser\'s checks agree with the node\'s', () => {
  it('an empty form: every required field (and required text) on both sides, for every template', () => {
    for (const t of catalog.templates) {
      const v = verdicts(t.kind, {});
      expect(v.browser, t.kind).toEqual(v.node);
    }
  });

  it('wrong values: out-of-range integer, bad indicator, reversed window, a refused undertaking, bad party and message id', () => {
    const alert = verdicts('crisis-alert', {
      incident_category: 'ddos', affected_sectors: ['energy'], requested_actions: ['mitigate'], confidence: 'high',
      observed_window: { from: '2026-12-05T10:00', to: '2026-12-05T09:00' }, affected_systems: '-1', indicators: '203.0.113.7 not_an_indicator!',
    });
    expect(alert.browser).toEqual(['affected_systems', 'indicators', 'observed_window']);
    expect(alert.browser).toEqual(alert.node);
    const request = verdicts('preservation-request', {
      requesting_authority: 'Prosecutor', offence: 'Fraud', summary_of_facts: 'x', data_to_preserve: 'logs', relation_to_offence: 'y',
      custodian_or_location: 'ISP', necessity: 'z', mla_to_follow: 'false', extension_of: 'not-a-uuid', extension_days: 'ten',
    });
    expect(request.browser).toEqual(['extension_days', 'extension_of', 'mla_to_follow']);
    expect(request.browser).toEqual(request.node);
    const inquiry = verdicts('inquiry', { on_behalf_of: 'Not A Party', respond_by: '2026-12-06T09:00' }, 'Please check.');
    expect(inquiry.browser).toEqual(['on_behalf_of']);
    expect(inquiry.browser).toEqual(inquiry.node);
  });

  it('required-if: a preservation response that preserved needs its reference and time; one that cannot preserve needs its reason', () => {
    const preserved = verdicts('preservation-response', { outcome: 'preserved' });
    expect(preserved.browser).toEqual(['preserved_at', 'reference']);
    expect(preserved.browser).toEqual(preserved.node);
    const refused = verdicts('preservation-response', { outcome: 'cannot_preserve' });
    expect(refused.browser).toEqual(['reason']);
    expect(refused.browser).toEqual(refused.node);
    const fits = verdicts('preservation-response', { outcome: 'cannot_preserve', reason: 'Data already deleted.' });
    expect(fits).toEqual({ browser: [], node: [] });
  });

  it('indicators: the same verdict as the node on addresses, prefixes, domains, URLs, e-mails, hashes and junk', () => {
    const samples = [
      '192.0.2.10', '198.51.100.0/24', '2001:db8::1', '2001:db8::/32', '10.0.0.0/33', '2001:db8::/129', 'c2.example.net', 'http://evil.example/x', 'ftp://a.example',
      'a@b.example', 'd41d8cd98f00b204e9800998ecf8427e', 'da39a3ee5e6b4b0d3255bfef95601890afd80709', 'not an indicator', 'localhost', '999.1.1.1', 'mailto:x', '',
      'https://', 'user@', '::1', '1.2.3', 'example', 'exa mple.com', 'xn--80ak6aa92e.com',
    ];
    for (const s of samples) expect(isIndicator(s), s).toBe(nodeIsIndicator(s));
  });
});
