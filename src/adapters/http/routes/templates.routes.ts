import { Type } from '@sinclair/typebox';
import { oneOf, type Api } from '../typed.js';
import type { NodeContext } from '../../../context.js';
import { KINDS } from '../../../modules/federation/federation.types.js';
import { offeredKinds, previewBody, templatesFor } from '../../../modules/messaging/messaging.offer.js';
import { requireLanguage, templateCatalog } from '../../../modules/templates/templates.service.js';
import { fail } from '../../../shared/errors.js';
import { authenticate, principalOf } from '../auth.js';

const PreviewBody = Type.Object({
  kind: oneOf(KINDS, { description: 'A kind the caller may send on one of its channels' }),
  body: Type.Object({
    fields: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "The kind's template fields" })),
    text: Type.Optional(Type.String({ description: "Free text in the writer's language" })),
    lang: Type.Optional(Type.String({ description: 'Language tag of the free text' })),
  }, { additionalProperties: false }),
  lang: Type.String({ description: "The language to render in: the receiving officer's (one the templates have labels for)" }),
}, { additionalProperties: false });

/**
 * The message templates as data, for forms generated from them (the console's Compose page), and
 * a preview of a body as the receiving node renders it. Only the kinds the caller may send on the
 * channels it holds (a cert officer sees no law kinds).
 */
export function templatesRoutes(app: Api, ctx: NodeContext): void {
  const auth = { onRequest: authenticate(ctx) };
  const security = [{ bearer: [] }];
  const tags = ['templates'];

  app.get('/api/v1/templates', {
    ...auth,
    schema: {
      tags, security,
      summary: 'The kinds the caller may send per channel it holds, each with its template: fields, types, vocabularies with labels in every language, required-if rules',
    },
  }, async (req) => templatesFor(principalOf(req), templateCatalog()));

  app.post('/api/v1/templates/preview', {
    ...auth,
    schema: {
      tags, security, body: PreviewBody,
      summary: "A body rendered as the receiver's node shows it in a language (labels and codes), with every problem the send would be refused for (nothing is sent)",
    },
  }, async (req) => {
    const b = req.body;
    const lang = requireLanguage(b.lang);
    if (!offeredKinds(principalOf(req)).has(b.kind)) {
      fail('forbidden', `"${principalOf(req).user}" may not send ${b.kind} messages on any channel it holds (${principalOf(req).channels.join(', ') || 'none'})`);
    }
    const catalog = templateCatalog();
    const t = catalog.templates.get(b.kind);
    const body = { ...(t === undefined ? {} : { template: t.id }), fields: b.body.fields ?? {}, ...(b.body.text === undefined ? {} : { text: b.body.text }), ...(b.body.lang === undefined ? {} : { lang: b.body.lang }) };
    return previewBody(b.kind, body, lang, catalog);
  });
}
